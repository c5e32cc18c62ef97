// What a message asks of time, decided by the pool's code (policy.ts): the
// issue's requests, who may ask for what, and properties (fast-check) that a
// member's words never make an act and that an owner's act pays only whom and
// what the owner wrote. Real: the request reading and binding
// (tools/request), chrono-node, rrule, Temporal; the owner's address book is
// a one-contact stand-in of its lookup.
import fc from "fast-check";
import { Temporal } from "temporal-polyfill";
import { parseEther } from "viem";
import { describe, expect, it } from "vitest";
import { TOOLS } from "../functions/registry.js";
import { itemsStopped, listWords, readTimeAsk, type TimeFacts } from "./policy.js";

const ANA = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const NOW = Temporal.ZonedDateTime.from("2026-12-01T10:00[Europe/Paris]").epochMilliseconds;
const contacts = {
  lookup: (name: string, kind: string) =>
    name.toLowerCase() === "ana" && kind === "address" ? { name: "Ana", value: ANA } : undefined,
};
const OWNER: TimeFacts = { role: "owner", now: NOW, zone: "Europe/Paris", tools: ["send_payment"], contacts };
const MEMBER: TimeFacts = { role: "member", now: NOW, zone: "Europe/Paris", tools: ["send_payment"] };

describe("the issue's requests", () => {
  it("keeps a member's 'remind us Friday at 6 to book the table' as a reminder, shown back with its zone and its guess", () => {
    expect(readTimeAsk("remind us Friday at 6 to book the table", MEMBER)).toEqual({
      kind: "keep",
      spec: {
        kind: "reminder",
        text: "book the table",
        when: { startsAt: Date.parse("2026-12-04T17:00:00Z"), rrule: "", zone: "Europe/Paris" },
      },
      showBack: "I'll remind you Friday 4 December at 18:00 (Europe/Paris) (6 read as 18:00): book the table",
    });
  });

  it("keeps 'every Monday at 9 post the week's plan' as a routine, from a member too", () => {
    const ask = readTimeAsk("every Monday at 9 post the week's plan", MEMBER);
    expect(ask).toMatchObject({
      kind: "keep",
      spec: { kind: "routine", text: "post the week's plan", when: { rrule: "FREQ=WEEKLY;BYDAY=MO" } },
      showBack: "I'll do this every Monday at 9:00 (Europe/Paris), next Monday 7 December: post the week's plan",
    });
  });

  it("binds the owner's 'pay Ana 0.01 ETH on the 1st of each month' to Ana's address and 0.01 ETH, for the owner's yes", () => {
    const ask = readTimeAsk("pay Ana 0.01 ETH on the 1st of each month", OWNER);
    expect(ask).toMatchObject({
      kind: "keep",
      spec: { kind: "act", text: `pay Ana (${ANA}) 0.01 ETH`, when: { rrule: "FREQ=MONTHLY;BYMONTHDAY=1" } },
      act: { act: "pay", toolId: "crypto", target: ANA, amountWei: parseEther("0.01").toString(), name: "Ana" },
    });
    expect(ask.kind === "keep" && ask.showBack).toBe(
      `Schedule this act of yours: pay Ana (${ANA}) 0.01 ETH, on the 1st of each month at 9:00 (Europe/Paris), next Friday 1 January 2027 (at 9:00, no time was said). Each time, within your daily limit.`,
    );
  });

  it("refuses a member's scheduled payment: members set reminders, never acts", () => {
    expect(readTimeAsk("pay Ana 0.01 ETH on the 1st of each month", MEMBER)).toEqual({
      kind: "refused",
      why: 'Only this conversation\'s owner can schedule a payment, a text or a mail. I can remind you instead: say "remind us …".',
    });
  });

  it("reads 'stop reminding us about the table' as a stop about the table, which names that item alone", () => {
    const ask = readTimeAsk("stop reminding us about the table", MEMBER);
    expect(ask).toEqual({ kind: "stop", about: ["table"] });
    const items = [
      { id: "sch_1", text: "book the table", kind: "reminder" as const },
      { id: "sch_2", text: "post the week's plan", kind: "routine" as const },
    ];
    expect(itemsStopped(items, ask.kind === "stop" ? ask.about : []).map((i) => i.id)).toEqual(["sch_1"]);
  });

  it("keeps 'remind me tomorrow at 9 to call the hotel' for tomorrow at 9:00 in the conversation's zone", () => {
    expect(readTimeAsk("remind me tomorrow at 9 to call the hotel", OWNER)).toMatchObject({
      kind: "keep",
      spec: { kind: "reminder", text: "call the hotel", when: { startsAt: Date.parse("2026-12-02T08:00:00Z") } },
      showBack: "I'll remind you tomorrow at 9:00 (Europe/Paris): call the hotel",
    });
  });
});

