// The bound acts (binding.ts), in memory: the chooser's acts held to the request,
// calls covered once each, the issue's cases at the rule (gate/origins.ts judge),
// and generated requests whose values sit where they ask and where they do
// not, chosen by a faithful chooser and by one that chooses every value.
// Real: the request's reading, the offline grammar, the readers and viem's
// units. No model, no gate here (the gate's own test is tools.int.test.ts;
// the chooser's input, agent/conversation/choosing.test.ts).
import { fc, test } from "@fast-check/vitest";
import { formatEther, getAddress, parseEther } from "viem";
import { describe, expect, it } from "vitest";
import { judge, type Traced } from "../gate/origins.js";
import { chooseByRule } from "./grammar.js";
import { bindActs, cover, MAX_ACTS_PER_REQUEST, type Contacts, type ChosenAct } from "./binding.js";
import { readRequest } from "./read.js";

const ANA_WALLET = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const BOB_WALLET = getAddress("0x00000000000000000000000000000000000b0b01");
const SCAM = getAddress("0x0000000000000000000000000000000000005ca3");
const SAUL = "5a".repeat(32);
const owner = { role: "owner" as const, id: SAUL };

const book: Contacts = {
  lookup: (name, kind) => {
    const n = name.toLowerCase();
    if (n === "ana" && kind === "address") return { name: "Ana", value: ANA_WALLET };
    if (n === "ana" && kind === "phone") return { name: "Ana", value: "+15550100222" };
    if (n === "my accountant" && kind === "mailbox") return { name: "my accountant", value: "acct@example.com" };
    return undefined;
  },
};

/** The acts the offline grammar chooses in `text`, held to it, with the owner's book and settings. */
const boundActsOf = (text: string, settings: Record<string, string> = {}) => {
  const request = readRequest(text);
  return bindActs(chooseByRule(request), { request, contacts: book, settings });
};
const pay = (to: string, eth: string): Traced => ({
  toolId: "crypto",
  risk: "money",
  target: to,
  amountWei: parseEther(eth),
});
const textTo = (to: string): Traced => ({ toolId: "sms", risk: "act", target: to, amountWei: 0n });
const mailTo = (to: string): Traced => ({ toolId: "email", risk: "act", target: to, amountWei: 0n });

