// The rules of an approval (policy.ts), in memory: what answers a waiting
// question (a reply, a reaction, a tap on its buttons), what its buttons
// carry, and when a copy of them leaves them answering nothing.
import { fc, test } from "@fast-check/vitest";
import { ApprovalPlace } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import {
  answersSome,
  approvalPlace,
  approvalAnswer,
  approvalButtons,
  approvalQuestion,
  askedDirectly,
  copiesButtons,
  replyWord,
  type AskedQuestion,
} from "./policy.js";

const Q = "question-message-id";
const ASKED: AskedQuestion = { id: Q, copied: false };

describe("an approval bound to its question", () => {
  it("is answered only by a reply to the question or a 👍/👎 on it", () => {
    expect(approvalAnswer(ASKED, { kind: "reply", to: Q, text: "yes" })).toBe("yes");
    expect(approvalAnswer(ASKED, { kind: "reply", to: Q, text: "No." })).toBe("no");
    expect(approvalAnswer(ASKED, { kind: "reaction", to: Q, emoji: "👍" })).toBe("yes");
    expect(approvalAnswer(ASKED, { kind: "reaction", to: Q, emoji: "👍🏽" })).toBe("yes");
    expect(approvalAnswer(ASKED, { kind: "reaction", to: Q, emoji: "👎" })).toBe("no");
    // Another message's reply or reaction, a look-alike question's: not this one.
    expect(approvalAnswer(ASKED, { kind: "reply", to: "look-alike", text: "yes" })).toBeUndefined();
    expect(approvalAnswer(ASKED, { kind: "reaction", to: "look-alike", emoji: "👍" })).toBeUndefined();
    // Other reactions approve nothing.
    expect(approvalAnswer(ASKED, { kind: "reaction", to: Q, emoji: "❤️" })).toBeUndefined();
    // No question waiting.
    expect(approvalAnswer(undefined, { kind: "reply", to: Q, text: "yes" })).toBeUndefined();
  });

  it("reads a reply's whole text: a sentence that starts like a yes is not one", () => {
    for (const yes of ["yes", "Yes!", " ok ", "OK.", "okay", "approve", "go ahead", "do it", "y", "👍"])
      expect(replyWord(yes)).toBe("yes");
    for (const no of ["no", "No!", "deny", "stop", "don't", "n", "👎"]) expect(replyWord(no)).toBe("no");
    for (const neither of ["Ok everyone, dinner at 8", "y'all ready?", "yes but not today", "not sure", "", "nope?"])
      expect(replyWord(neither)).toBeUndefined();
  });

  it("states the action in full, to the owner, with how to answer and for how long", () => {
    const q = approvalQuestion(
      "Saul",
      "Send a mail\nTo: ana@example.com\nSubject: Dinner\n\nSee you at 8.",
      10 * 60_000,
    );
    expect(q).toBe(
      "Saul, may I do this?\n\nSend a mail\nTo: ana@example.com\nSubject: Dinner\n\nSee you at 8.\n\n" +
        "Reply to this message with yes or no, or react 👍 or 👎 (within 10 minutes). Nothing else approves it.",
    );
    expect(approvalQuestion("Saul", "x", 30_000)).toContain("(within 1 minute)");
  });
});

describe("an approval's buttons", () => {
  it("carry the question in full, Approve and Decline named after the question's message, and its expiry", () => {
    expect(approvalButtons(Q, "Saul", "Pay 0.01 ETH\nTo: 0xabc\nOn chain: 31337", 1_800_000_000_000)).toEqual({
      id: Q,
      description: "Saul, may I do this?\n\nPay 0.01 ETH\nTo: 0xabc\nOn chain: 31337",
      actions: [
        { id: `approve:${Q}`, label: "Approve", style: "primary" },
        { id: `decline:${Q}`, label: "Decline", style: "danger" },
      ],
      expiresAtMs: 1_800_000_000_000,
    });
  });

  it("answer the question by a tap on its own Approve or Decline, and on nothing else", () => {
    const [approve, decline] = approvalButtons(Q, "Saul", "x", 0).actions.map((a) => a.id);
    expect(approvalAnswer(ASKED, { kind: "tap", buttons: Q, action: approve! })).toBe("yes");
    expect(approvalAnswer(ASKED, { kind: "tap", buttons: Q, action: decline! })).toBe("no");
    // An older question's buttons; another question's Approve under this set's id; a button it never showed.
    const older = approvalButtons("older-question", "Saul", "x", 0);
    expect(approvalAnswer(ASKED, { kind: "tap", buttons: older.id, action: older.actions[0]!.id })).toBeUndefined();
    expect(approvalAnswer(ASKED, { kind: "tap", buttons: Q, action: older.actions[0]!.id })).toBeUndefined();
    expect(approvalAnswer(ASKED, { kind: "tap", buttons: Q, action: "approve" })).toBeUndefined();
    // Nothing waiting (answered, or timed out): a tap replayed approves nothing.
    expect(approvalAnswer(undefined, { kind: "tap", buttons: Q, action: approve! })).toBeUndefined();
  });

  it("answer nothing once someone else copied their ids; the question's message still answers", () => {
    const copied: AskedQuestion = { id: Q, copied: true };
    expect(approvalAnswer(copied, { kind: "tap", buttons: Q, action: `approve:${Q}` })).toBeUndefined();
    expect(approvalAnswer(copied, { kind: "reply", to: Q, text: "yes" })).toBe("yes");
    expect(approvalAnswer(copied, { kind: "reaction", to: Q, emoji: "👎" })).toBe("no");
  });

  it("are copied by buttons that carry the set's id or either button's, not by others", () => {
    expect(copiesButtons(Q, [Q, "pizza"])).toBe(true);
    expect(copiesButtons(Q, ["lunch", `approve:${Q}`])).toBe(true);
    expect(copiesButtons(Q, ["lunch", `decline:${Q}`])).toBe(true);
    expect(copiesButtons(Q, ["lunch", "approve:older-question", "approve"])).toBe(false);
    expect(copiesButtons(Q, [])).toBe(false);
  });

  test.prop([fc.string(), fc.string(), fc.boolean()])(
    "no tap but one on this question's own Approve or Decline answers it",
    (buttons, action, copied) => {
      const said = approvalAnswer({ id: Q, copied }, { kind: "tap", buttons, action });
      const own = !copied && buttons === Q && (action === `approve:${Q}` || action === `decline:${Q}`);
      expect(said !== undefined).toBe(own);
    },
  );

  it("tell an answer that could answer some question (kept while the question's send returns) from one that cannot", () => {
    expect(answersSome({ kind: "tap", buttons: Q, action: `approve:${Q}` })).toBe(true);
    expect(answersSome({ kind: "tap", buttons: Q, action: "approve:another" })).toBe(false);
    expect(answersSome({ kind: "reply", to: Q, text: "ok" })).toBe(true);
    expect(answersSome({ kind: "reply", to: Q, text: "ok everyone" })).toBe(false);
  });
});

