// Tools in a conversation its owner added the agent to with tools "none"
// (ConversationTools.NONE): a real toolbox on a workspace on disk, never
// loaded with tools, whose gate answers that it holds none. No function is
// offered there, and a call the model makes anyway is refused before the gate.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@convos-pool/kit/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Workspace } from "../../platform/workspace.js";
import { AgentToolbox } from "./toolbox.js";

let dir: string;
let toolsHere: boolean;
let toolbox: AgentToolbox;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolbox-conversations-"));
  const ws = new Workspace(dir, "inst_tools_here");
  await ws.create();
  toolsHere = true;
  toolbox = new AgentToolbox({
    ws,
    log: createLogger("toolbox-conversations-test", { level: "silent" }),
    say: async () => "said",
    paid: async () => undefined,
    ownerName: () => "Saul",
    betweenTurns: (job) => job(),
    toolsHere: () => toolsHere,
  });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("a conversation without tools", () => {
  it("offers no function and refuses a call before the gate, whoever asks", async () => {
    toolsHere = false;
    expect(toolbox.functions()).toEqual([]);
    const owner = { id: "a".repeat(64), name: "Saul", role: "owner" } as const;
    await expect(toolbox.call("send_sms", { to: "+15550177011", text: "hi" }, owner as never)).resolves.toEqual({
      ok: false,
      error: "not done: my owner turned my tools off in this conversation",
    });
  });

  it("hands a call in a conversation with tools to the gate", async () => {
    const owner = { id: "a".repeat(64), name: "Saul", role: "owner" } as const;
    // Not loaded, the gate answers that it holds none: how this call is seen to reach it.
    await expect(toolbox.call("send_sms", { to: "+15550177011", text: "hi" }, owner as never)).resolves.toEqual({
      ok: false,
      error: "I hold no tools",
    });
  });
});