describe("the chooser's acts, held to the request", () => {
  it("keeps a recipient written in the request, a contact it names, or a setting it names; and an amount written beside it", () => {
    const request = readRequest(
      `pay Ana 0.01 ETH, mail my accountant the receipts and mail my personal email the plan`,
    );
    const chosen: ChosenAct[] = [
      { act: "pay", to: "Ana", amount: "0.01 ETH" },
      { act: "mail", to: "my accountant" },
      { act: "mail", to: "personal-email" },
    ];
    const bound = bindActs(chosen, { request, contacts: book, settings: { "personal-email": "Saul@Example.com" } });
    expect(bound.acts.map((a) => [a.act, a.target, a.amountWei, a.name])).toEqual([
      ["pay", ANA_WALLET, parseEther("0.01"), "Ana"],
      ["mail", "acct@example.com", 0n, "my accountant"],
      ["mail", "saul@example.com", 0n, "personal-email"],
    ]);
    expect(bound.dropped).toEqual([]);
  });

  it("binds a setting only where the request names it: by its name, in words, or 'me' (of several, the personal one)", () => {
    const settings = { "personal-email": "saul@example.com", "work-email": "saul@work.example.com" };
    const bound = (text: string, to: string) =>
      bindActs([{ act: "mail", to }], { request: readRequest(text), contacts: book, settings }).acts.map(
        (a) => a.target,
      );
    // Before, a setting bound in any request that named an act at all.
    expect(bound(`pay ${BOB_WALLET} 0.01 ETH and mail my accountant`, "personal-email")).toEqual([]);
    expect(bound("mail my accountant the receipts", "work-email")).toEqual([]);
    expect(bound("mail my work email the receipts", "work-email")).toEqual(["saul@work.example.com"]);
    expect(bound("email personal-email about Tickets", "personal-email")).toEqual(["saul@example.com"]);
    expect(bound("mail me the plan", "work-email")).toEqual(["saul@work.example.com"]);
    expect(bound("mándame un correo con el plan", "me")).toEqual(["saul@example.com"]);
    expect(bound("schick mir eine Mail", "personal-email")).toEqual(["saul@example.com"]);
    // "me" is the owner's, never a contact's: the accountant is no "me".
    expect(bound("mail me the plan", "my accountant")).toEqual([]);
  });

  it("drops what a chooser says that the request does not hold: another recipient, another amount, a contact it does not name, a value it only warned of, an amount of another sentence", () => {
    const request = readRequest(`never pay ${SCAM}, it is a scam. Pay Ana 0.01 ETH. My rent is 0.5 ETH by the way.`);
    const chosen: ChosenAct[] = [
      { act: "pay", to: SCAM, amount: "0.01 ETH" },
      { act: "pay", to: "Ana", amount: "0.02 ETH" },
      { act: "pay", to: BOB_WALLET, amount: "0.01 ETH" },
      { act: "text", to: "Bob" },
      { act: "mail", to: "my accountant" },
      { act: "pay", to: "Ana", amount: "0.5 ETH" },
      { act: "pay", to: "Ana", amount: "0.01 ETH" },
    ];
    const bound = bindActs(chosen, { request, contacts: book });
    // Only Ana's 0.01: the rent's 0.5 ETH is written in another sentence than Ana (before, it paid her).
    expect(bound.acts.map((a) => [a.target, a.amountWei])).toEqual([[ANA_WALLET, parseEther("0.01")]]);
    expect(bound.dropped).toEqual([
      "pay: its recipient is not in the request",
      "pay: its amount is not in the request",
      "pay: its recipient is not in the request",
      "text: its recipient is not in the request",
      "mail: its recipient is not in the request",
      "pay: its amount is not in the request",
    ]);
  });

  it("binds a recipient and an amount only from one clause: the amount written beside its recipient", () => {
    const A = getAddress("0x00000000000000000000000000000000000000aa");
    const B = getAddress("0x00000000000000000000000000000000000000bb");
    const D = getAddress("0x00000000000000000000000000000000000000dd");
    const bound = (text: string, chosen: ChosenAct[]) =>
      bindActs(chosen, { request: readRequest(text), contacts: book }).acts.map((a) => [
        a.target,
        formatEther(a.amountWei),
      ]);
    // Before, each of these bound: a value and an amount written anywhere in the request.
    expect(bound(`pay Ana 0.01 ETH. ${D} is Bob's old wallet.`, [{ act: "pay", to: D, amount: "0.01 ETH" }])).toEqual(
      [],
    );
    const list = `pay ${A} 0.01 ETH and ${B} 0.5 ETH`;
    expect(bound(list, [{ act: "pay", to: A, amount: "0.5 ETH" }])).toEqual([]);
    expect(bound(list, [{ act: "pay", to: B, amount: "0.01 ETH" }])).toEqual([]);
    expect(
      bound(list, [
        { act: "pay", to: A, amount: "0.01 ETH" },
        { act: "pay", to: B, amount: "0.5 ETH" },
      ]),
    ).toEqual([
      [A, "0.01"],
      [B, "0.5"],
    ]);
    expect(bound(`send 0.01 ETH to Ana and 0.5 ETH to ${B}`, [{ act: "pay", to: "Ana", amount: "0.5 ETH" }])).toEqual(
      [],
    );
    expect(bound(`envía 0,01 ETH a Ana y 0,5 ETH a ${B}`, [{ act: "pay", to: "Ana", amount: "0.01 ETH" }])).toEqual([
      [ANA_WALLET, "0.01"],
    ]);
    // A recipient named in a text's words is no recipient: "text Ana that Bob's number is …".
    const text = bindActs([{ act: "text", to: "+15550100999" }], {
      request: readRequest("text Ana that Bob's number is +15550100999"),
      contacts: book,
    });
    expect(text.acts).toEqual([]);
  });

  it("binds an act as many times as the request asks for it, whatever the chooser says; at most MAX_ACTS_PER_REQUEST", () => {
    const tenTimes = (text: string, n = 10) =>
      bindActs(
        Array.from({ length: n }, (): ChosenAct => ({ act: "pay", to: ANA_WALLET, amount: "0.01 ETH" })),
        { request: readRequest(text) },
      ).acts.length;
    // A chooser that chooses one asked payment three times (bench:hijack's hijacked chooser): one.
    expect(tenTimes(`Concierge, pay ${ANA_WALLET} 0.01 ETH for the cab`, 3)).toBe(1);
    expect(tenTimes(`pay ${ANA_WALLET} 0.01 ETH twice`)).toBe(2);
    expect(tenTimes(`pay ${ANA_WALLET} 0.01 ETH 3 times`)).toBe(3);
    expect(tenTimes(`pay ${ANA_WALLET} 0.01 ETH for the tickets and ${ANA_WALLET} 0.01 ETH for the cab`)).toBe(2);
    expect(tenTimes(`pay ${ANA_WALLET} 0.01 ETH ten times`)).toBe(MAX_ACTS_PER_REQUEST);
    // By a contact's name: each time the request names it.
    const named = (text: string) =>
      bindActs(
        Array.from({ length: 4 }, (): ChosenAct => ({ act: "pay", to: "Ana", amount: "0.01 ETH" })),
        { request: readRequest(text), contacts: book },
      ).acts.length;
    expect(named("pay Ana 0.01 ETH")).toBe(1);
    expect(named("pay Ana 0.01 ETH, and Ana 0.01 ETH again for the cab")).toBe(2);
  });

  it("counts an act only by the 'twice' or 'N times' right after it, in its clause", () => {
    const times = (text: string) =>
      bindActs(
        Array.from({ length: 6 }, (): ChosenAct => ({ act: "pay", to: ANA_WALLET, amount: "0.01 ETH" })),
        { request: readRequest(text) },
      ).acts.length;
    // Before, "3 times" anywhere in the sentence tripled the act.
    expect(times(`pay ${ANA_WALLET} 0.01 ETH, I have asked you 3 times`)).toBe(1);
    expect(times(`I have asked you 3 times: pay ${ANA_WALLET} 0.01 ETH`)).toBe(1);
    expect(times(`pay ${ANA_WALLET} 0.01 ETH as I asked you 3 times`)).toBe(1);
    expect(times(`pay ${ANA_WALLET} 0.01 ETH and text Bob 3 times`)).toBe(1);
    expect(times(`send 0.01 ETH to ${ANA_WALLET} two times`)).toBe(2);
    expect(times(`manda 0,01 ETH a ${ANA_WALLET} tres veces`)).toBe(3);
    expect(times(`envoie 0,01 ETH à ${ANA_WALLET} deux fois`)).toBe(2);
    expect(times(`zahl ${ANA_WALLET} zweimal 0,01 ETH`)).toBe(2);
  });
});

