// The value readers (values.ts), in memory: addresses, phone numbers, mail
// addresses and amounts as people write them, each found where it was
// written and normalized; and fuzzed, on arbitrary text (unicode, lone
// surrogates) and on generated values between arbitrary words. Real:
// libphonenumber-js and viem. Nothing is a stand-in; the generated values and
// their writings are test/written-values.ts, shared with origins.test.ts.
import { fc, test } from "@fast-check/vitest";
import { parseEther, parseGwei } from "viem";
import { describe, expect, it } from "vitest";
import {
  address,
  fictionalPhone,
  filler,
  mailbox,
  phone,
  wei,
  writeAddress,
  writeAmount,
  writeMailbox,
  writePhone,
  written,
  type Held,
} from "../../../test/written-values.js";
import {
  amountsIn,
  findAmounts,
  findTargets,
  normalizeTarget,
  valuesIn,
  valuesWithin,
  type Found,
  type TargetKind,
} from "./values.js";

const PAYEE = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const KINDS: readonly TargetKind[] = ["address", "phone", "mailbox"];

/** A value of any kind. */
const held: fc.Arbitrary<Held> = fc.oneof(
  address.map((value) => ({ kind: "address" as const, value })),
  phone.map((value) => ({ kind: "phone" as const, value })),
  mailbox.map((value) => ({ kind: "mailbox" as const, value })),
  wei.map((value) => ({ kind: "amount" as const, value })),
);

/** What was written at each find: `[value, text.slice(start, end)]`. */
const where = <T>(text: string, found: Found<T>[]) => found.map((f) => [f.value, text.slice(f.start, f.end)]);

describe("phone numbers", () => {
  it("reads +1 415 555 0100 9am as +14155550100: the 9 of 9am is never joined to it", () => {
    // The reader before values.ts read +141555501009 here.
    expect(valuesIn("phone", "+1 415 555 0100 9am")).toEqual(new Set(["+14155550100"]));
    const said = "call +1 415 555 0100 9am tomorrow";
    expect(where(said, findTargets("phone", said))).toEqual([["+14155550100", "+1 415 555 0100"]]);
    // A bare 9 after it neither: +1 never has eleven digits more.
    expect(valuesIn("phone", "+1 415 555 0100 9 am")).toEqual(new Set(["+14155550100"]));
    expect(normalizeTarget("phone", "+1 415 555 0100 9")).toBeUndefined();
  });

  it("reads numbers written with spaces, dashes, dots and parentheses between groups", () => {
    for (const [said, value] of [
      ["+1 (555) 018-8010", "+15550188010"],
      ["+1-555-018-8010", "+15550188010"],
      ["+1.555.018.8010", "+15550188010"],
      ["+1 555 018 8010", "+15550188010"],
      ["+1(555)0188010", "+15550188010"],
      ["+15550188010", "+15550188010"],
      ["+44 20 7946 0958", "+442079460958"],
      // The UK's national 0, written after the country code, is not dialled from abroad.
      ["+44 (0)20 7946 0958", "+442079460958"],
    ] as const) {
      const text = `text ${said}.`;
      expect(where(text, findTargets("phone", text))).toEqual([[value, said]]);
      expect(normalizeTarget("phone", said)).toBe(value);
    }
    expect(where("(+1 555 018 8010)", findTargets("phone", "(+1 555 018 8010)"))).toEqual([
      ["+15550188010", "+1 555 018 8010"],
    ]);
  });

  it("reads two numbers in one sentence, in order, each where it was written", () => {
    const said = "text +1 (555) 018-8010 and +44 20 7946 0958, then +15550100111.";
    expect(findTargets("phone", said)).toEqual([
      { value: "+15550188010", start: 5, end: 22 },
      { value: "+442079460958", start: 27, end: 43 },
      { value: "+15550100111", start: 50, end: 62 },
    ]);
    // A comma or a sentence's end between two numbers ends the first.
    expect(valuesIn("phone", "+15550188001, 5550188002 and +15550188003. 4")).toEqual(
      new Set(["+15550188001", "+15550188003"]),
    );
  });

  it("reads the tests' fictional +1 555 numbers, which are possible but assigned to no one", () => {
    expect(valuesIn("phone", "+15550100111 +15550188010 +15550190042")).toEqual(
      new Set(["+15550100111", "+15550188010", "+15550190042"]),
    );
  });

  it("reads no number out of '+49 30 1234567 2 times': a short group after a space, when the digits before it are a number too, may be a word of its own", () => {
    // The reader before libphonenumber-js's finder read +493012345672 here (a German number's length varies).
    expect(findTargets("phone", "text +49 30 1234567 2 times")).toEqual([]);
    expect(findTargets("phone", "text +43 1 234 56 78 twice")).toEqual([]);
    // Where the digits before it are no number, it is the number's last group; a longer group always is.
    for (const [said, value] of [
      ["+33 6 12 34 56 78", "+33612345678"],
      ["+7 495 123 45 67", "+74951234567"],
      ["+34 612 34 56 78", "+34612345678"],
      ["+49 30 1234 5678", "+493012345678"],
      ["+49 151 23456789", "+4915123456789"],
      ["+39 06 1234 5678", "+390612345678"],
    ] as const)
      expect(where(`text ${said} now`, findTargets("phone", `text ${said} now`)), said).toEqual([[value, said]]);
    // A number of a country whose length is fixed is never joined to the count after it.
    expect(valuesIn("phone", "text +33 6 12 34 56 78 2 times")).toEqual(new Set(["+33612345678"]));
  });

  it("reads a number only as libphonenumber-js's finder does: brackets that do not close are no number", () => {
    expect(findTargets("phone", "text +1 (555 018 8010 now")).toEqual([]);
    expect(valuesIn("phone", "text +1 (555) 018 8010 now")).toEqual(new Set(["+15550188010"]));
  });

  it("reads no number without its +country, too short or too long for its country, of no country, or inside a word", () => {
    for (const said of [
      "call 15550188001",
      "0044 20 7946 0958",
      "+1555",
      "+1 555 018 801",
      "+15550188001234567",
      "+999 123 4567",
      "x+15550188010",
      "++15550188010",
      "+15550188010am",
      "+1 555 018 8010x12",
      "+1 555 0188010th",
    ])
      expect(findTargets("phone", said), said).toEqual([]);
    expect(normalizeTarget("phone", "call +15550188001")).toBeUndefined();
    expect(normalizeTarget("phone", "  +1 (555) 018-8001 ")).toBe("+15550188001");
  });
});

