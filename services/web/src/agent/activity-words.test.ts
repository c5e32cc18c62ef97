// Activity entries as sentences, over every kind the agent records and every
// outcome, from entries shaped as ListAgentActivity returns them (no call is made).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ActivityEntrySchema, ToolCallOutcome } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import { activityWords, askerWords, shortTarget } from "./activity-words";

const reader = { now: new Date("2026-11-28T12:00:00Z"), locale: "en-GB", timeZone: "UTC" };
const at = timestampFromDate(new Date("2026-11-28T10:02:00Z"));
const payee = "0x12ab34cd56ef78ab90cd12ef34ab56cd78eb0b01";

const entry = (init: Parameters<typeof create<typeof ActivityEntrySchema>>[1]) =>
  create(ActivityEntrySchema, { id: "act_1", at, trustLevel: TrustLevel.AUTONOMOUS, ...init });
const payment = (outcome: ToolCallOutcome, detail = "", approved = false) =>
  entry({
    toolId: "crypto",
    action: "send_payment",
    target: payee,
    amountWei: "10000000000000000",
    outcome,
    detail,
    approved,
  });

describe("a payment", () => {
  it("done says what went to whom, who approved it, and when", () => {
    expect(activityWords(payment(ToolCallOutcome.DONE, "0xfeed"), reader)).toEqual({
      sentence: "Paid 0.01 ETH to 0x12ab…0b01, today, 10:02",
      result: "0xfeed",
    });
    expect(activityWords(payment(ToolCallOutcome.DONE, "", true), reader).sentence).toBe(
      "Paid 0.01 ETH to 0x12ab…0b01, approved by you, today, 10:02",
    );
  });

  it("refused gives the agent's reason apart", () => {
    const why = "that would go over my daily spending limit (0.05 ETH in 24 hours; 0.045 ETH spent)";
    expect(activityWords(payment(ToolCallOutcome.REFUSED, why), reader)).toEqual({
      sentence: "Refused to pay 0.01 ETH to 0x12ab…0b01, today, 10:02",
      why,
    });
  });

  it("denied and timed out say what the owner did", () => {
    expect(activityWords(payment(ToolCallOutcome.DENIED, "my owner said no"), reader)).toEqual({
      sentence: "Did not pay 0.01 ETH to 0x12ab…0b01: you said no, today, 10:02",
    });
    expect(activityWords(payment(ToolCallOutcome.TIMED_OUT, "my owner did not answer in time"), reader)).toEqual({
      sentence: "Did not pay 0.01 ETH to 0x12ab…0b01: you did not answer in time, today, 10:02",
    });
  });

  it("failed says it was tried, and why it failed", () => {
    expect(activityWords(payment(ToolCallOutcome.FAILED, "the wallet holds too little", true), reader)).toEqual({
      sentence: "Tried to pay 0.01 ETH to 0x12ab…0b01, approved by you, and it failed, today, 10:02",
      why: "the wallet holds too little",
    });
  });

  it("an outcome the page does not know is said to be unrecorded, not guessed", () => {
    expect(activityWords(payment(ToolCallOutcome.UNSPECIFIED), reader).sentence).toBe(
      "Asked to pay 0.01 ETH to 0x12ab…0b01; how it ended was not recorded, today, 10:02",
    );
  });
});