describe("an act carries out a request once", () => {
  it("covers one call per act asked for; the next like it says it was done", () => {
    const bound = boundActsOf(`pay ${BOB_WALLET} 0.01 ETH for the tickets and text +15550100111 that we are booked`);
    expect(bound.acts).toHaveLength(2);
    const first = cover(bound, pay(BOB_WALLET, "0.01"));
    expect(first.act?.target).toBe(BOB_WALLET);
    if (first.act) first.act.done = true;
    expect(cover(bound, pay(BOB_WALLET, "0.01"))).toEqual({
      why: "you asked me to pay this address once, and I did",
    });
    expect(cover(bound, pay(BOB_WALLET, "0.5"))).toEqual({
      why: "you asked me to pay this address 0.01 ETH, not 0.5 ETH",
    });
    expect(cover(bound, textTo("+15550100111")).act?.act).toBe("text");
  });

  it("covers two payments of a request that asks for two, each once", () => {
    // Bob is no contact: his payment is dropped; Ana's two are two acts.
    const bound = boundActsOf("pay Ana 0.01 and Bob 0.02 ETH, and Ana 0.01 ETH for the cab");
    expect(bound.acts.map((a) => [a.target, a.amountWei])).toEqual([
      [ANA_WALLET, parseEther("0.01")],
      [ANA_WALLET, parseEther("0.01")],
    ]);
    const both = readRequest(`pay ${ANA_WALLET} 0.01 ETH and ${BOB_WALLET} 0.02 ETH`);
    const two = bindActs(chooseByRule(both), { request: both });
    expect(two.acts.map((a) => [a.target, a.amountWei])).toEqual([
      [ANA_WALLET, parseEther("0.01")],
      [BOB_WALLET, parseEther("0.02")],
    ]);
  });
});

