// MEMORY.md for each call to an OpenClaw gateway (provider.ts): OpenClaw
// reads the file at every call, and a turn that waits for its owner's answer
// calls the gateway again after another turn ran. Real: OpenClawProvider,
// its lock and its MEMORY.md on disk. Stand-in: the gateway, a
// chat-completions server that records MEMORY.md as it is when each call
// comes (as OpenClaw reads it then).
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TemplateContentSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { createLogger } from "@convos-pool/kit/server";
import {
  startChatServer,
  type ChatAnswer,
  type ChatServer,
  type RecordedRequest,
} from "@convos-pool/testing/chat-server";
import { Memory } from "../memory/store.js";
import { OfflineProvider } from "../model/offline.js";
import type { TurnInput } from "../model/turn.js";
import { MEMORY_MD, signedFiles } from "./files.js";
import { OpenClawProvider, type GatewayHandle } from "./provider.js";
import { SessionMarks } from "./sessions.js";

let dir: string;
let workspace: string;
let gateway: ChatServer;
/** MEMORY.md as each call found it, by the session that made the call. */
const seen: { user: string; memory: string }[] = [];
/** A turn's first call waits on this before the gateway answers with a tool call. */
let answerFirst: (r: RecordedRequest) => ChatAnswer | Promise<ChatAnswer>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "openclaw-lock-"));
  workspace = join(dir, "workspace");
  await mkdir(workspace, { recursive: true });
  await mkdir(join(dir, "state"), { recursive: true });
  gateway = await startChatServer(async (r) => {
    seen.push({ user: r.body.user ?? "", memory: await readFile(join(workspace, MEMORY_MD), "utf8") });
    return answerFirst(r);
  });
});
afterAll(async () => {
  await gateway?.close();
  await rm(dir, { recursive: true, force: true });
});

function provider(): OpenClawProvider {
  const files = signedFiles(create(TemplateContentSchema, { agentName: "Concierge", instructions: "Help." }));
  const g = {
    paths: { workspace },
    sessions: new SessionMarks(join(dir, "state")),
    inUse: 0,
    endpoint: async () => ({ baseUrl: gateway.baseUrl, token: "t" }),
  };
  const handle = { current: () => g, started: async () => g } as unknown as GatewayHandle;
  return new OpenClawProvider(
    { log: createLogger("lock-test", { level: "silent" }) } as never,
    handle,
    { expected: files, exclusive: (job) => job() },
    new OfflineProvider(),
  );
}

const turn = (conversationId: string, fact: string, callTool?: TurnInput["callTool"]): TurnInput => {
  const memory = new Memory();
  memory.add([{ kind: "personalization", text: fact, role: "owner", from: "saul" }]);
  return {
    model: "m",
    agentName: "Concierge",
    identity: "",
    context: "",
    memory,
    role: "owner",
    history: [{ role: "user", text: "hello", speaker: "owner", sender: "Saul", from: "saul", at: 1 }],
    reader: { kind: "person", conversationId, inboxId: "saul", owner: true },
    ...(callTool
      ? {
          callTool,
          functions: [{ name: "wait", description: "", parameters: { type: "object", properties: {}, required: [] } }],
        }
      : {}),
  };
};

describe("MEMORY.md for each call to the gateway", () => {
  it("is the calling turn's, also when a turn calls again after another turn ran while it waited", async () => {
    for (const f of Object.entries(
      signedFiles(create(TemplateContentSchema, { agentName: "Concierge", instructions: "Help." })),
    ))
      await writeFile(join(workspace, f[0]), f[1]);
    const p = provider();
    let release!: () => void;
    const parked = new Promise<void>((r) => (release = r));
    // A's turn calls a function that waits (an owner's answer); B's turn runs meanwhile.
    answerFirst = (r) =>
      r.body.tools && !r.body.messages.some((m) => m.role === "tool")
        ? { toolCalls: [{ name: "wait", arguments: {} }] }
        : "ok";
    const a = p.reply(
      turn("conv-a", "A's fact ⟦a⟧", async () => {
        await parked;
        return { ok: true, result: "answered" };
      }),
    );
    await expect.poll(() => seen.length).toBe(1);
    await p.reply(turn("conv-b", "B's fact ⟦b⟧"));
    release();
    await a;
    expect(seen.map((s) => [s.user, s.memory.includes("⟦a⟧"), s.memory.includes("⟦b⟧")])).toEqual([
      ["conversation-conv-a-owner", true, false],
      ["conversation-conv-b-owner", false, true],
      // A's second call, after B's turn wrote its own: A's again.
      ["conversation-conv-a-owner", true, false],
    ]);
  });
});