describe("texts, mail and the wallet's balance", () => {
  const cases: [string, string, string, string][] = [
    ["sms", "send_sms", "+15551234567", "Sent a text to +15551234567"],
    ["email", "send_email", "ana@example.com", "Sent a mail to ana@example.com"],
    ["email", "list_email", "agent@pool.example", "Checked its mail"],
    ["email", "read_email", "agent@pool.example", "Read a mail"],
    ["crypto", "wallet_balance", payee, "Checked its wallet's balance"],
  ];
  for (const [toolId, action, target, done] of cases) {
    it(`${action} reads as a sentence for every outcome`, () => {
      const words = (outcome: ToolCallOutcome) =>
        activityWords(entry({ toolId, action, target, outcome, detail: "because" }), reader).sentence;
      expect(words(ToolCallOutcome.DONE)).toBe(`${done}, today, 10:02`);
      const todo = done
        .replace(/^Sent/, "send")
        .replace(/^Checked/, "check")
        .replace(/^Read/, "read");
      expect(words(ToolCallOutcome.REFUSED)).toBe(`Refused to ${todo}, today, 10:02`);
      expect(words(ToolCallOutcome.DENIED)).toBe(`Did not ${todo}: you said no, today, 10:02`);
      expect(words(ToolCallOutcome.TIMED_OUT)).toBe(`Did not ${todo}: you did not answer in time, today, 10:02`);
      expect(words(ToolCallOutcome.FAILED)).toBe(`Tried to ${todo}, and it failed, today, 10:02`);
    });
  }

  it("names a tool it does not know by its ids, still as a sentence", () => {
    const e = entry({ toolId: "calendar", action: "add_event", outcome: ToolCallOutcome.DONE });
    expect(activityWords(e, reader).sentence).toBe("Used calendar (add_event), today, 10:02");
  });

  it("never shows the machine's form of an entry", () => {
    for (const outcome of [1, 2, 3, 4, 5]) {
      const s = activityWords(payment(outcome), reader).sentence;
      expect(s).not.toMatch(/send_payment|crypto|·|\d{4}-\d{2}-\d{2}/);
    }
  });
});

describe("changes the owner made", () => {
  it("a level the owner set says so, with the daily limit", () => {
    const e = entry({
      toolId: "trust",
      action: "set_trust_level",
      outcome: ToolCallOutcome.DONE,
      detail: "L3 → L4, set by the owner, spending at most 0.05 ETH a day",
    });
    expect(activityWords(e, reader)).toEqual({
      sentence: "You moved its trust level from L3 to L4, spending at most 0.05 ETH a day, today, 10:02",
    });
  });

  it("a limit signed at the same level reads as the limit, not as a move", () => {
    const e = entry({
      toolId: "trust",
      action: "set_trust_level",
      outcome: ToolCallOutcome.DONE,
      detail: "L2 → L2, set by the owner, spending at most 0.05 ETH a day",
    });
    expect(activityWords(e, reader)).toEqual({
      sentence: "You set its daily limit at L2: spending at most 0.05 ETH a day, today, 10:02",
    });
  });

  it("a level a new version imposed says why", () => {
    const e = entry({
      toolId: "trust",
      action: "set_trust_level",
      outcome: ToolCallOutcome.DONE,
      detail: "L4 → L2, version 5 of the template allows at most L2",
    });
    expect(activityWords(e, reader)).toEqual({
      sentence: "Its trust level moved from L4 to L2, today, 10:02",
      why: "version 5 of the template allows at most L2",
    });
  });

  it("who may ask says what it is now", () => {
    const e = entry({
      toolId: "permissions",
      action: "set_permissions",
      outcome: ToolCallOutcome.DONE,
      detail:
        "set by the owner: members: texts ask, mail ask, money refuse; texts from outside: ask; approvals: direct",
    });
    expect(activityWords(e, reader)).toEqual({
      sentence: "You changed who may ask it for what, today, 10:02",
      why: "members: texts ask, mail ask, money refuse; texts from outside: ask; approvals: direct",
    });
  });
});