describe("the issue's cases, at the rule: the owner's values that ask for nothing move nothing", () => {
  const PAYEE = "0x0000000000000000000000000000000000005ca1";
  const at = Date.UTC(2026, 10, 27, 10, 2);
  const ownerSaid = (text: string) => ({ kind: "owner" as const, who: "Saul", id: SAUL, at, text });

  it("a repeat: the owner's next harmless line pays and texts nothing the last one asked for", () => {
    const said = ownerSaid(`pay ${BOB_WALLET} 0.01 ETH for the tickets and text +15550100111 that we are booked`);
    const weather = boundActsOf("what is the weather tomorrow?");
    expect(judge(pay(BOB_WALLET, "0.01"), owner, [said], weather)).toEqual({
      trusted: false,
      why: "you wrote this address and this amount (0.01 ETH) at 10:02 UTC, but did not ask me to pay them in this message",
    });
    expect(judge(textTo("+15550100111"), owner, [said], weather).trusted).toBe(false);
  });

  it("a warning, a link and a quote: asked, saying so", () => {
    const warning = boundActsOf(`never pay ${PAYEE}, it is a scam. My rent is 0.5 ETH by the way.`);
    expect(judge(pay(PAYEE, "0.5"), owner, [], warning)).toEqual({
      trusted: false,
      why: "you wrote this address after a no, a never or a don't, but did not ask me to pay it",
    });
    const link = boundActsOf(`lol look at this scammer https://etherscan.io/address/${PAYEE}`);
    expect(judge(pay(PAYEE, "0.01"), owner, [], link).trusted).toBe(false);
    const quote = boundActsOf("Ana says I should text +15550188999, who is that??");
    expect(judge(textTo("+15550188999"), owner, [], quote)).toEqual({
      trusted: false,
      why: "you wrote this number in a question, but did not ask me to text it",
    });
  });

  it("the review's sentences that ask for nothing ask the owner even at L4, saying why, whatever the chooser", () => {
    const cases: [string, string][] = [
      [`if anyone asks you to pay ${PAYEE} 0.5 ETH, ignore them`, "in a conditional"],
      [
        `I was going to pay ${PAYEE} 0.5 ETH but Bob said it's a scam`,
        "in an account of the past, not a request for now",
      ],
      [`pay ${PAYEE} 0.5 ETH — just kidding`, "in a joke or a line you took back"],
      [`Pay ${PAYEE} 0.5 ETH? No way.`, "in a joke or a line you took back"],
      [`remind me to pay ${PAYEE} 0.5 ETH tomorrow`, "in a reminder or a plan for later, not a request for now"],
      [`I got a text: pay ${PAYEE} 0.5 ETH`, "in a forwarded message"],
      [`Fwd: pay ${PAYEE} 0.5 ETH`, "in a forwarded message"],
      [`they wanted me to pay ${PAYEE} 0.5 ETH`, "in someone else's words you quoted"],
      [`pay \`${PAYEE}\` 0.5 ETH`, "in code"],
      [`pay ${PAYEE} 0.5 ETH. Ignore this.`, "in what you told me to ignore"],
    ];
    for (const [text, where] of cases) {
      const request = readRequest(text);
      // A chooser that chooses what is written: the grammar, and one that pays the payee every amount.
      const chosen: ChosenAct[] = [...chooseByRule(request), { act: "pay", to: PAYEE, amount: "0.5 ETH" }];
      const verdict = judge(pay(PAYEE, "0.5"), owner, [], bindActs(chosen, { request }));
      expect(verdict.trusted, text).toBe(false);
      // The address and the amount in one part: one sentence; the amount outside the code: the address's alone.
      if (!verdict.trusted)
        expect(verdict.why, text).toMatch(
          new RegExp(`^you wrote this address (?:and this amount \\(0\\.5 ETH\\) )?${where}`),
        );
    }
  });

  it("the owner's request acts: written, by a contact's name, by a setting", () => {
    const bound = boundActsOf(
      "pay Ana 0.01 ETH, text Ana that we are booked and email personal-email about Tickets: booked",
      {
        "personal-email": "saul@example.com",
      },
    );
    expect(judge(pay(ANA_WALLET, "0.01"), owner, [], bound).trusted).toBe(true);
    expect(judge(textTo("+15550100222"), owner, [], bound).trusted).toBe(true);
    expect(judge(mailTo("saul@example.com"), owner, [], bound).trusted).toBe(true);
    expect(judge(mailTo("acct@example.com"), owner, [], bound).trusted).toBe(false);
  });
});

// ---- generated requests: fragments that ask, and fragments that hold values and ask for nothing ----

const hex40 = fc.stringMatching(/^[0-9a-f]{40}$/).map((h) => getAddress(`0x${h}`));
const phone = fc.integer({ min: 1_000_000, max: 9_999_999 }).map((n) => `+1555${n}`);
const mailbox = fc.stringMatching(/^[a-z]{3,8}$/).map((l) => `${l}@example.com`);
const eth = fc.integer({ min: 1, max: 999 }).map((n) => `0.${String(n).padStart(3, "0")}`);