describe("what asks nothing, what waits and what is refused", () => {
  it.each([
    "we meet every Monday at 9",
    "can you remind me what we decided?",
    "pay Ana 0.01 ETH",
    "Friday at 6 works for me",
  ])("asks nothing of time in %j (the model answers it)", (text) => {
    expect(readTimeAsk(text, OWNER)).toEqual({ kind: "none" });
  });

  it.each([
    "text +15550188031: boarding now",
    "pay Ana 0.01 ETH right now",
    "send Ana the menu today",
    "paga a Ana 0.01 ETH ahora",
    "text +15550188031: we land at noon",
    'mail ana@example.com "dinner is at 8 on Friday"',
    "text +15550188031 that we land at noon",
    "pay Ana 0.05 ETH, text her that dinner is at 8, and mail my accountant the receipts.",
  ])(
    "asks nothing of time in %j, whoever says it: now, or a time in what a text or mail says, is no time to keep (the act goes to the gate)",
    (text) => {
      expect(readTimeAsk(text, OWNER)).toEqual({ kind: "none" });
      expect(readTimeAsk(text, MEMBER)).toEqual({ kind: "none" });
    },
  );

  it("still reads the time said before a text's words, whatever follows its 'that'", () => {
    const ask = readTimeAsk("every Monday at 9 text +15550188031 that the meeting is on", {
      ...OWNER,
      tools: ["send_sms"],
    });
    expect(ask).toMatchObject({ kind: "keep", spec: { when: { rrule: "FREQ=WEEKLY;BYDAY=MO" } } });
  });

  it("waits for the zone when the conversation has none, whoever asks", () => {
    expect(readTimeAsk("remind us Friday at 6 to book the table", { ...MEMBER, zone: undefined })).toEqual({
      kind: "needs-zone",
    });
  });

  it("lets the owner alone set the zone, and only to a zone that exists", () => {
    expect(readTimeAsk("our time zone is america/new_york", OWNER)).toEqual({ kind: "zone", zone: "America/New_York" });
    expect(readTimeAsk("time zone Europe/Paris", MEMBER)).toEqual({
      kind: "refused",
      why: "Only this conversation's owner sets its time zone.",
    });
    expect(readTimeAsk("time zone Mars/Olympus", OWNER)).toMatchObject({ kind: "refused" });
  });

  it("refuses a time in the past and a rule more often than every 15 minutes, in the kit's sentences", () => {
    expect(readTimeAsk("remind me yesterday at 9 to call", OWNER)).toEqual({
      kind: "refused",
      why: "That time has passed (Monday 30 November at 9:00, Europe/Paris): tell me a time still to come.",
    });
    expect(readTimeAsk("every 5 minutes post hi", OWNER)).toMatchObject({
      kind: "refused",
      why: expect.stringContaining("more often than every 15 minutes") as string,
    });
  });

  it("refuses an act whose recipient the owner's words do not bind, and one whose tool it does not hold", () => {
    expect(readTimeAsk("pay Zed 0.01 ETH every Friday at 10", OWNER)).toMatchObject({ kind: "refused" });
    expect(readTimeAsk("pay Ana 0.01 ETH every Friday at 10", { ...OWNER, tools: [] })).toEqual({
      kind: "refused",
      why: "I do not hold the crypto tool here, so I cannot schedule that.",
    });
  });
});

describe("whatever the words", () => {
  const address = fc.stringMatching(/^[0-9a-f]{40}$/).map((h) => `0x${h}`);
  const amount = fc.integer({ min: 1, max: 9999 }).map((n) => `${n / 1000}`);
  const time = fc.constantFrom("every Friday at 10", "on the 1st of each month", "tomorrow at 9", "every day at 8:30");
  const recipient = fc.oneof(address, fc.constantFrom("Ana", "me", "my wallet"));

  it("never makes a member's words an act, whatever they name", () => {
    fc.assert(
      fc.property(recipient, amount, time, fc.constantFrom("pay", "send", "text", "mail"), (to, amt, when, verb) => {
        const text = verb === "send" ? `send ${amt} ETH to ${to} ${when}` : `${verb} ${to} ${amt} ETH ${when}`;
        const ask = readTimeAsk(text, MEMBER);
        expect(ask.kind === "keep" && ask.spec.kind === "act").toBe(false);
      }),
    );
  });

  it("pays, in an owner's act, only an address and an amount the owner wrote (or Ana's, named)", () => {
    fc.assert(
      fc.property(recipient, amount, time, (to, amt, when) => {
        const text = `pay ${to} ${amt} ETH ${when}`;
        const ask = readTimeAsk(text, OWNER);
        if (ask.kind !== "keep" || !ask.act) return;
        expect(ask.act.amountWei).toBe(parseEther(amt).toString());
        if (to === "Ana") expect(ask.act.target).toBe(ANA);
        else expect(text.toLowerCase()).toContain(ask.act.target.toLowerCase());
      }),
    );
  });
});

