// Questions in the owner's direct conversation (Permissions.approvals
// direct): a real toolbox on a workspace on disk, its conversation and its
// direct line recorded instead of sent. What the conversation reads (that
// the owner was asked, nothing of the act), what the direct conversation
// reads, which answers count, when it stops listening, and that nothing of
// the act is said in the group when the direct conversation cannot be
// reached.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApprovalPlace } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { resolvePermissions } from "@convos-pool/kit/content";
import { createLogger } from "@convos-pool/kit/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Workspace } from "../../platform/workspace.js";
import type { ApprovalButtons } from "../approvals/policy.js";
import type { DirectLine, Said } from "../approvals/questions.js";
import { AgentToolbox } from "./toolbox.js";

const STATEMENT = "Send a text\nTo: +15550177011\n\nmeet at the station\nAsked by: Ana (member)";
const REQUEST: Said = { id: "request-1", senderInboxId: "a".repeat(64) };

let dir: string;
let toolbox: AgentToolbox;
let said: { text: string; replyTo: Said | undefined }[];
let buttons: ApprovalButtons[];
let line: DirectLine & { asked: string[]; shown: ApprovalButtons[]; idles: number; reachable: boolean };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolbox-direct-"));
  const ws = new Workspace(dir, "inst_direct");
  await ws.create();
  said = [];
  buttons = [];
  line = {
    asked: [],
    shown: [],
    idles: 0,
    reachable: true,
    async ask(text) {
      if (!this.reachable) return undefined;
      this.asked.push(text);
      return `direct-${this.asked.length}`;
    },
    async buttons(b) {
      this.shown.push(b);
    },
    idle() {
      this.idles++;
    },
  };
  toolbox = new AgentToolbox({
    ws,
    log: createLogger("toolbox-direct-test", { level: "silent" }),
    approvalTimeoutMs: 60_000,
    say: async (text, _outside, replyTo) => {
      said.push({ text, replyTo });
      return `group-${said.length}`;
    },
    buttons: async (b) => buttons.push(b),
    direct: line,
    conversationName: () => "Weekend away",
    paid: async () => undefined,
    ownerName: () => "Saul",
    betweenTurns: (job) => job(),
  });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const chooseDirect = () => toolbox.setPermissions(resolvePermissions({ approvals: ApprovalPlace.DIRECT }));
const settle = () => new Promise((r) => setImmediate(r));

describe("a question where the owner chose to be asked directly", () => {
  it("is asked in the direct conversation, naming the conversation; the conversation reads only that the owner was asked", async () => {
    await chooseDirect();
    const answer = toolbox.ask(STATEMENT, REQUEST);
    await settle();
    expect(line.asked).toHaveLength(1);
    expect(line.asked[0]).toMatch(/^Saul, may I do this in “Weekend away”\?\n\nSend a text\nTo: \+15550177011/);
    expect(line.shown.map((b) => b.id)).toEqual(["direct-1"]);
    expect(line.shown[0]!.description).toContain("+15550177011");
    // The conversation: one note in reply to the request, nothing of the act, no buttons.
    expect(said).toEqual([
      { text: "I've asked Saul in our direct conversation; I'll go on once they answer.", replyTo: REQUEST },
    ]);
    expect(buttons).toEqual([]);
    // The web's list shows it as any question.
    expect(toolbox.waitingQuestions().map((q) => [q.id, q.statement])).toEqual([["direct-1", STATEMENT]]);

    // A reply to the note in the group answers nothing: it stated nothing. A reply to the question does.
    expect(toolbox.answer({ kind: "reply", to: "group-1", text: "yes" })).toBe(false);
    expect(toolbox.answer({ kind: "reply", to: "direct-1", text: "yes" })).toBe(true);
    await expect(answer).resolves.toBe("yes");
    expect(line.idles).toBe(1);
  });

  it("keeps listening while any question waits there: idle once the last is answered", async () => {
    await chooseDirect();
    const first = toolbox.ask("Save to your address book: Ana, number +15550177011");
    const second = toolbox.ask("Save to your address book: Bob, number +15550177012");
    await settle();
    expect(toolbox.answer({ kind: "reaction", to: "direct-1", emoji: "👎" })).toBe(true);
    await expect(first).resolves.toBe("no");
    expect(line.idles).toBe(0);
    expect(toolbox.answer({ kind: "tap", buttons: "direct-2", action: "approve:direct-2" })).toBe(true);
    await expect(second).resolves.toBe("yes");
    expect(line.idles).toBe(1);
  });

  it("says nothing of the act in the conversation when the direct conversation cannot be reached: not asked, not done", async () => {
    await chooseDirect();
    line.reachable = false;
    await expect(toolbox.ask(STATEMENT, REQUEST)).resolves.toBe("unasked");
    expect(said).toEqual([]);
    expect(buttons).toEqual([]);
    expect(toolbox.waitingForOwner).toBe(false);
  });

  it("is asked in the conversation, as always, until the owner chooses otherwise", async () => {
    const answer = toolbox.ask(STATEMENT, REQUEST);
    await settle();
    expect(line.asked).toEqual([]);
    expect(said[0]!.text).toMatch(/^Saul, may I do this\?\n\nSend a text\nTo: \+15550177011/);
    expect(buttons.map((b) => b.id)).toEqual(["group-1"]);
    toolbox.answer({ kind: "reply", to: "group-1", text: "no" });
    await expect(answer).resolves.toBe("no");
    expect(line.idles).toBe(0);
  });
});
