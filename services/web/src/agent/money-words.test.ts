// An agent's money in its owner's words, from answers shaped as
// GetAgentFunds returns them (no call is made).
import { create } from "@bufbuild/protobuf";
import { GetAgentFundsResponseSchema } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { describe, expect, it } from "vitest";
import { moneyWords } from "./money-words";

const funds = (over: Parameters<typeof create<typeof GetAgentFundsResponseSchema>>[1] = {}) =>
  create(GetAgentFundsResponseSchema, {
    walletAddress: "0x12ab34cd56ef78ab90cd12ef34ab56cd78eb0b01",
    balanceWei: "510000000000000000",
    ownerShareWei: "500000000000000000",
    poolShareWei: "10000000000000000",
    spentTodayWei: "3000000000000000",
    dailySpendLimitWei: "50000000000000000",
    trustLevel: TrustLevel.AUTONOMOUS,
    ...over,
  });

describe("an agent's money", () => {
  it("at L4: the balance, your share, the pool's, and today's spending against the limit with what is left", () => {
    expect(moneyWords(funds())).toEqual({
      balance: "0.51 ETH",
      yours: "0.5 ETH, yours to withdraw (less the transfer's fee)",
      pool: "0.01 ETH, the pool's grant: it stays in the wallet",
      spentToday: "0.003 ETH of its 0.05 ETH a day",
      left: "0.047 ETH left today",
    });
  });

  it("below L4 says it pays only with your yes, and shows no limit even when one was set", () => {
    const w = moneyWords(funds({ trustLevel: TrustLevel.OPERATOR, dailySpendLimitWei: "" }));
    expect(w.spentToday).toBe("0.003 ETH; below L4 it pays only when you say yes");
    expect(w.left).toBeUndefined();
  });

  it("over the limit leaves nothing, never a negative amount; an empty wallet has nothing of yours and no grant", () => {
    expect(moneyWords(funds({ spentTodayWei: "60000000000000000" })).left).toBe("0 ETH left today");
    const empty = moneyWords(funds({ balanceWei: "0", ownerShareWei: "0", poolShareWei: "0", spentTodayWei: "0" }));
    expect(empty).toEqual({
      balance: "0 ETH",
      yours: "nothing of yours",
      spentToday: "0 ETH of its 0.05 ETH a day",
      left: "0.05 ETH left today",
    });
  });
});
