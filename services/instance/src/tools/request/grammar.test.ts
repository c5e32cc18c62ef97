// The offline planner's grammar (grammar.ts), in memory: the acts it reads
// in the offline commands and in the requests people write.
import { getAddress } from "viem";
import { describe, expect, it } from "vitest";
import { planByRule } from "./grammar.js";
import type { PlannedAct } from "./plan.js";
import { readRequest } from "./read.js";

const ANA_WALLET = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const SCAM = getAddress("0x0000000000000000000000000000000000005ca3");

describe("the offline planner's grammar", () => {
  it("reads the offline commands and the requests people write", () => {
    const cases: [string, PlannedAct[]][] = [
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
    for (const [text, acts] of cases) expect(planByRule(readRequest(text)), text).toEqual(acts);
  });
});