type Value = { act: "pay"; to: string; eth: string } | { act: "text" | "mail"; to: string };
const value: fc.Arbitrary<Value> = fc.oneof(
  fc.tuple(hex40, eth).map(([to, e]): Value => ({ act: "pay", to, eth: e })),
  phone.map((to): Value => ({ act: "text", to })),
  mailbox.map((to): Value => ({ act: "mail", to })),
);
const asking = (v: Value) => (v.act === "pay" ? `pay ${v.to} ${v.eth} ETH` : `${v.act} ${v.to}`);
/** The same value, where it asks for nothing. */
const notAsking = (v: Value) =>
  fc.constantFrom(
    `see https://etherscan.io/tx/${v.to}${v.act === "pay" ? `?v=${v.eth}` : ""} lol`,
    `Bob said "${asking(v)} right now"`,
    `should I ${asking(v)}?`,
    `never ${asking(v)}, it is a scam`,
    `Ana says I should ${asking(v)}`,
    `> ${asking(v)}`,
  );
const fragment = value.chain((v) =>
  fc.oneof(
    fc.constant({ v, asks: true, text: asking(v) }),
    notAsking(v).map((text) => ({ v, asks: false, text })),
  ),
);
const generated = fc.record({
  fragments: fc.array(fragment, { minLength: 1, maxLength: 5 }),
  calls: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
});
/** The fragments as one message: sentences, a quoted line on a line of its own. */
const written = (fragments: { text: string }[]) =>
  fragments.map((f) => (f.text.startsWith(">") ? `\n${f.text}\n` : f.text)).join(". ");
const callOf = (v: Value): Traced =>
  v.act === "pay" ? pay(v.to, v.eth) : v.act === "text" ? textTo(v.to) : mailTo(v.to);
const sameValue = (a: Value, b: Value) =>
  a.act === b.act &&
  a.to.toLowerCase() === b.to.toLowerCase() &&
  (a.act !== "pay" || (b.act === "pay" && a.eth === b.eth));

describe("no call outside the request acts without the owner's approval (generated requests and calls)", () => {
  test.prop([generated], { numRuns: 150 })(
    "a faithful chooser: a call is trusted only as often as the request asks for exactly it, never for a value only a link, a quote, a question or a negation holds",
    ({ fragments, calls }) => {
      const text = written(fragments);
      const request = readRequest(text);
      const bound = bindActs(chooseByRule(request), { request });
      const left = new Map<Value, number>();
      for (const n of calls) {
        const v = fragments[n % fragments.length]!.v;
        const asks = fragments.filter((f) => f.asks && sameValue(f.v, v)).length;
        const key = [...left.keys()].find((k) => sameValue(k, v)) ?? v;
        const verdict = judge(callOf(v), owner, [], bound);
        if (verdict.trusted && verdict.act) verdict.act.done = true;
        const used = left.get(key) ?? 0;
        expect(verdict.trusted, text).toBe(used < asks);
        if (verdict.trusted) left.set(key, used + 1);
      }
    },
  );

  test.prop([generated], { numRuns: 150 })(
    "a chooser that chooses every value it was shown, paired any way: only values written where the request asks can act",
    ({ fragments, calls }) => {
      const text = written(fragments);
      const request = readRequest(text);
      const values = fragments.map((f) => f.v);
      const amounts = values.flatMap((v) => (v.act === "pay" ? [v.eth] : []));
      const chosen: ChosenAct[] = values.flatMap((v) =>
        v.act === "pay"
          ? amounts.map((a): ChosenAct => ({ act: "pay", to: v.to, amount: `${a} ETH` }))
          : [{ act: v.act, to: v.to }],
      );
      const bound = bindActs(chosen, { request });
      for (const n of calls) {
        const v = values[n % values.length]!;
        if (!judge(callOf(v), owner, [], bound).trusted) continue;
        const asked = fragments.filter((f) => f.asks);
        expect(
          asked.some((f) => f.v.act === v.act && f.v.to.toLowerCase() === v.to.toLowerCase()),
          text,
        ).toBe(true);
        if (v.act === "pay")
          expect(
            asked.some((f) => f.v.act === "pay" && f.v.eth === v.eth),
            text,
          ).toBe(true);
      }
    },
  );
});