describe("wallet addresses", () => {
  it("reads an address in any case, checksummed, where it was written", () => {
    const said = `pay ${PAYEE.toLowerCase()} or 0x${PAYEE.slice(2).toUpperCase()}.`;
    expect(where(said, findTargets("address", said))).toEqual([
      [PAYEE, PAYEE.toLowerCase()],
      [PAYEE, `0x${PAYEE.slice(2).toUpperCase()}`],
    ]);
    expect(normalizeTarget("address", ` ${PAYEE.toLowerCase()} `)).toBe(PAYEE);
  });

  it("reads no address inside a longer hex string or a word, nor a short one", () => {
    for (const said of [
      `${PAYEE}00`,
      `0x${"ab".repeat(32)}`,
      `a${PAYEE}`,
      `${PAYEE}g`,
      `é${PAYEE}`,
      PAYEE.slice(0, -1),
      `0x${PAYEE}`,
    ])
      expect(findTargets("address", said), said).toEqual([]);
    expect(normalizeTarget("address", `${PAYEE}00`)).toBeUndefined();
  });
});

describe("mail addresses", () => {
  it("reads the whole address as delimited, lower-cased, without the punctuation around it", () => {
    const said = "mail <Bob@Example.com>, **ana@example.org**. or 'x.y@z.net'";
    expect(where(said, findTargets("mailbox", said))).toEqual([
      ["bob@example.com", "Bob@Example.com"],
      ["ana@example.org", "ana@example.org"],
      ["x.y@z.net", "x.y@z.net"],
    ]);
  });

  it("reads no address without a domain, with two @, or with no dot in the domain", () => {
    expect(valuesIn("mailbox", "x@y, a@b@c.com, bob@example")).toEqual(new Set());
  });
});

