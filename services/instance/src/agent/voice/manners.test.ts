// How the agent speaks (manners.ts), in memory: when an answer is a reply,
// when it is markdown, and what a payment's transaction reference says.
// Everything is real; no XMTP client.
import { fc, test } from "@fast-check/vitest";
import { parseEther } from "viem";
import { describe, expect, it } from "vitest";
import { answerForm, GROUP_MEMBERS, hasStructure, paymentReference, THINKING_LABEL, tokenAmount } from "./manners.js";

describe("answerForm", () => {
  it("replies to the message it answers in a group of three or more, the agent counted", () => {
    expect(GROUP_MEMBERS).toBe(3);
    expect(answerForm("Sure.", 3, "m1")).toEqual({ replyTo: "m1", markdown: false });
    expect(answerForm("Sure.", 12, "m1")).toEqual({ replyTo: "m1", markdown: false });
  });

  it("answers on its own with one person, and when there is no message to answer (a text from outside, a mail notice)", () => {
    expect(answerForm("Sure.", 2, "m1")).toEqual({ markdown: false });
    expect(answerForm("Sure.", 5)).toEqual({ markdown: false });
  });

  it("is markdown when the answer has structure, in either form", () => {
    expect(answerForm("Bring:\n- a tent\n- a stove", 4, "m1")).toEqual({ replyTo: "m1", markdown: true });
    expect(answerForm("Bring:\n- a tent\n- a stove", 2, "m1")).toEqual({ markdown: true });
  });
});

describe("hasStructure", () => {
  it.each([
    ["a heading", "# Day one\nWe walk."],
    ["a lower heading", "Plan\n### Morning"],
    ["a list of two", "Bring:\n- a tent\n- a stove"],
    ["a starred list", "* one\n* two"],
    ["a numbered list", "Steps:\n1. Book\n2. Pack"],
    ["a numbered list with parentheses", "1) Book\n2) Pack"],
    ["a fenced code block", "Run:\n```\nnpm start\n```"],
    ["a tilde fence", "~~~\nls\n~~~"],
    ["a table", "| day | where |\n| --- | --- |\n| 1 | Nopa |"],
    ["a table with aligned columns", "| a | b |\n|:---|---:|"],
  ])("finds %s", (_, text) => {
    expect(hasStructure(text)).toBe(true);
  });

  it.each([
    ["a sentence", "Dinner is at 7pm at Nopa."],
    ["one dash in prose", "Well - maybe later."],
    ["a single list-like line", "- just this"],
    ["emphasis and a link", "This is **important**: see [the menu](https://example.com)."],
    ["inline code", "Run `npm start` and wait."],
    ["an unclosed fence", "```\nnot closed"],
    ["a hash that is not a heading", "#hashtag and #2"],
    [
      "an approval question",
      "Saul, may I do this?\n\nPay 0.01 ETH\nTo: 0xabc\nOn chain: 31337\n\nReply with yes or no.",
    ],
    ["a number in a sentence", "It costs 2. Then 3. That is all."],
    ["pipes without a rule", "a | b\nc | d"],
  ])("finds no structure in %s", (_, text) => {
    expect(hasStructure(text)).toBe(false);
  });

  test.prop([fc.string({ maxLength: 200 }).filter((s) => !s.includes("\n"))])(
    "a single line is never structured unless it is a heading",
    (line) => {
      expect(hasStructure(line)).toBe(/^#{1,6}\s+\S/.test(line));
    },
  );
});

describe("thinking", () => {
  it("labels the status in three to five words, as Convos asks", () => {
    const words = THINKING_LABEL.split(/\s+/).length;
    expect(words).toBeGreaterThanOrEqual(3);
    expect(words).toBeLessThanOrEqual(5);
  });
});

describe("tokenAmount", () => {
  it("keeps wei as they are while a number holds them exactly", () => {
    expect(tokenAmount(1n)).toEqual({ amount: 1, decimals: 18 });
    expect(tokenAmount(BigInt(Number.MAX_SAFE_INTEGER))).toEqual({ amount: Number.MAX_SAFE_INTEGER, decimals: 18 });
  });

  it("counts larger amounts in larger units, exactly when they end in zeros", () => {
    expect(tokenAmount(parseEther("0.01"))).toEqual({ amount: 1e15, decimals: 17 });
    expect(tokenAmount(parseEther("1"))).toEqual({ amount: 1e15, decimals: 15 });
    expect(tokenAmount(parseEther("12345.678"))).toEqual({ amount: 1234567800000000, decimals: 11 });
  });

  test.prop([fc.bigInt({ min: 1n, max: 10n ** 30n })])(
    "always a safe whole number of units, within half a unit of the amount",
    (wei) => {
      const { amount, decimals } = tokenAmount(wei);
      expect(Number.isSafeInteger(amount)).toBe(true);
      const unit = 10n ** BigInt(18 - decimals);
      const back = BigInt(amount) * unit;
      const diff = back > wei ? back - wei : wei - back;
      // Rounding at each of several steps adds up to less than one unit.
      expect(diff < unit).toBe(true);
    },
  );
});

describe("paymentReference", () => {
  it("says the chain, the transaction, the amount and both wallets, and a text for clients without the type", () => {
    const from = `0x${"a".repeat(40)}`;
    const to = `0x${"b".repeat(40)}`;
    const hash = `0x${"c".repeat(64)}`;
    expect(paymentReference({ chainId: 31337, hash, from, to, wei: parseEther("0.01") })).toEqual({
      reference: {
        namespace: "eip155",
        networkId: "0x7a69",
        reference: hash,
        metadata: {
          transactionType: "transfer",
          currency: "ETH",
          amount: 1e15,
          decimals: 17,
          fromAddress: from,
          toAddress: to,
        },
      },
      fallback: `Paid 0.01 ETH to ${to} on chain 31337: transaction ${hash}`,
    });
  });
});
