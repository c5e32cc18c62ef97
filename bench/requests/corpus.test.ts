// The corpora of bench:requests as committed (bench/requests/*.jsonl, and the
// held-out set written without looking at the reader,
// bench/requests/held-out/*.jsonl; read from disk) and their owner (book.ts):
// each corpus's size and language shares, every label well-formed, each
// value read by viem or libphonenumber-js (not by the pool's own reader,
// which the benchmark measures), and no held-out message among the
// corpus's. It checks the labels' shape, never what the pool does with the
// messages.
import { parsePhoneNumberFromString } from "libphonenumber-js";
import { getAddress, isAddress } from "viem";
import { describe, expect, it } from "vitest";
import { CONTACTS, SETTINGS } from "./book.js";
import { CATEGORIES, KIND_OF, LANGUAGES, expectedOf, loadCorpus, recipientOf, weiOf, type Entry } from "./corpus.js";

const main = loadCorpus();
const heldOut = loadCorpus(new URL("held-out/", import.meta.url));
const of = (corpus: readonly Entry[], lang: string) => corpus.filter((e) => e.lang === lang).length;

describe("the corpus", () => {
  it("holds at least 400 messages, 40% of them English and at least 60 in each other language", () => {
    expect(main.length).toBeGreaterThanOrEqual(400);
    expect(of(main, "en") / main.length).toBeGreaterThanOrEqual(0.4);
    for (const lang of ["es", "fr", "de"]) expect(of(main, lang)).toBeGreaterThanOrEqual(60);
  });
});

describe("the held-out corpus", () => {
  it("holds at least 160 messages, at least 60 in English and 30 in each other language", () => {
    expect(heldOut.length).toBeGreaterThanOrEqual(160);
    expect(of(heldOut, "en")).toBeGreaterThanOrEqual(60);
    for (const lang of ["es", "fr", "de"]) expect(of(heldOut, lang)).toBeGreaterThanOrEqual(30);
  });

  it("asks for acts in about half its messages", () => {
    const asking = heldOut.filter((e) => e.acts.length > 0).length / heldOut.length;
    expect(asking).toBeGreaterThanOrEqual(0.4);
    expect(asking).toBeLessThanOrEqual(0.6);
  });

  it("shares no id and no message with the corpus", () => {
    const text = (e: Entry) => e.text.toLowerCase().replace(/\s+/g, " ").trim();
    const ids = new Set(main.map((e) => e.id));
    const texts = new Set(main.map(text));
    expect(heldOut.filter((e) => ids.has(e.id)).map((e) => e.id)).toEqual([]);
    expect(heldOut.filter((e) => texts.has(text(e))).map((e) => e.id)).toEqual([]);
  });
});

describe.each([
  ["the corpus", main],
  ["the held-out corpus", heldOut],
] as const)("%s's labels", (_, corpus) => {
  it("gives every entry a unique id, a known language and category, and a text", () => {
    expect(new Set(corpus.map((e) => e.id)).size).toBe(corpus.length);
    for (const e of corpus) {
      expect(LANGUAGES, e.id).toContain(e.lang);
      expect(CATEGORIES, e.id).toContain(e.category);
      expect(e.text.trim(), e.id).not.toBe("");
      expect(e.id.startsWith(`${e.lang}-`), e.id).toBe(true);
    }
  });

  it("labels every request with an act, every plain non-request with none, and a mixed message with the one asked", () => {
    for (const e of corpus) {
      if (e.category === "request" || e.category === "mixed") expect(e.acts.length, e.id).toBeGreaterThan(0);
      else if (e.category !== "count") expect(e.acts, e.id).toEqual([]);
    }
    for (const category of CATEGORIES)
      expect(
        corpus.some((e) => e.category === category),
        category,
      ).toBe(true);
  });

  it("labels every act well: its kind, a recipient of that kind, an amount with its unit for a payment only, a count of 1 to 6", () => {
    for (const e of corpus)
      for (const a of e.acts) {
        expect(["pay", "text", "mail"], e.id).toContain(a.act);
        expect(recipientOf(KIND_OF[a.act], a.to), `${e.id}: ${a.act} ${a.to}`).toBeDefined();
        if (a.act === "pay") expect(weiOf(a.amount ?? ""), e.id).toBeGreaterThan(0n);
        else expect(a.amount, e.id).toBeUndefined();
        expect(a.count ?? 1, e.id).toBeGreaterThanOrEqual(1);
        expect(a.count ?? 1, e.id).toBeLessThanOrEqual(6);
      }
    expect(() => corpus.map(expectedOf)).not.toThrow();
  });

  it("writes each value it labels as the gate compares it: checksummed, E.164, lower case", () => {
    for (const e of corpus)
      for (const a of e.acts) {
        if (a.to.startsWith("0x")) expect(isAddress(a.to) && getAddress(a.to) === a.to, `${e.id}: ${a.to}`).toBe(true);
        if (a.to.startsWith("+")) {
          const p = parsePhoneNumberFromString(a.to);
          expect(p?.isPossible() && p.number === a.to, `${e.id}: ${a.to}`).toBe(true);
        }
        if (a.to.includes("@")) expect(a.to, e.id).toBe(a.to.toLowerCase());
      }
  });

  it("names only contacts of the owner's address book that hold a value of the act's kind, or settings", () => {
    for (const e of corpus)
      for (const a of e.acts) {
        if (/^0x|^\+|@/.test(a.to)) continue;
        const kind = KIND_OF[a.act];
        expect(CONTACTS[a.to]?.[kind] !== undefined || Object.hasOwn(SETTINGS, a.to), `${e.id}: ${a.act} ${a.to}`).toBe(
          true,
        );
      }
  });
});

describe("the owner", () => {
  it("keeps each contact's values as the gate compares them, numbers of other countries valid ones", () => {
    for (const [name, values] of Object.entries(CONTACTS)) {
      if (values.address) expect(getAddress(values.address), name).toBe(values.address);
      if (values.mailbox) expect(values.mailbox, name).toBe(values.mailbox.toLowerCase());
      if (values.phone) {
        const p = parsePhoneNumberFromString(values.phone);
        expect(p?.number, name).toBe(values.phone);
        expect(values.phone.startsWith("+1555") ? p?.isPossible() : p?.isValid(), name).toBe(true);
      }
    }
  });

  it("keeps settings that each hold one value of one kind", () => {
    for (const [name, value] of Object.entries(SETTINGS)) {
      const kinds = (["address", "phone", "mailbox"] as const).filter((k) => recipientOf(k, value)?.source === "value");
      expect(kinds, name).toHaveLength(1);
    }
  });
});
