// The toolbox's question of its own (AgentToolbox.ask: a save to the address
// book, agent/conversation/address-book-requests.ts): a real toolbox on a workspace on
// disk; what it says is recorded instead of sent. Which answers count is
// approval.test.ts's; here, that ask() poses the question about the message
// it names, waits without a turn to park, and keeps the agent awake meanwhile.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@convos-pool/kit/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Workspace } from "../../platform/workspace.js";
import type { Said } from "../approvals/questions.js";
import { AgentToolbox } from "./toolbox.js";

let dir: string;
let toolbox: AgentToolbox;
const said: { text: string; replyTo: Said | undefined }[] = [];
let parked = 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolbox-ask-"));
  const ws = new Workspace(dir, "inst_ask");
  await ws.create();
  said.length = 0;
  parked = 0;
  toolbox = new AgentToolbox({
    ws,
    log: createLogger("toolbox-ask-test", { level: "silent" }),
    approvalTimeoutMs: 60_000,
    say: async (text, _outside, replyTo) => {
      said.push({ text, replyTo });
      return `question-${said.length}`;
    },
    paid: async () => undefined,
    ownerName: () => "Saul",
    betweenTurns: (job) => job(),
    park: (answer) => {
      parked++;
      return answer;
    },
  });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("the toolbox's question of its own", () => {
  it("is said in reply to the message it is about, parks no turn, and keeps the agent awake until it is answered", async () => {
    const about: Said = { id: "request-1", senderInboxId: "a".repeat(64) };
    expect(toolbox.waitingForOwner).toBe(false);
    const answer = toolbox.ask("Save to your address book: Ana, wallet 0x…", about);
    await new Promise((r) => setImmediate(r));
    expect(said).toEqual([
      {
        text: expect.stringMatching(
          /^Saul, may I do this\?\n\nSave to your address book: Ana, wallet 0x…\n\nReply to this message/,
        ),
        replyTo: about,
      },
    ]);
    expect(toolbox.waitingForOwner).toBe(true);
    // A reply to another message answers nothing; the owner's 👍 on the question does.
    expect(toolbox.answer({ kind: "reply", to: "request-1", text: "yes" })).toBe(false);
    expect(toolbox.answer({ kind: "reaction", to: "question-1", emoji: "👍" })).toBe(true);
    await expect(answer).resolves.toBe("yes");
    expect(toolbox.waitingForOwner).toBe(false);
    expect(parked).toBe(0);
  });

  it("a closed toolbox (a stop, a release, a sleep) answers it as no answer in time", async () => {
    const answer = toolbox.ask("Save to your address book: Bob, number +15550100111");
    await new Promise((r) => setImmediate(r));
    toolbox.close();
    await expect(answer).resolves.toBe("timeout");
  });
});
