// The request read into clauses (clauses.ts), in memory: each clause's act,
// its recipients as written, the amount beside each and its count. Real:
// the request's reading (read.ts) and the value readers; no chooser.
import { describe, expect, it } from "vitest";
import { readClauses } from "./clauses.js";
import { readRequest } from "./read.js";

const A = "0x00000000000000000000000000000000000000aa";
const B = "0x00000000000000000000000000000000000000bb";

/** Each clause as `act: recipient=amount×times, …`, recipients as written (a pronoun as what it points to, "me" for the owner). */
function clauses(text: string): string[] {
  const r = readRequest(text);
  const said = (s: { start: number; end: number }) => text.slice(s.start, s.end);
  return readClauses(r).map(
    (c) =>
      `${c.act}: ${c.items
        .map((i) => {
          const to = i.self ? "me" : said(i.ref ?? i.to);
          return `${to}${i.amount ? `=${said(i.amount)}` : ""}${i.times > 1 ? `×${i.times}` : ""}`;
        })
        .join(", ")}`,
  );
}

describe("the request's clauses", () => {
  it("reads each amount beside its recipient, before it or after a 'to', in each language", () => {
    expect(clauses(`pay ${A} 0.01 ETH and ${B} 0.5 ETH`)).toEqual([`pay: ${A}=0.01 ETH, ${B}=0.5 ETH`]);
    expect(clauses(`send 0.01 ETH to ${A} and 0.5 ETH to ${B}`)).toEqual([`pay: ${A}=0.01 ETH, ${B}=0.5 ETH`]);
    expect(clauses("pay Ana 0.01 and Bob 0.02 ETH")).toEqual(["pay: Ana=0.01, Bob=0.02 ETH"]);
    expect(clauses("pay Ana and Bob 0.01 ETH each")).toEqual(["pay: Ana=0.01 ETH, Bob=0.01 ETH"]);
    // Two recipients before one amount, without "each": which gets what is not written.
    expect(clauses("pay Ana and Bob 0.01 ETH")).toEqual(["pay: "]);
    expect(clauses("paga a Lucía 0,01 ETH y a Javier 0,02 ETH")).toEqual(["pay: Lucía=0,01 ETH, Javier=0,02 ETH"]);
    expect(clauses("envoie 0,02 ETH à Julien et 0,01 ETH à Chloé")).toEqual(["pay: Julien=0,02 ETH, Chloé=0,01 ETH"]);
    expect(clauses("Kannst du Greta 0,05 ETH überweisen?")).toEqual(["pay: Greta=0,05 ETH"]);
    expect(clauses("pay the deposit of 0.4 ETH to Ana")).toEqual(["pay: Ana=0.4 ETH"]);
  });

  it("reads a sentence of payments alone as a payment, and a remark as none", () => {
    expect(clauses("Thanks! Ana 0.01 ETH please")).toEqual(["pay: Ana=0.01 ETH"]);
    expect(clauses(`0.01 ETH to ${A} please`)).toEqual([`pay: ${A}=0.01 ETH`]);
    expect(clauses("My rent is 0.5 ETH by the way.")).toEqual([]);
    expect(clauses(`pay Ana 0.01 ETH. ${B} is Bob's old wallet.`)).toEqual(["pay: Ana=0.01 ETH"]);
  });

  it("counts only a 'twice' or 'N times' right after a recipient's payment", () => {
    expect(clauses(`pay ${A} 0.01 ETH twice`)).toEqual([`pay: ${A}=0.01 ETH×2`]);
    expect(clauses(`pay ${A} 0.01 ETH, I have asked you 3 times`)).toEqual([`pay: ${A}=0.01 ETH`]);
    expect(clauses(`zahl ${A} zweimal 0,01 ETH`)).toEqual([`pay: ${A}=0,01 ETH×2`]);
  });

  it("reads a text's and a mail's recipients before their words, the owner in 'me', and what a pronoun points back to", () => {
    expect(clauses("text Ana and Mom that Bob's number is +15550100999")).toEqual(["text: Ana, Mom"]);
    expect(clauses("mail the itinerary to my personal email")).toEqual(["mail: my personal email"]);
    expect(clauses("Pay Ana 0.01 ETH and text her that it is done")).toEqual(["pay: Ana=0.01 ETH", "text: Ana"]);
    expect(clauses(`I owe ${A} 0.02 ETH, please pay it`)).toEqual([`pay: ${A}=0.02 ETH`]);
    expect(clauses("mándame un correo con el itinerario")).toEqual(["mail: me"]);
    expect(clauses("schick mir eine Mail")).toEqual(["mail: me"]);
    expect(clauses("envoie un sms à Maman pour lui dire que nous arrivons")).toEqual(["text: Maman"]);
    expect(clauses("Kannst du dem Vermieter eine E-Mail wegen der Heizung schreiben?")).toEqual([
      "mail: dem Vermieter",
    ]);
  });

  it("reads no clause in what asks for nothing", () => {
    expect(clauses(`if Bob asks, pay ${A} 0.5 ETH`)).toEqual([]);
    expect(clauses(`never pay ${A}, pay ${B} 0.01 ETH`)).toEqual([`pay: ${B}=0.01 ETH`]);
  });
});
