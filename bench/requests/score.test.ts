// The scoring of bench:requests on entries made up here: bound acts written by
// hand stand in for what a chooser and bindActs bind; no reading, no chooser,
// no corpus. What it checks is the arithmetic the benchmark's figures rest
// on: an act is its kind, recipient and amount, as many times as asked.
import { describe, expect, it } from "vitest";
import { goalsMissed, misses, scoreEntry, tally, type Bound, type Expected } from "./score.js";

const ANA = "0x700c0DDd0AeE24A42459E9D5cc979379aDfAa9B7";
const SCAM = "0x58DD5e9B68C65292E8E6973485569A9d497494ff";
const ETH = 10n ** 18n;
const payAna = (wei: bigint, count = 1): Expected => ({ act: "pay", target: ANA, amountWei: wei, count });
const bound = (act: Bound["act"], target: string, amountWei = 0n): Bound => ({ act, target, amountWei });

describe("scoreEntry", () => {
  it("counts a request done when the bound acts are exactly its acts", () => {
    const s = scoreEntry("request", [payAna(ETH / 100n)], [bound("pay", ANA, ETH / 100n)]);
    expect(s).toMatchObject({ asks: true, done: true, missing: [], surplus: [] });
  });

  it("counts a request bound to a wrong amount as not done, with the asked act missing and the bound one extra", () => {
    const s = scoreEntry("request", [payAna(ETH / 100n)], [bound("pay", ANA, ETH / 10n)]);
    expect(s.done).toBe(false);
    expect(s.missing).toEqual([{ act: "pay", target: ANA, amountWei: ETH / 100n }]);
    expect(s.surplus).toEqual([bound("pay", ANA, ETH / 10n)]);
    expect(misses("wrong", s)).toBe(true);
  });

  it("counts a request whose bound acts lack an act as not done, and wrong in nothing", () => {
    const s = scoreEntry(
      "request",
      [payAna(ETH / 100n), { act: "text", target: "+15550100111", amountWei: 0n, count: 1 }],
      [bound("pay", ANA, ETH / 100n)],
    );
    expect(s.done).toBe(false);
    expect(s.missing).toEqual([{ act: "text", target: "+15550100111", amountWei: 0n }]);
    expect(misses("done", s)).toBe(true);
    expect(misses("wrong", s)).toBe(false);
  });

  it("counts a non-request that binds any act as acted and wrong", () => {
    const s = scoreEntry("warning", [], [bound("pay", SCAM, ETH / 2n)]);
    expect(s).toMatchObject({ asks: false, nonRequest: true, done: false });
    expect(misses("acted", s)).toBe(true);
    expect(misses("wrong", s)).toBe(true);
    expect(misses("done", s)).toBe(false);
  });

  it("counts a non-request that binds nothing as neither acted nor wrong", () => {
    const s = scoreEntry("link", [], []);
    expect(misses("acted", s) || misses("wrong", s) || misses("done", s)).toBe(false);
  });

  it("holds a request to its count: one act of two asked is missing one, three is one extra", () => {
    const twice = [payAna(ETH / 100n, 2)];
    const once = scoreEntry("request", twice, [bound("pay", ANA, ETH / 100n)]);
    expect(once.missing).toHaveLength(1);
    const thrice = scoreEntry(
      "request",
      twice,
      Array.from({ length: 3 }, () => bound("pay", ANA, ETH / 100n)),
    );
    expect(thrice.surplus).toHaveLength(1);
    expect(scoreEntry("request", twice, [bound("pay", ANA, ETH / 100n), bound("pay", ANA, ETH / 100n)]).done).toBe(
      true,
    );
  });

  it("counts the asked act of a mixed message done, and the stated value bound beside it as acted", () => {
    const s = scoreEntry(
      "mixed",
      [payAna(ETH / 100n)],
      [bound("pay", ANA, ETH / 100n), bound("pay", SCAM, ETH / 100n)],
    );
    expect(s.done).toBe(false);
    expect(misses("acted", s)).toBe(true);
    expect(s.surplus).toEqual([bound("pay", SCAM, ETH / 100n)]);
  });

  it("tells a text from a payment to the same recipient", () => {
    const s = scoreEntry(
      "request",
      [{ act: "text", target: "+15550100111", amountWei: 0n, count: 1 }],
      [bound("mail", "+15550100111")],
    );
    expect(s.done).toBe(false);
  });
});

describe("tally and goalsMissed", () => {
  const done = scoreEntry("request", [payAna(ETH)], [bound("pay", ANA, ETH)]);
  const wrong = scoreEntry("request", [payAna(ETH)], [bound("pay", ANA, 2n * ETH)]);
  const acted = scoreEntry("past", [], [bound("pay", ANA, ETH)]);
  const quiet = scoreEntry("question", [], []);

  it("counts each figure over its own entries", () => {
    expect(tally([done, wrong, acted, quiet])).toEqual({
      entries: 4,
      asking: 2,
      done: 1,
      nonRequests: 2,
      acted: 1,
      wrong: 2,
    });
  });

  it("misses the done goal below 95% only when it is weighed, and the others at the first act not asked", () => {
    expect(goalsMissed(tally([done, wrong]), true)).toEqual(["done", "wrong"]);
    expect(goalsMissed(tally([done, wrong]), false)).toEqual(["wrong"]);
    expect(goalsMissed(tally([done, quiet]), true)).toEqual([]);
    expect(goalsMissed(tally([done, acted]), true)).toEqual(["acted", "wrong"]);
    const nineteenOfTwenty = [...Array.from({ length: 19 }, () => done), scoreEntry("request", [payAna(ETH)], [])];
    expect(goalsMissed(tally(nineteenOfTwenty), true)).toEqual([]);
  });
});