describe("the model's part", () => {
  it("offers the model no function that makes, moves or cancels a schedule: only the pool's reading of a person's words does", () => {
    const names = TOOLS.map((t) => t.name);
    expect(names).toContain("send_payment");
    expect(names.filter((n) => /schedul|remind|routine|timer|cron|later/i.test(n))).toEqual([]);
  });
});

describe("in a conversation with no zone yet", () => {
  it("refuses a member's act at once, asking no one for a zone for what will not be kept", () => {
    expect(readTimeAsk("pay Ana 0.01 ETH every Friday at 10", { ...MEMBER, zone: undefined })).toMatchObject({
      kind: "refused",
      why: expect.stringMatching(/^Only this conversation's owner can schedule a payment/) as string,
    });
  });
});

describe("what looks like a request of time and is not one", () => {
  it.each([
    "can you remind me what we said yesterday?",
    "remind me what time the dinner is on Friday",
    "send the report to the team tomorrow at 9",
  ])("leaves %j to the model's turn", (text) => {
    expect(readTimeAsk(text, OWNER)).toEqual({ kind: "none" });
  });

  it.each([
    ["remind me at 5 about the meeting", "the meeting"],
    ["rappelle-moi demain à 9h d'appeler l'hôtel", "appeler l'hôtel"],
    ["set a reminder for Friday at 6: book the table", "book the table"],
  ])("keeps %j as a reminder of %j", (text, what) => {
    expect(readTimeAsk(text, OWNER)).toMatchObject({ kind: "keep", spec: { kind: "reminder", text: what } });
  });
});

describe("a listing", () => {
  it.each([
    "what reminders do we have?",
    "list the routines",
    "quels rappels avons-nous ?",
    "welche Erinnerungen gibt es?",
  ])("reads %j as asking for the conversation's items", (text) => {
    expect(readTimeAsk(text, MEMBER)).toEqual({ kind: "list" });
  });

  it("names who asked each item: you, the owner, the template for its routines, else a member", () => {
    const [me, owner, ana] = ["a", "b", "c"].map((c) => c.repeat(64)) as [string, string, string];
    const at = NOW + 3_600_000;
    const items = [
      { id: "sch_1", text: "book the table", kind: "reminder", askedBy: me, nextAt: at, paused: false },
      { id: "sch_2", text: "water the plants", kind: "reminder", askedBy: owner, nextAt: at + 1, paused: false },
      // A template's routine is asked for by the agent itself: its inbox is no person's.
      { id: "sch_3", text: "the week's plan", kind: "routine", askedBy: "d".repeat(64), nextAt: at + 2, paused: false },
      { id: "sch_4", text: "call Ana", kind: "reminder", askedBy: ana, nextAt: at + 3, paused: false },
    ] as const;
    const words = listWords(items, {
      now: NOW,
      zone: "Europe/Paris",
      speaker: me,
      ownerId: owner,
      templates: new Set(["sch_3"]),
    });
    expect(words.split("\n").map((l) => l.replace(/^.*, asked by /, ""))).toEqual([
      "Kept for this conversation (Europe/Paris):",
      "you",
      "the owner",
      "the template",
      "a member",
    ]);
  });
});

describe("a scheduled text or mail keeps the words it sends", () => {
  const book = {
    lookup: (name: string, kind: string) =>
      name.toLowerCase() === "ana" && kind === "phone" ? { name: "Ana", value: "+15550188031" } : undefined,
  };
  const SENDS: TimeFacts = { ...OWNER, tools: ["send_sms", "send_email"], contacts: book };

  it("keeps 'text Ana every Friday at 6 that dinner is at 8' with its words, and shows them back to the owner", () => {
    const ask = readTimeAsk("text Ana every Friday at 6 that dinner is at 8", SENDS);
    expect(ask).toMatchObject({
      kind: "keep",
      spec: { kind: "act", when: { rrule: "FREQ=WEEKLY;BYDAY=FR" } },
      act: { act: "text", toolId: "sms", target: "+15550188031", name: "Ana", words: "dinner is at 8" },
    });
    expect(ask.kind === "keep" && ask.showBack).toMatch(
      /^Schedule this act of yours: text Ana \(\+15550188031\): “dinner is at 8”, every Friday at 18:00 .*Each time, these words\.$/,
    );
  });

  it("keeps 'mail bob@x.test on the 1st of each month: rent is due' with its words", () => {
    expect(readTimeAsk("mail bob@x.test on the 1st of each month: rent is due", SENDS)).toMatchObject({
      kind: "keep",
      spec: { kind: "act", when: { rrule: "FREQ=MONTHLY;BYMONTHDAY=1" } },
      act: { act: "mail", toolId: "email", target: "bob@x.test", words: "rent is due" },
    });
  });

  it("refuses a scheduled text with no words to send, saying how to give them", () => {
    expect(readTimeAsk("text Ana every Friday at 6", SENDS)).toMatchObject({
      kind: "refused",
      why: expect.stringContaining("that dinner is at 8") as string,
    });
  });
});