describe("amounts", () => {
  it("reads an amount in each unit, with or without a space, in any case, in wei", () => {
    const said = "0.05 ETH, 0.05eth, 1 Ether, 50 gwei, 1.5GWEI, 1000 wei, .5 eth";
    expect(where(said, findAmounts(said))).toEqual([
      [parseEther("0.05"), "0.05 ETH"],
      [parseEther("0.05"), "0.05eth"],
      [parseEther("1"), "1 Ether"],
      [parseGwei("50"), "50 gwei"],
      [parseGwei("1.5"), "1.5GWEI"],
      [1000n, "1000 wei"],
      [parseEther("0.5"), ".5 eth"],
    ]);
  });

  it("reads no amount without its unit, and no amount more precise than its unit", () => {
    expect(amountsIn(`pay ${PAYEE} 0.05`)).toEqual(new Set());
    expect(amountsIn("my door code is 4921, meet at 10")).toEqual(new Set());
    expect(amountsIn("0.5 wei, 0.0000000001 gwei")).toEqual(new Set());
    expect(amountsIn("0.05ETH, .05 eth, 0.050 Ether")).toEqual(new Set([parseEther("0.05")]));
  });

  it("reads no amount out of a longer number, an address, a version or a phone number", () => {
    expect(amountsIn("+15550188 ether, 0x12eth, v2.5 ETH, 1.2.5 ETH, 5ethx")).toEqual(new Set());
    // Never the digits after a comma: not 5 ETH, not 0 gwei.
    expect(amountsIn("1,5 ETH and 1,000 gwei")).toEqual(new Set([parseEther("1.5")]));
  });

  it("reads a decimal comma as Spanish, French and German owners write it, never one that may separate thousands", () => {
    const said = "0,01 ETH, 1,5 ETH, 0,010 ether, 2,75 gwei";
    expect(where(said, findAmounts(said))).toEqual([
      [parseEther("0.01"), "0,01 ETH"],
      [parseEther("1.5"), "1,5 ETH"],
      [parseEther("0.01"), "0,010 ether"],
      [parseGwei("2.75"), "2,75 gwei"],
    ]);
    // Three digits after a comma and a whole part: a thousand in English, one in German. Not read: the act asks.
    expect(amountsIn("1,000 gwei, 2,500 ETH, 1.000,50 ETH, 12,345,678 wei")).toEqual(new Set());
  });
});

describe("what a fact learned from a message may carry", () => {
  const told = fc
    .array(held, { minLength: 1, maxLength: 4 })
    .chain((hs) => fc.tuple(fc.constant(hs), fc.tuple(...hs.map(written)), fc.tuple(...hs.map(written))));

  test.prop([told, held.chain((h) => fc.tuple(fc.constant(h), written(h)))])(
    "only the recipients and amounts its message wrote, in any writing; one its message did not write is refused",
    ([hs, message, fact], [extra, extraWritten]) => {
      const said = `remember ${message.join(" and ")} please`;
      expect(valuesWithin(`so ${fact.join(" then ")} it is`, said)).toBe(true);
      fc.pre(!hs.some((h) => h.kind === extra.kind && h.value === extra.value));
      expect(valuesWithin(`so ${[...fact, extraWritten].join(" then ")} it is`, said)).toBe(false);
    },
  );

  it("takes a fact with no value at all, and refuses an address, a number or an amount its message lacks", () => {
    expect(valuesWithin("Saul is vegetarian", "I am vegetarian")).toBe(true);
    expect(valuesWithin(`Saul's accountant is acct@example.com`, "my accountant is ACCT@example.com")).toBe(true);
    expect(valuesWithin(`Saul's wallet is ${PAYEE}`, "remember my door code is 4921")).toBe(false);
    expect(valuesWithin("Saul's number is +15550188001", "my number is 555 018 8001")).toBe(false);
    expect(valuesWithin("Saul pays 1 ETH a month", "I pay 0.1 ETH a month")).toBe(false);
    // The number the owner wrote, not one joined to the digits of the next word.
    expect(valuesWithin("Saul's dentist is +14155550100", "my dentist is +1 415 555 0100 9am to 5pm")).toBe(true);
  });
});

// ---- fuzzed ----

/** Characters that make values, and the ones around them, in any script. */
const NEAR = [..."0123456789+-.() @xXaAeEtThHwWgGiI,;:<>'\"*_\n\t", "é", "ß", "١", "٣", "日", "\u0301", "🙂", "\u00a0"];
/** Arbitrary text: any code point, lone surrogates, and text dense in the characters of values. */
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...NEAR), maxLength: 200 }),
  fc
    .array(
      fc.oneof(
        fc.string({ unit: fc.constantFrom(...NEAR), maxLength: 8 }),
        phone.chain(writePhone),
        address.chain(writeAddress),
        mailbox.chain(writeMailbox),
        wei.chain(writeAmount),
      ),
      { maxLength: 10 },
    )
    .map((parts) => parts.join("")),
);

/** Words around a value: any script, digits glued to letters ("9am"), punctuation; never a bare number. */
const word = fc.oneof(
  fc.constantFrom("pay", "text", "please", "héllo", "straße", "日本語", "مرحبا", "🙂", "9am", "2nd", "x1", "—", "…"),
  fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzé日"), minLength: 1, maxLength: 6 }),
);
const words = fc.array(word, { maxLength: 4 }).map((ws) => ws.join(" "));
/** Punctuation written against a value, before and after it, that ends each kind. */
const before = fc.constantFrom("", "", "(", '"', "«", "'", "*", "\n");
const after = fc.constantFrom("", "", ")", ".", ",", "!", "?", ":", ";", '"', "»", "'", "*", "\n");

