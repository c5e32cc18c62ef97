// Which person's text began which chain, and whether an agent's text is
// answered (agent-talk.ts). Everything is real: plain messages, no XMTP.
import { describe, expect, it } from "vitest";
import { ANSWERED_KEPT, answerAgent, heard, NO_TALK, ORIGINS_KEPT, originOf, UNKNOWN_ORIGIN } from "./agent-talk.js";

const SELF = "5e1f".padEnd(64, "0");
const BOT = "b075".padEnd(64, "0");
const PERSON = "9e45".padEnd(64, "0");

describe("origins", () => {
  it("a person's text is its own origin; an agent's reply takes its reply's; else the latest person's text", () => {
    let talk = heard(NO_TALK, { id: "m1", senderInboxId: PERSON }, true);
    talk = heard(talk, { id: "b1", senderInboxId: BOT, replyTo: "m1" }, false);
    talk = heard(talk, { id: "m2", senderInboxId: PERSON }, true);
    expect(originOf(talk, { id: "b2", senderInboxId: BOT, replyTo: "b1" }, false)).toBe("m1");
    expect(originOf(talk, { id: "b3", senderInboxId: BOT }, false)).toBe("m2");
    expect(originOf(talk, { id: "b4", senderInboxId: BOT, replyTo: "gone" }, false)).toBe("m2");
    expect(originOf(NO_TALK, { id: "b5", senderInboxId: BOT }, false)).toBe(UNKNOWN_ORIGIN);
  });

  it(`keeps the newest ${ORIGINS_KEPT} origins and ${ANSWERED_KEPT} answered chains`, () => {
    let talk = NO_TALK;
    for (let i = 0; i < ORIGINS_KEPT + 10; i++) {
      talk = heard(talk, { id: `m${i}`, senderInboxId: PERSON }, true);
      talk = heard(talk, { id: `b${i}`, senderInboxId: BOT }, false);
      talk = answerAgent(talk, SELF, { id: `b${i}`, senderInboxId: BOT }).talk;
    }
    expect(talk.origins).toHaveLength(ORIGINS_KEPT);
    expect(talk.answered).toHaveLength(ANSWERED_KEPT);
  });
});

describe("answering an agent", () => {
  it("never an agent's answer to it; once per person's text otherwise", () => {
    let talk = heard(NO_TALK, { id: "m1", senderInboxId: PERSON }, true);
    expect(answerAgent(talk, SELF, { id: "b1", senderInboxId: BOT, replyToSender: SELF }).unanswered).toBe(
      "answer-to-it",
    );
    const first = answerAgent(talk, SELF, { id: "b2", senderInboxId: BOT, replyTo: "m1" });
    expect(first.unanswered).toBeUndefined();
    talk = first.talk;
    expect(answerAgent(talk, SELF, { id: "b3", senderInboxId: BOT }).unanswered).toBe("answered");
    talk = heard(talk, { id: "m2", senderInboxId: PERSON }, true);
    expect(answerAgent(talk, SELF, { id: "b4", senderInboxId: BOT }).unanswered).toBeUndefined();
  });
});