describe("who asked", () => {
  const SAUL = "5a".repeat(32);
  const ANA = "a7".repeat(32);
  const saulReads = { ...reader, inboxId: SAUL };
  const asked = (outcome: ToolCallOutcome, askedBy: string, askedByRole: string, askedByName = "", approved = false) =>
    entry({ ...payment(outcome, "", approved), askedBy, askedByRole, askedByName });

  it("is you when the signed-in owner asked: 'Paid 0.01 ETH to 0x12ab…0b01, asked by you, 10:02'", () => {
    expect(activityWords(asked(ToolCallOutcome.DONE, SAUL, "owner", "Saul"), saulReads).sentence).toBe(
      "Paid 0.01 ETH to 0x12ab…0b01, asked by you, today, 10:02",
    );
    expect(activityWords(asked(ToolCallOutcome.DONE, SAUL, "owner", "Saul", true), saulReads).sentence).toBe(
      "Paid 0.01 ETH to 0x12ab…0b01, asked and approved by you, today, 10:02",
    );
  });

  it("names a member by the name the conversation knew, else by a short inbox id, in every outcome", () => {
    const words = (outcome: ToolCallOutcome, name = "Ana", approved = false) =>
      activityWords(asked(outcome, ANA, "member", name, approved), saulReads).sentence;
    expect(words(ToolCallOutcome.DONE, "Ana", true)).toBe(
      "Paid 0.01 ETH to 0x12ab…0b01, asked by Ana, approved by you, today, 10:02",
    );
    expect(words(ToolCallOutcome.REFUSED)).toBe("Refused to pay 0.01 ETH to 0x12ab…0b01, asked by Ana, today, 10:02");
    expect(words(ToolCallOutcome.DENIED)).toBe(
      "Did not pay 0.01 ETH to 0x12ab…0b01, asked by Ana: you said no, today, 10:02",
    );
    expect(words(ToolCallOutcome.TIMED_OUT)).toBe(
      "Did not pay 0.01 ETH to 0x12ab…0b01, asked by Ana: you did not answer in time, today, 10:02",
    );
    expect(words(ToolCallOutcome.FAILED, "  ")).toBe(
      "Tried to pay 0.01 ETH to 0x12ab…0b01, asked by a7a7a7…a7a7, and it failed, today, 10:02",
    );
    expect(words(ToolCallOutcome.UNSPECIFIED)).toBe(
      "Asked to pay 0.01 ETH to 0x12ab…0b01 by Ana; how it ended was not recorded, today, 10:02",
    );
  });

  it("says an outsider is one, and an earlier owner is not you", () => {
    expect(askerWords(asked(ToolCallOutcome.REFUSED, "+15550188009", "outsider", "+15550188009"), SAUL)).toBe(
      "+15550188009, from outside the conversation",
    );
    expect(askerWords(asked(ToolCallOutcome.DONE, ANA, "owner", "Ana"), SAUL)).toBe("Ana, its owner then");
    // Signed out (no reader's inbox), the owner is named like anyone else.
    expect(askerWords(asked(ToolCallOutcome.DONE, SAUL, "owner", "Saul"))).toBe("Saul, its owner then");
  });

  it("is left out when the entry does not say (entries recorded before it was kept)", () => {
    expect(askerWords(payment(ToolCallOutcome.DONE), SAUL)).toBeUndefined();
    expect(activityWords(payment(ToolCallOutcome.DONE), saulReads).sentence).toBe(
      "Paid 0.01 ETH to 0x12ab…0b01, today, 10:02",
    );
  });
});

describe("read without details (a session alone, no owner's signature)", () => {
  // As ListAgentActivity gives a tool call then: no target, amount, detail or asker; the asker's role stays.
  const redacted = (action: string, outcome: ToolCallOutcome, askedByRole = "member", approved = false) =>
    entry({ toolId: "crypto", action, outcome, askedByRole, approved });

  it("a payment still reads as a sentence, with no recipient or amount: 'Paid money, asked by a member, …'", () => {
    expect(activityWords(redacted("send_payment", ToolCallOutcome.DONE, "member", true), reader)).toEqual({
      sentence: "Paid money, asked by a member, approved by you, today, 10:02",
    });
    expect(activityWords(redacted("send_payment", ToolCallOutcome.REFUSED), reader)).toEqual({
      sentence: "Refused to pay money, asked by a member, today, 10:02",
    });
    expect(activityWords(redacted("send_payment", ToolCallOutcome.DENIED, "outsider"), reader).sentence).toBe(
      "Did not pay money, asked by someone from outside the conversation: you said no, today, 10:02",
    );
  });

  it("a text names no number, and an owner's request is its owner's", () => {
    const text = entry({ toolId: "sms", action: "send_sms", outcome: ToolCallOutcome.DONE, askedByRole: "owner" });
    expect(activityWords(text, { ...reader, inboxId: "5a".repeat(32) })).toEqual({
      sentence: "Sent a text, asked by its owner, today, 10:02",
    });
  });
});

describe("shortTarget", () => {
  it("shortens a wallet address only: a number or a mail address stays whole", () => {
    expect(shortTarget(payee)).toBe("0x12ab…0b01");
    expect(shortTarget("someone.long@example.com")).toBe("someone.long@example.com");
    expect(shortTarget("+15551234567")).toBe("+15551234567");
  });
});
