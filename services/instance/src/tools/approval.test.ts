import { describe, expect, it } from "vitest";
import { approvalAnswer, approvalQuestion, replyWord } from "./approval.js";

const Q = "question-message-id";

describe("an approval bound to its question", () => {
  it("is answered only by a reply to the question or a 👍/👎 on it", () => {
    expect(approvalAnswer(Q, { kind: "reply", to: Q, text: "yes" })).toBe("yes");
    expect(approvalAnswer(Q, { kind: "reply", to: Q, text: "No." })).toBe("no");
    expect(approvalAnswer(Q, { kind: "reaction", to: Q, emoji: "👍" })).toBe("yes");
    expect(approvalAnswer(Q, { kind: "reaction", to: Q, emoji: "👍🏽" })).toBe("yes");
    expect(approvalAnswer(Q, { kind: "reaction", to: Q, emoji: "👎" })).toBe("no");
    // Another message's reply or reaction, a look-alike question's: not this one.
    expect(approvalAnswer(Q, { kind: "reply", to: "look-alike", text: "yes" })).toBeUndefined();
    expect(approvalAnswer(Q, { kind: "reaction", to: "look-alike", emoji: "👍" })).toBeUndefined();
    // Other reactions approve nothing.
    expect(approvalAnswer(Q, { kind: "reaction", to: Q, emoji: "❤️" })).toBeUndefined();
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