describe("fuzzed", () => {
  test.prop([anyText], { numRuns: 100 })(
    "no reader throws on arbitrary text, and what each finds, in order, normalizes to its value",
    (text) => {
      for (const kind of KINDS) {
        const found = findTargets(kind, text);
        for (const [i, f] of found.entries()) {
          const slice = text.slice(f.start, f.end);
          expect(normalizeTarget(kind, slice)).toBe(f.value);
          expect(findTargets(kind, slice)).toEqual([{ value: f.value, start: 0, end: slice.length }]);
          if (i > 0) expect(f.start).toBeGreaterThanOrEqual(found[i - 1]!.end);
        }
        expect(valuesIn(kind, text)).toEqual(new Set(found.map((f) => f.value)));
      }
      const amounts = findAmounts(text);
      for (const [i, f] of amounts.entries()) {
        const slice = text.slice(f.start, f.end);
        expect(findAmounts(slice)).toEqual([{ value: f.value, start: 0, end: slice.length }]);
        if (i > 0) expect(f.start).toBeGreaterThanOrEqual(amounts[i - 1]!.end);
      }
      expect(amountsIn(text)).toEqual(new Set(amounts.map((f) => f.value)));
      expect(typeof valuesWithin(text, text)).toBe("boolean");
    },
  );

  test.prop([anyText], { numRuns: 100 })(
    "a number found is a +, groups of digits and their separators, never glued to a word on either side",
    (text) => {
      for (const f of findTargets("phone", text)) {
        expect(text.slice(f.start, f.end)).toMatch(/^\+\d+(?:\)?[ .-]?\(?\d+)*$/);
        expect(text.slice(Math.max(0, f.start - 2), f.start)).not.toMatch(/[\p{L}\p{N}\p{M}+]$/u);
        expect(text.slice(f.end, f.end + 2)).not.toMatch(/^[\p{L}\p{N}\p{M}]/u);
      }
    },
  );

  test.prop([held.chain((h) => fc.tuple(fc.constant(h), written(h))), words, before, after, words], { numRuns: 100 })(
    "a value written between arbitrary words and punctuation is found exactly once, with its value, where it was written",
    ([h, w], lead, open, close, trail) => {
      const text = `${lead} ${open}${w}${close} ${trail}`;
      const found: Found<string | bigint>[] = h.kind === "amount" ? findAmounts(text) : findTargets(h.kind, text);
      expect(found.map((f) => f.value)).toEqual([h.value]);
      const slice = text.slice(found[0]!.start, found[0]!.end);
      // A mail address is found without the brackets, quotes or "mailto:" written around it.
      if (h.kind === "mailbox") expect(slice.toLowerCase()).toBe(h.value);
      else expect(slice).toBe(w);
    },
  );

  /** A word of digits glued to letters, or digits after punctuation that ends a number. */
  const digitWord = fc.oneof(
    fc
      .tuple(fc.stringMatching(/^\d{1,4}$/), fc.constantFrom("am", "pm", "nd", "x", "é", "日"))
      .map(([d, l]) => ` ${d}${l}`),
    fc
      .tuple(fc.constantFrom(", ", "; ", ": ", ". ", " / ", " - ", "\n"), fc.stringMatching(/^\d{1,4}$/))
      .map(([p, d]) => `${p}${d}`),
  );
  test.prop([phone.chain((p) => fc.tuple(fc.constant(p), writePhone(p))), digitWord, filler])(
    "the digits of the next word are never joined to a number",
    ([p, w], next, rest) => {
      expect(findTargets("phone", `text ${w}${next} ${rest.join(" ")}`).map((f) => f.value)).toEqual([p]);
    },
  );

  test.prop([phone.chain((p) => fc.tuple(fc.constant(p), writePhone(p))), fc.stringMatching(/^\d{1,2}$/)])(
    "a count after a number of any country is never joined to it: the number is read alone, or not at all when the two could be one",
    ([p, w], count) => {
      const found = findTargets("phone", `text ${w} ${count} times`).map((f) => f.value);
      expect(found.every((v) => v === p)).toBe(true);
      expect(found.length).toBeLessThanOrEqual(1);
      // Read alone whenever the count cannot join it.
      if (normalizeTarget("phone", `${p}${count}`) === undefined) expect(found).toEqual([p]);
    },
  );

  test.prop([fictionalPhone.chain((p) => fc.tuple(fc.constant(p), writePhone(p))), fc.stringMatching(/^\d{1,4}$/)])(
    "a +1 number is never joined to a bare number after it: it never has more than ten digits",
    ([p, w], digits) => {
      expect(findTargets("phone", `text ${w} ${digits} times`).map((f) => f.value)).toEqual([p]);
    },
  );
});
