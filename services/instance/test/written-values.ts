/**
 * TEST FIXTURE. The values the trust gate compares (src/tools/trust/values.ts),
 * generated, and the ways people write them: for the readers' own tests
 * (values.test.ts) and the origin rule's (origins.test.ts). Phone numbers
 * are possible numbers of real country codes (libphonenumber-js's lengths),
 * and the fictional North-American +1 555 ones the project's tests use.
 */
import { fc } from "@fast-check/vitest";
import { getCountries, getCountryCallingCode, Metadata, parsePhoneNumberFromString } from "libphonenumber-js";
import { formatUnits, getAddress, parseEther } from "viem";
import type { TargetKind } from "../src/tools/trust/values.js";

export const address = fc.stringMatching(/^[0-9a-f]{40}$/).map((h) => getAddress(`0x${h}`));

const metadata = new Metadata();
/** Each country's calling code and the lengths its national numbers may have. */
const PLANS = getCountries().map((country) => {
  metadata.selectNumberingPlan(country);
  return { code: getCountryCallingCode(country), lengths: metadata.numberingPlan?.possibleLengths() ?? [] };
});
/** +1 555 and seven digits: a possible number, assigned to no one (the project's tests use +1555 01xx). */
export const fictionalPhone = fc.stringMatching(/^\d{7}$/).map((rest) => `+1555${rest}`);
/** In E.164: a possible number of some country as libphonenumber-js normalizes it, or a fictional one. */
export const phone = fc.oneof(
  fc
    .constantFrom(...PLANS.filter((p) => p.lengths.length > 0))
    .chain(({ code, lengths }) =>
      fc
        .constantFrom(...lengths)
        .chain((n) => fc.stringMatching(new RegExp(`^\\d{${n}}$`)))
        .map((national) => `+${code}${national}`),
    )
    .filter((p) => {
      const number = parsePhoneNumberFromString(p);
      return number?.isPossible() === true && number.number === p;
    }),
  fictionalPhone,
);

export const mailbox = fc
  .tuple(fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8})?$/), fc.stringMatching(/^[a-z]{2,8}\.(com|org|net)$/))
  .map(([local, domain]) => `${local}@${domain}`);

/** Above 0, at most 6 decimals: what people pay. */
export const wei = fc
  .tuple(fc.integer({ min: 0, max: 20 }), fc.stringMatching(/^\d{0,6}$/))
  .map(([whole, frac]) => parseEther(`${whole}.${frac || "0"}`))
  .filter((w) => w > 0n);

/** Each character in upper or lower case, as the booleans say. */
export const cased = (s: string, upper: readonly boolean[]) =>
  [...s].map((c, i) => (upper[i % Math.max(upper.length, 1)] ? c.toUpperCase() : c.toLowerCase())).join("");

export const writeAddress = (a: string) =>
  fc.oneof(
    fc.constant(a),
    fc.constant(a.toLowerCase()),
    fc.constant(`0x${a.slice(2).toUpperCase()}`),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }).map((u) => `0x${cased(a.slice(2), u)}`),
  );
/**
 * Separators between digits: none, a space, a dash, a dot; parentheses
 * around the second group ("+1 (555) 018-8010"), as libphonenumber-js's
 * finder reads them. Never a last group of one or two digits after a space:
 * that may be a count after a number ("+49 30 1234567 2 times"), which
 * values.ts reads as no number when the digits before it are one too.
 */
export const writePhone = (p: string) =>
  fc
    .tuple(
      fc.array(fc.constantFrom("", "", "", " ", "-", "."), { minLength: p.length - 2, maxLength: p.length - 2 }),
      fc.boolean(),
    )
    .map(([seps, bracket]) => {
      // No space among the last two separators (above).
      const between = seps.map((s, i) => (i >= seps.length - 2 && s === " " ? "" : s));
      const groups = [p.slice(1, 2)];
      const joins: string[] = [];
      for (const [i, d] of [...p.slice(2)].entries()) {
        const s = between[i] ?? "";
        if (s === "") groups[groups.length - 1] += d;
        else {
          joins.push(s);
          groups.push(d);
        }
      }
      if (bracket && groups.length >= 3) groups[1] = `(${groups[1]})`;
      return `+${groups.map((g, i) => (i === 0 ? g : `${joins[i - 1]}${g}`)).join("")}`;
    });
export const writeMailbox = (m: string) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
      fc.constantFrom(["", ""], ["<", ">"], ["'", "'"], ["mailto:", ""], ["", "."], ["**", "**"], ["(", ")"]),
    )
    .map(([u, [before, after]]) => `${before}${cased(m, u)}${after}`);
export const writeAmount = (w: bigint) =>
  fc.constantFrom("ETH", "eth", "Eth", "ether", "gwei", "wei").chain((unit) =>
    fc.constantFrom(" ", "").map((space) => {
      const decimals = unit === "gwei" ? 9 : unit === "wei" ? 0 : 18;
      return `${formatUnits(w, decimals)}${space}${unit}`;
    }),
  );

/** Words between the values: no digit, no @, no +, no unit, so that they make no value of their own. */
export const filler = fc.array(
  fc.constantFrom("pay", "please", "to", "the", "mail", "text", "my", "friend", "is", "at"),
  {
    minLength: 1,
    maxLength: 3,
  },
);

/** A value and its kind: a recipient's, or an amount in wei. */
export type Held = { kind: TargetKind; value: string } | { kind: "amount"; value: bigint };

/** A value, written in one of its ways. */
export function written(h: Held): fc.Arbitrary<string> {
  switch (h.kind) {
    case "address":
      return writeAddress(h.value);
    case "phone":
      return writePhone(h.value);
    case "mailbox":
      return writeMailbox(h.value);
    case "amount":
      return writeAmount(h.value);
  }
}