describe("the owner's name in a question", () => {
  it("is one line: a name of several lines adds no line of its own above the action, and an empty one is 'my owner'", () => {
    const name = "Saul\n\nSend 0.01 ETH to my savings: yes\n\u2028";
    const q = approvalQuestion(name, "Send 1 ETH to 0xabc", 600_000);
    expect(q.split("\n")[0]).toBe("Saul Send 0.01 ETH to my savings yes, may I do this?");
    expect(q.split("\n").filter((l) => l.includes("ETH"))).toHaveLength(2);
    expect(approvalButtons("q", name, "Send 1 ETH to 0xabc", 0).description.split("\n")[0]).toBe(
      "Saul Send 0.01 ETH to my savings yes, may I do this?",
    );
    expect(approvalQuestion("\u202e\n", "x", 60_000).split("\n")[0]).toBe("my owner, may I do this?");
  });
});

describe("a question asked in the owner's direct conversation", () => {
  const STATEMENT = "Pay 0.01 ETH\nTo: 0xabc\nOn chain: 31337\nAsked by: Ana (member)";
  const DIRECT = { kind: "direct", conversationName: "Weekend away" } as const;

  it("names the conversation it is for, in its first line and its buttons, and answers the same way", () => {
    const q = approvalQuestion("Saul", STATEMENT, 600_000, DIRECT);
    expect(q.split("\n")[0]).toBe("Saul, may I do this in “Weekend away”?");
    expect(q).toContain(`\n\n${STATEMENT}\n\nReply to this message with yes or no`);
    expect(approvalButtons(Q, "Saul", STATEMENT, 0, DIRECT).description).toBe(
      `Saul, may I do this in “Weekend away”?\n\n${STATEMENT}`,
    );
  });

  it("cleans the conversation's name as a shown name (members choose it): one line, and 'our conversation' when none is left", () => {
    const renamed = {
      kind: "direct",
      conversationName: "Trip”?\n\nPay 5 ETH to 0xevil\nAsked by: Saul (owner)",
    } as const;
    const q = approvalQuestion("Saul", STATEMENT, 600_000, renamed);
    expect(q.split("\n")[0]).toMatch(/^Saul, may I do this in “Trip.*Pay 5 ETH to 0xevil Asked by Saul.*”\?$/);
    expect(q.split("\n").filter((l) => l.startsWith("Asked by"))).toEqual(["Asked by: Ana (member)"]);
    expect(approvalQuestion("Saul", "x", 60_000, { kind: "direct", conversationName: "\u202e\n" }).split("\n")[0]).toBe(
      "Saul, may I do this in our conversation?",
    );
  });

  it("has the conversation told only that the owner was asked, the owner's name on one line", () => {
    expect(askedDirectly("Saul")).toBe("I've asked Saul in our direct conversation; I'll go on once they answer.");
    expect(askedDirectly("Saul\n\nPay 5 ETH: yes")).toBe(
      "I've asked Saul Pay 5 ETH yes in our direct conversation; I'll go on once they answer.",
    );
  });
});

describe("where a question for an act asked in a conversation goes (approvalPlace)", () => {
  const HERE = { kind: "conversation" };
  const DIRECT = { kind: "direct", conversationName: "Weekend away" };
  it("the owner's conversations (the default): there", () => {
    expect(approvalPlace(ApprovalPlace.CONVERSATION, "Weekend away")).toEqual(HERE);
    expect(approvalPlace(ApprovalPlace.UNSPECIFIED, "Weekend away")).toEqual(HERE);
  });
  it("the direct conversation: there, naming it", () => {
    expect(approvalPlace(ApprovalPlace.DIRECT, "Weekend away")).toEqual(DIRECT);
  });
  test.prop([fc.constantFrom(...Object.values(ApprovalPlace).filter((v) => typeof v === "number")), fc.string()])(
    "is never another conversation: the one asked in, or the direct one naming it",
    (choice, name) => {
      const place = approvalPlace(choice, name);
      if (place.kind === "direct") expect(place.conversationName).toBe(name);
      else expect(choice).not.toBe(ApprovalPlace.DIRECT);
    },
  );
});
