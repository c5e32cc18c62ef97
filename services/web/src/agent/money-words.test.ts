// An agent's money in its owner's words, from answers shaped as
// GetAgentFunds returns them and the pool's record of the agent's level and
// limit shaped as GetInstance returns it (no call is made).
import { create } from "@bufbuild/protobuf";
import { GetAgentFundsResponseSchema } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { SpendLimitKind } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import { limitSentence, moneyWords, type LimitHeld } from "./money-words";

const funds = (over: Parameters<typeof create<typeof GetAgentFundsResponseSchema>>[1] = {}) =>
  create(GetAgentFundsResponseSchema, {
    walletAddress: "0x12ab34cd56ef78ab90cd12ef34ab56cd78eb0b01",
    balanceWei: "510000000000000000",
    ownerShareWei: "500000000000000000",
    poolShareWei: "10000000000000000",
    spentTodayWei: "3000000000000000",
    ...over,
  });

const held = (over: Partial<LimitHeld> = {}): LimitHeld => ({
  trustLevel: TrustLevel.AUTONOMOUS,
  dailySpendLimitWei: "50000000000000000",
  dailySpendLimitKind: SpendLimitKind.SIGNED,
  ...over,
});

describe("an agent's money", () => {
  it("at L4: the balance, your share, the pool's, and today's spending against the limit with what is left", () => {
    expect(moneyWords(funds(), held())).toEqual({
      balance: "0.51 ETH",
      yours: "0.5 ETH, yours to withdraw (less the transfer's fee)",
      pool: "0.01 ETH, the pool's grant: it stays in the wallet",
      spentToday: "0.003 ETH of its 0.05 ETH a day",
      left: "0.047 ETH left today",
    });
  });

  it("at L2 and L3 shows the limit the owner signed and what is left, each payment with their yes", () => {
    const w = moneyWords(funds(), held({ trustLevel: TrustLevel.OPERATOR }));
    expect(w.spentToday).toBe("0.003 ETH of its 0.05 ETH a day, each payment with your yes");
    expect(w.left).toBe("0.047 ETH left today");
    expect(moneyWords(funds(), held({ trustLevel: TrustLevel.ADVISOR })).left).toBe("0.047 ETH left today");
  });

  it("without a limit at L2 or L3 says it pays nothing (it said it paid with a yes); at L1 the same, a limit or not", () => {
    const none = moneyWords(funds(), held({ trustLevel: TrustLevel.OPERATOR, dailySpendLimitWei: "" }));
    expect(none.spentToday).toBe("0.003 ETH; it pays nothing: you set no daily limit");
    expect(none.left).toBeUndefined();
    const l1 = moneyWords(funds(), held({ trustLevel: TrustLevel.OBSERVER }));
    expect(l1.spentToday).toBe("0.003 ETH; at L1 it pays nothing");
    expect(l1.left).toBeUndefined();
  });

  it("rounds amounts as people read them, not to 18 decimals", () => {
    const w = moneyWords(funds({ balanceWei: "509876543210987654", spentTodayWei: "12345600000000" }), held());
    expect(w.balance).toBe("0.5099 ETH");
    expect(w.spentToday).toBe("0.000012 ETH of its 0.05 ETH a day");
  });

  it("over the limit leaves nothing, never a negative amount; an empty wallet has nothing of yours and no grant", () => {
    expect(moneyWords(funds({ spentTodayWei: "60000000000000000" }), held()).left).toBe("0 ETH left today");
    const empty = moneyWords(
      funds({ balanceWei: "0", ownerShareWei: "0", poolShareWei: "0", spentTodayWei: "0" }),
      held(),
    );
    expect(empty).toEqual({
      balance: "0 ETH",
      yours: "nothing of yours",
      spentToday: "0 ETH of its 0.05 ETH a day",
      left: "0.05 ETH left today",
    });
  });

  it("at L3 with a limit confirmed in Convos and the agent's answer naming none (below L4), counts against the pool's record of it", () => {
    const w = moneyWords(
      funds({ dailySpendLimitWei: "", spentTodayWei: "1020000000000000" }),
      held({
        trustLevel: TrustLevel.OPERATOR,
        dailySpendLimitWei: "10000000000000000",
        dailySpendLimitKind: SpendLimitKind.CONFIRMED_IN_CONVOS,
      }),
    );
    expect(w.spentToday).toBe("0.001 ETH of its 0.01 ETH a day, each payment with your yes");
    expect(w.left).toBe("0.009 ETH left today");
  });
});

describe("what it may pay, and how its limit was set", () => {
  it("names a limit confirmed in Convos with its cap, and that a wallet can sign more", () => {
    expect(
      limitSentence(
        held({
          trustLevel: TrustLevel.OPERATOR,
          dailySpendLimitWei: "10000000000000000",
          dailySpendLimitKind: SpendLimitKind.CONFIRMED_IN_CONVOS,
        }),
      ),
    ).toBe(
      "It may pay up to 0.01 ETH a day, each payment with your yes: a limit you confirmed in Convos, up to 0.05 ETH a day max (a wallet of yours can sign more).",
    );
  });

  it("names a signed limit as signed, at L4 without asking", () => {
    expect(limitSentence(held())).toBe("At L4 it may move up to 0.05 ETH a day without asking: a limit you signed.");
    expect(limitSentence(held({ trustLevel: TrustLevel.ADVISOR }))).toBe(
      "It may pay up to 0.05 ETH a day, each payment with your yes: a limit you signed.",
    );
  });

  it("says it pays nothing without a limit, and at L1 whatever limit is recorded", () => {
    const none = held({
      trustLevel: TrustLevel.OPERATOR,
      dailySpendLimitWei: "0",
      dailySpendLimitKind: SpendLimitKind.UNSPECIFIED,
    });
    expect(limitSentence(none)).toBe("It pays nothing: you set no daily limit for its wallet.");
    expect(limitSentence(held({ trustLevel: TrustLevel.OBSERVER }))).toBe("At L1 it uses no tool: it pays nothing.");
  });
});
