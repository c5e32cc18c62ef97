// What the agent's voice sends (send.ts), in order, to a stand-in group that
// records each send: the encodings are the SDK's own (its native encoders),
// the group is a stand-in (no XMTP node). The e2e tests (roles-e2e,
// tools-e2e) show the same through the real Convos CLI.
import { parseEther } from "viem";
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import type { AgentGroup, Encoded } from "../../platform/xmtp.js";
import { Voice } from "./send.js";

const log = createLogger("voice-test", { level: "silent" });
const ASKED = { id: "m-asked", senderInboxId: "ana" };

/** A group of `members` that records what is sent: `type` (typeId or "reply to …"), and the JSON or text sent. */
function standIn(members: number, fail: string[] = []) {
  const sent: { what: string; body: unknown; push?: boolean; fallback?: string }[] = [];
  let n = 0;
  const read = (e: Encoded) => {
    const text = new TextDecoder().decode(e.content);
    return e.type?.authorityId === "convos.org" ? (JSON.parse(text) as unknown) : text;
  };
  const record = async (what: string, body: unknown, extra: object = {}) => {
    if (fail.includes(what)) throw new Error(`${what} failed`);
    sent.push({ what, body, ...extra });
    return `sent-${++n}`;
  };
  const group = {
    members: async () => Array.from({ length: members }, (_, i) => ({ inboxId: `member-${i}` })),
    sendReadReceipt: () => record("readReceipt", undefined),
    send: (e: Encoded, opts: { shouldPush: boolean }) =>
      record(e.type!.typeId, read(e), { push: opts.shouldPush, ...(e.fallback ? { fallback: e.fallback } : {}) }),
    sendReply: (r: { reference: string; referenceInboxId?: string; content: Encoded }) =>
      record(`reply to ${r.reference} of ${r.referenceInboxId} as ${r.content.type!.typeId}`, read(r.content)),
  } as unknown as AgentGroup;
  return { group, sent };
}

describe("a turn that answers a message", () => {
  it("in a group: read receipt, thinking start on the message, the answer as a reply naming its sender, thinking stop naming the answer", async () => {
    const { group, sent } = standIn(3);
    const turn = await new Voice({ group: () => group, log }).begin(group, ASKED);
    const id = await turn.reply("Sure.");
    await turn.end();
    const thinking = { targetMessageId: "m-asked", content: "Working on an answer" };
    expect(sent).toEqual([
      { what: "readReceipt", body: undefined },
      { what: "thinking", body: { state: "start", ...thinking }, push: false },
      { what: "reply to m-asked of ana as text", body: "Sure." },
      { what: "thinking", body: { state: "stop", ...thinking, resultMessageId: id }, push: false },
    ]);
  });

  it("with one person: the answer is a message of its own, markdown with its source as the fallback when it has structure", async () => {
    const { group, sent } = standIn(2);
    const turn = await new Voice({ group: () => group, log }).begin(group, ASKED);
    await turn.reply("Bring:\n- a tent\n- a stove");
    await turn.end();
    expect(sent[2]).toEqual({
      what: "markdown",
      body: "Bring:\n- a tent\n- a stove",
      push: true,
      fallback: "Bring:\n- a tent\n- a stove",
    });
  });

  it("says in the form of the turn a call belongs to, though another turn began since (a turn parked for its owner's answer)", async () => {
    const { group, sent } = standIn(4);
    const voice = new Voice({ group: () => group, log });
    const parked = await voice.begin(group, ASKED);
    const later = await voice.begin(group, { id: "m-later", senderInboxId: "bob" });
    await voice.during(parked, () => voice.say("Saul, may I do this?"));
    await voice.say("Bob's turn speaks.");
    await later.end();
    await parked.end();
    expect(sent.map((s) => s.what).filter((w) => w.startsWith("reply"))).toEqual([
      "reply to m-asked of ana as text",
      "reply to m-later of bob as text",
    ]);
  });

  it("says during the turn (an approval question) in the turn's form, and after it on its own", async () => {
    const { group, sent } = standIn(4);
    const voice = new Voice({ group: () => group, log });
    const turn = await voice.begin(group, ASKED);
    await voice.say("Saul, may I do this?");
    await turn.end();
    await voice.say("New mail from kim@example.com");
    expect(sent.map((s) => s.what)).toEqual([
      "readReceipt",
      "thinking",
      "reply to m-asked of ana as text",
      "thinking",
      "text",
    ]);
    // The question is not the answer: the stop names none.
    expect(sent[3]!.body).not.toHaveProperty("resultMessageId");
  });

  it("stops thinking without a result when the answer could not be sent, and a failed signal does not stop the turn", async () => {
    const { group, sent } = standIn(3, ["readReceipt", "reply to m-asked of ana as text"]);
    const turn = await new Voice({ group: () => group, log }).begin(group, ASKED);
    await expect(turn.reply("Sure.")).rejects.toThrow("failed");
    await turn.end();
    expect(sent.map((s) => [s.what, (s.body as { state?: string }).state])).toEqual([
      ["thinking", "start"],
      ["thinking", "stop"],
    ]);
    expect(sent[1]!.body).not.toHaveProperty("resultMessageId");
  });
});

describe("a turn with no message to anchor to (a text from outside)", () => {
  it("shows typing, then stops, around an answer of its own", async () => {
    const { group, sent } = standIn(5);
    const turn = await new Voice({ group: () => group, log }).begin(group);
    await turn.reply("A text came.");
    await turn.end();
    expect(sent).toEqual([
      { what: "typing_indicator", body: { isTyping: true }, push: false },
      { what: "text", body: "A text came.", push: true },
      { what: "typing_indicator", body: { isTyping: false }, push: false },
    ]);
  });
});

describe("a payment", () => {
  it("is posted as a transaction reference with a fallback in words, pushed", async () => {
    const { group, sent } = standIn(2);
    const hash = `0x${"c".repeat(64)}`;
    const to = `0x${"b".repeat(40)}`;
    await new Voice({ group: () => group, log }).payment({
      chainId: 31337,
      hash,
      from: `0x${"a".repeat(40)}`,
      to,
      wei: parseEther("0.01"),
    });
    expect(sent).toEqual([
      {
        what: "transactionReference",
        body: expect.stringContaining(`"reference":"${hash}"`),
        push: true,
        fallback: `Paid 0.01 ETH to ${to} on chain 31337: transaction ${hash}`,
      },
    ]);
  });

  it("is not posted when it is in no conversation", async () => {
    expect(
      await new Voice({ group: () => undefined, log }).payment({
        chainId: 1,
        hash: "0x",
        from: "0x",
        to: "0x",
        wei: 1n,
      }),
    ).toBeUndefined();
  });
});

describe("the pool's statement", () => {
  it("goes as the pool's statement message, pushed: the signed statement in its content, the words in its fallback", async () => {
    const { group, sent } = standIn(3);
    const jws = "aGVhZA.cGF5bG9hZA.c2ln";
    const text = "What I may do here (statement 1, 2026-11-29):\n- Owner: Saul";
    expect(await new Voice({ group: () => group, log }).statement({ jws, text })).toBe("sent-1");
    expect(sent).toEqual([{ what: "statement", body: JSON.stringify({ jws }), push: true, fallback: text }]);
    expect(await new Voice({ group: () => undefined, log }).statement({ jws, text })).toBeUndefined();
  });
});
