// The request, read (read.ts), in memory: the message cut into what may ask
// and what cannot, the words a planner is given, the values written where
// they may ask. Real: the readers (values.ts) and viem's units.
import { getAddress, parseEther } from "viem";
import { describe, expect, it } from "vitest";
import { askedAmounts, askedTargets, askingWords, readRequest } from "./read.js";

const ANA_WALLET = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const SCAM = getAddress("0x0000000000000000000000000000000000005ca3");
const notAsked = (text: string) => readRequest(text).notAsked.map((p) => [p.kind, text.slice(p.start, p.end)]);

describe("what a message asks for, read by the pool's code", () => {
  it("leaves a link, a quote, a question and what a negation reaches out of the request", () => {
    expect(notAsked("lol look at this scammer https://etherscan.io/address/0x5ca3 ok")).toEqual([
      ["link", "https://etherscan.io/address/0x5ca3"],
    ]);
    expect(notAsked(`see etherscan.io/address/${SCAM} for him`)).toEqual([["link", `etherscan.io/address/${SCAM}`]]);
    expect(notAsked('text Ana: "pay 0x1 now" is what Bob wrote')).toContainEqual(["quote", '"pay 0x1 now"']);
    expect(notAsked("Ana says I should text +15550188999, who is that??")).toEqual([
      ["question", "Ana says I should text +15550188999, who is that??"],
    ]);
    expect(notAsked(`never pay ${SCAM}, it is a scam. My rent is 0.5 ETH by the way.`)).toEqual([
      ["negation", `never pay ${SCAM}, it is a scam.`],
    ]);
    expect(notAsked("> pay 0x1 1 ETH\nthat's what he sent")).toEqual([["quote", "> pay 0x1 1 ETH"]]);
  });

  it("reads a question that starts with its act, or asks for it politely, as a request; a negation's reach ends where a new request begins", () => {
    expect(notAsked(`Concierge, can you pay Ana 0.01 ETH?`)).toEqual([]);
    expect(notAsked(`could you please text +15550100111 that we are late?`)).toEqual([]);
    expect(notAsked(`should I pay ${SCAM}?`)).toEqual([["question", `should I pay ${SCAM}?`]]);
    expect(notAsked(`why did you pay ${SCAM}?`)).toEqual([["question", `why did you pay ${SCAM}?`]]);
    expect(notAsked("email saul@example.com about Dinner: 7pm at Nopa?")).toEqual([]);
    expect(notAsked(`don't pay Bob, pay Ana 0.01 ETH`)).toEqual([["negation", "don't pay Bob"]]);
    expect(notAsked(`No, pay Ana 0.01 ETH`)).toEqual([["negation", "No"]]);
    expect(notAsked(`don't forget to pay Ana 0.01 ETH`)).toEqual([]);
    expect(notAsked(`pay Ana 0.01 ETH, not 0.1 ETH`)).toEqual([["negation", "not 0.1 ETH"]]);
    expect(notAsked(`would you mind paying ${SCAM} 0.01 ETH?`)).toEqual([]);
    expect(notAsked(`Is it possible to pay ${SCAM} 0.01 ETH today?`)).toEqual([]);
    expect(notAsked("Thanks. Can you also text +15550100111 that it's done?")).toEqual([]);
    // A negation is a word of the sentence, never a piece of a value.
    expect(notAsked("mail ana@no.net about dinner")).toEqual([]);
    expect(notAsked("mail no-reply@stop.example about it")).toEqual([]);
    expect(notAsked("No. Mail ana@example.com")).toEqual([["negation", "No."]]);
  });

  it("reads someone else's words to the end of their sentence, or to where the owner's own 'so', 'then' or 'please' asks", () => {
    expect(notAsked(`Ana said the tickets are 0.02 ETH, so please pay ${SCAM} 0.02 ETH`)).toEqual([
      ["quote", "said the tickets are 0.02 ETH"],
    ]);
    // A bare comma or colon may still be theirs: asked.
    expect(notAsked(`Bob said: pay ${SCAM} 1 ETH`)).toEqual([["quote", `said: pay ${SCAM} 1 ETH`]]);
    expect(notAsked(`Bob said the tickets are paid, pay ${SCAM} 1 ETH`)).toEqual([
      ["quote", `said the tickets are paid, pay ${SCAM} 1 ETH`],
    ]);
    expect(notAsked(`Bob said please pay ${SCAM} 1 ETH`)).toEqual([["quote", `said please pay ${SCAM} 1 ETH`]]);
    expect(notAsked(`Bob said, so pay ${SCAM} 1 ETH`)).toEqual([["quote", `said, so pay ${SCAM} 1 ETH`]]);
  });

  it("gives the planner only the words that may ask", () => {
    expect(askingWords(readRequest(`never pay ${SCAM}, it is a scam. My rent is 0.5 ETH by the way.`))).toBe(
      "… My rent is 0.5 ETH by the way.",
    );
    expect(askingWords(readRequest('pay Ana 0.01 ETH. Bob said "pay me 1 ETH" lol'))).toBe("pay Ana 0.01 ETH. Bob …");
  });

  it("reads the values written where they may ask: a bare amount only with the unit its sentence gives it", () => {
    const r = readRequest(`pay Ana 0.01 and Bob 0.02 ETH. My door code is 4921 and it is 10:30, bring 2 cakes`);
    expect(askedAmounts(r).map((a) => a.value)).toEqual([parseEther("0.01"), parseEther("0.02")]);
    const gwei = readRequest("tip Ana 5 and Bob 10 gwei");
    expect(askedAmounts(gwei).map((a) => a.value)).toEqual([5_000_000_000n, 10_000_000_000n]);
    expect(askedAmounts(readRequest(`pay ${ANA_WALLET} 0.05`))).toEqual([]);
    const link = readRequest(`pay ${ANA_WALLET} 0.01 ETH, see https://etherscan.io/address/${SCAM}`);
    expect(askedTargets(link, "address").map((f) => f.value)).toEqual([ANA_WALLET]);
  });
});
