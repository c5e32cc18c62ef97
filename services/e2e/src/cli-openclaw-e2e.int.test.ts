// An OpenClaw workspace imported with `pool import`, claimed with `pool
// claim` and answering in character, with every part real: the pool of
// services/claims's RealStack (PostgreSQL, the local XMTP node, templates,
// claims, lineage, a real instance host) behind a real gateway, agents
// talking to a local chat-completions server that records what they send, and
// a Convos conversation served by the real Convos CLI, whose own key the
// `pool` CLI signs with (keygen --from-convos): its person creates the
// template, claims it and talks to it.
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { contentFromJson, renderIdentity, type TemplateContentJson } from "@convos-pool/kit/content";
import { createLogger } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { RealStack } from "./real-stack.js";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { exportWorkspace, run, type ImportReport, type Io, type WorkspaceFile } from "@convos-pool/cli";
import { MARLOW_WORKSPACE } from "@convos-pool/cli/testing";

/** What the model says when the system prompt carries Marlow's SOUL, so the answer shows which prompt it got. */
const IN_CHARACTER = "Aye. Marlow here, navigator: the tide turns at six, so we sail at half past.";

let chat: ChatServer | undefined;
let stack: RealStack | undefined;
let gateway: RunningGateway | undefined;
let out: string[] = [];
let scratch: string;

/** Runs the CLI; `T` is the JSON the test expects it to print. */
async function pool<T>(...argv: string[]): Promise<T> {
  out = [];
  const err: string[] = [];
  const io: Io = {
    env: { POOL_URL: gateway!.url, POOL_KEY_FILE: join(scratch, "key.json") },
    cwd: scratch,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
  };
  const code = await run(["--json", ...argv], io);
  expect(code, `pool ${argv.join(" ")}: ${err.join("")}`).toBe(0);
  return JSON.parse(out.join("")) as T;
}

beforeAll(async () => {
  chat = await startChatServer((req) => {
    // The memory extraction after each turn (temperature 0): nothing to learn.
    if (req.body.temperature === 0) return '{"entries":[]}';
    const system = req.body.messages.find((m) => m.role === "system")?.content ?? "";
    return system.includes("**Role:** ship's navigator") ? IN_CHARACTER : "out of character";
  });
  stack = new RealStack({
    name: "openclaw-e2e",
    lockTimeoutMs: 120_000,
    conversationName: "Estuary crossing",
    logs: { host: () => {}, claims: () => {} },
    host: { llm: { baseUrl: chat.baseUrl, apiKey: "sk-local-test" } },
    claims: { pool: { target: 1, intervalMs: 200 } },
  });
  await stack.start();
  gateway = await startGateway({
    port: 0,
    host: "127.0.0.1",
    templatesUrl: stack.templates!.url,
    claimsUrl: stack.claims!.url,
    lineageUrl: stack.lineage!.url,
    credentials: stack.creds.gateway,
    databaseUrl: await createTestDatabase("openclaw_e2e_gateway"),
    log: createLogger("gateway", { level: "silent" }),
  });
  scratch = await mkdtemp(join(tmpdir(), "openclaw-e2e-"));
}, 150_000);

afterAll(async () => {
  await gateway?.close();
  await stack?.close();
  await chat?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 60_000);

describe("an OpenClaw workspace through the pool", () => {
  let template: TemplateContentJson & { id: string; creator_id: string };

  it("pool import --dry-run shows the template and its report and creates nothing; pool import creates it, signed by the key", {
    timeout: 60_000,
  }, async () => {
    const me = await pool<{ inbox_id: string }>("keygen", "--from-convos", join(stack!.dir, "cli", "home"));
    expect(me.inbox_id).toBe(stack!.ready.inboxId);

    const dry = await pool<{ content: TemplateContentJson; report: ImportReport }>(
      "import",
      MARLOW_WORKSPACE,
      "--dry-run",
    );
    expect(dry.content.soul?.identity?.role).toBe("ship's navigator of a small sailing crew");
    expect(dry.report.unmapped.map((n) => n.from)).toEqual(
      expect.arrayContaining(["USER.md", "HEARTBEAT.md", "IDENTITY.md Emoji"]),
    );
    expect((await pool<{ templates: { id: string }[] }>("mine")).templates).toEqual([]);

    const imported = await pool<{
      template: TemplateContentJson & { id: string; creator_id: string };
      report: ImportReport;
    }>("import", MARLOW_WORKSPACE);
    template = imported.template;
    expect(template.creator_id).toBe(stack!.ready.inboxId);
    expect(template.agent_name).toBe("Marlow");
    expect(template.soul).toEqual(dry.content.soul);
    expect(template.tools.map((t) => t.id)).toEqual(["sms"]);
    expect(imported.report).toEqual(dry.report);
    expect((await pool<{ templates: { id: string }[] }>("mine")).templates.map((t) => t.id)).toEqual([template.id]);
  });

  it("its agent, claimed into a conversation, runs on IDENTITY.md with the SOUL before the instructions, and answers there in character", {
    timeout: 90_000,
  }, async () => {
    const content = contentFromJson(template);
    const { instance_id: instanceId } = await pool<{ instance_id: string }>(
      "claim",
      template.id,
      stack!.ready.inviteUrl,
    );
    const agent = stack!.host!.instances.get(instanceId)!;

    const identity = await readFile(join(stack!.dir, "host", "instances", instanceId, "IDENTITY.md"), "utf8");
    expect(identity).toBe(renderIdentity(content));
    expect(identity).toMatch(
      /^# Marlow\n\n\*\*Role:\*\* ship's navigator of a small sailing crew\n\nweathered, dry, calm when the weather is not\n\n## Principles\n\n- \*\*Read the water/,
    );
    expect(identity.indexOf("## Principles")).toBeLessThan(identity.indexOf("## Instructions"));

    const from = await stack!.cli!.send("Marlow, when do we leave?");
    expect((await stack!.cli!.messageFrom(agent.inboxId, from, 30_000)).content).toBe(IN_CHARACTER);
    const turn = chat!.requests.filter((r) => r.body.temperature !== 0).at(-1)!;
    const system = turn.body.messages.find((m) => m.role === "system")!.content;
    expect(system).toContain(identity.trim());
    expect(system).not.toMatch(/Ada|Captain|Lisbon/);
  });

  it("pool export writes it back as a workspace of the four shared files", { timeout: 30_000 }, async () => {
    const into = join(scratch, "exported");
    const written = await pool<{ files: WorkspaceFile[] }>("export", template.id, into);
    expect(written.files.sort()).toEqual(["AGENTS.md", "IDENTITY.md", "SOUL.md", "TOOLS.md"]);
    expect((await readdir(into)).sort()).toEqual(["AGENTS.md", "IDENTITY.md", "SOUL.md", "TOOLS.md"]);
    const expected = exportWorkspace(template).files;
    for (const name of written.files) expect(await readFile(join(into, name), "utf8")).toBe(expected[name]);
    // A second export would overwrite them: refused.
    expect(
      await run(["export", template.id, into], {
        env: { POOL_URL: gateway!.url, POOL_KEY_FILE: join(scratch, "key.json") },
        cwd: scratch,
        stdout: () => {},
        stderr: () => {},
      }),
    ).toBe(1);
  });
});
