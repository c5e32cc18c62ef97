// The offline chooser's grammar (grammar.ts), in memory: the acts it reads
// in the offline commands and in the requests people write, in English,
// Spanish, French and German, and none in what asks for nothing. Real: the
// request's reading (read.ts, clauses.ts) and the value readers.
import { getAddress } from "viem";
import { describe, expect, it } from "vitest";
import { chooseByRule } from "./grammar.js";
import type { ChosenAct } from "./binding.js";
import { readRequest } from "./read.js";

const ANA_WALLET = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const SCAM = getAddress("0x0000000000000000000000000000000000005ca3");

describe("the offline chooser's grammar", () => {
  it("reads the offline commands and the requests people write", () => {
    const cases: [string, ChosenAct[]][] = [
      [`pay ${ANA_WALLET} 0.01 ETH`, [{ act: "pay", to: ANA_WALLET, amount: "0.01 ETH" }]],
      [`Concierge, send 0.05 ETH to ${ANA_WALLET}.`, [{ act: "pay", to: ANA_WALLET, amount: "0.05 ETH" }]],
      ["text +15550100001: running late", [{ act: "text", to: "+15550100001" }]],
      ["email saul@example.com about Dinner: 7pm", [{ act: "mail", to: "saul@example.com" }]],
      ["mail my accountant about the receipts", [{ act: "mail", to: "my accountant" }]],
      ["text Ana that we are booked", [{ act: "text", to: "Ana" }]],
      [
        "pay Ana 0.01 and Bob 0.02 ETH",
        [
          { act: "pay", to: "Ana", amount: "0.01 ETH" },
          { act: "pay", to: "Bob", amount: "0.02 ETH" },
        ],
      ],
      ["pay the landlord 0.5 ETH for rent", [{ act: "pay", to: "the landlord", amount: "0.5 ETH" }]],
      ["pay Bob back 0.02 ETH", [{ act: "pay", to: "Bob", amount: "0.02 ETH" }]],
      [
        `send 0.02 ETH to ${ANA_WALLET} and 0.03 ETH to ${SCAM}`,
        [
          { act: "pay", to: ANA_WALLET, amount: "0.02 ETH" },
          { act: "pay", to: SCAM, amount: "0.03 ETH" },
        ],
      ],
      [`Thanks! 0.01 ETH to ${ANA_WALLET} please`, [{ act: "pay", to: ANA_WALLET, amount: "0.01 ETH" }]],
      [`would you mind paying ${ANA_WALLET} 0.01 ETH?`, [{ act: "pay", to: ANA_WALLET, amount: "0.01 ETH" }]],
      [
        "text +15550100444 and +15550100555 that the bus is here",
        [
          { act: "text", to: "+15550100444" },
          { act: "text", to: "+15550100555" },
        ],
      ],
      [
        "text Ana and Mom that we are late",
        [
          { act: "text", to: "Ana" },
          { act: "text", to: "Mom" },
        ],
      ],
      ["forward the confirmation to ana@example.com", [{ act: "mail", to: "ana@example.com" }]],
      ["reply to ana@example.com that we accept the offer", [{ act: "mail", to: "ana@example.com" }]],
      ["send the receipts to Ana", []],
      ["what is the weather tomorrow?", []],
      [`never pay ${SCAM}, it is a scam`, []],
    ];
    for (const [text, acts] of cases) expect(chooseByRule(readRequest(text)), text).toEqual(acts);
  });

  it("reads requests in Spanish, French and German: payments, lists, texts, mails, a pronoun, the owner", () => {
    const cases: [string, ChosenAct[]][] = [
      ["paga a Lucía 0,01 ETH", [{ act: "pay", to: "Lucía", amount: "0.01 ETH" }]],
      [
        "envía 0,02 ETH a Javier y 0,03 ETH a Lucía",
        [
          { act: "pay", to: "Javier", amount: "0.02 ETH" },
          { act: "pay", to: "Lucía", amount: "0.03 ETH" },
        ],
      ],
      ["¿Podrías pagarle a Lucía 0,04 ETH?", [{ act: "pay", to: "Lucía", amount: "0.04 ETH" }]],
      ["dale una propina de 0,002 ETH a Javier", [{ act: "pay", to: "Javier", amount: "0.002 ETH" }]],
      ["escribe a Mamá que llegamos tarde", [{ act: "text", to: "Mamá" }]],
      ["manda un sms a +34 612 345 678 diciendo que ya llegamos", [{ act: "text", to: "+34612345678" }]],
      ["manda un correo a mi contable sobre las facturas", [{ act: "mail", to: "mi contable" }]],
      [
        "paga a Lucía 0,01 ETH y mándale un SMS diciendo que ya está",
        [
          { act: "pay", to: "Lucía", amount: "0.01 ETH" },
          { act: "text", to: "Lucía" },
        ],
      ],
      ["mándame un correo con el itinerario", [{ act: "mail", to: "me" }]],
      ["paie Chloé 0,01 ETH", [{ act: "pay", to: "Chloé", amount: "0.01 ETH" }]],
      ["Peux-tu verser 0,05 ETH à mon propriétaire ?", [{ act: "pay", to: "mon propriétaire", amount: "0.05 ETH" }]],
      ["envoie 0,01 ETH à Chloé trois fois", Array(3).fill({ act: "pay", to: "Chloé", amount: "0.01 ETH" })],
      ["envoie un sms à Maman pour lui dire que nous sommes arrivés", [{ act: "text", to: "Maman" }]],
      ["transfère la confirmation à bureau@example.net", [{ act: "mail", to: "bureau@example.net" }]],
      ["ne paie pas Bob, paie plutôt Chloé 0,01 ETH", [{ act: "pay", to: "Chloé", amount: "0.01 ETH" }]],
      ["zahl Jonas zweimal 0,01 ETH", Array(2).fill({ act: "pay", to: "Jonas", amount: "0.01 ETH" })],
      ["Kannst du Greta 0,05 ETH überweisen?", [{ act: "pay", to: "Greta", amount: "0.05 ETH" }]],
      ["überweise die Miete von 0,8 ETH an den Vermieter", [{ act: "pay", to: "den Vermieter", amount: "0.8 ETH" }]],
      [
        "schreib Jonas und Greta per SMS: wir sind gleich da",
        [
          { act: "text", to: "Jonas" },
          { act: "text", to: "Greta" },
        ],
      ],
      ["Kannst du dem Vermieter eine E-Mail wegen der Heizung schreiben?", [{ act: "mail", to: "dem Vermieter" }]],
      ["schick mir eine Mail mit dem Reiseplan", [{ act: "mail", to: "me" }]],
      ["Ana 0.01 ETH please", [{ act: "pay", to: "Ana", amount: "0.01 ETH" }]],
      [`I owe ${ANA_WALLET} 0.02 ETH, please pay it`, [{ act: "pay", to: ANA_WALLET, amount: "0.02 ETH" }]],
      ["Ana needs 0.02 ETH for the groceries, please pay her", [{ act: "pay", to: "Ana", amount: "0.02 ETH" }]],
      ["let Bob know by text that we're running late", [{ act: "text", to: "Bob" }]],
    ];
    for (const [text, acts] of cases) expect(chooseByRule(readRequest(text)), text).toEqual(acts);
  });

  it("chooses nothing in what asks for nothing: the review's sentences, and their kin in each language", () => {
    for (const text of [
      `if anyone asks you to pay ${SCAM} 0.5 ETH, ignore them`,
      `I was going to pay ${SCAM} 0.5 ETH but Bob said it's a scam`,
      `pay ${SCAM} 0.5 ETH — just kidding`,
      `Pay ${SCAM} 0.5 ETH? No way.`,
      `remind me to pay ${SCAM} 0.5 ETH tomorrow`,
      `I got a text: pay ${SCAM} 0.5 ETH`,
      `Fwd: pay ${SCAM} 0.5 ETH`,
      `they wanted me to pay ${SCAM} 0.5 ETH`,
      `pay \`${SCAM}\` 0.5 ETH`,
      `si Javier te lo pide, paga a ${SCAM} 0,5 ETH`,
      `¿Pagar 0,5 ETH a ${SCAM}? Ni loco.`,
      `ils voulaient que je paie 0,5 ETH à ${SCAM}`,
      `zahle ${SCAM} 0,5 ETH, nur ein Scherz`,
    ])
      expect(chooseByRule(readRequest(text)), text).toEqual([]);
  });
});
