import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planRelease, planWithdrawal, splitBalance } from "./wallet-funds.js";

// The split of an agent's wallet between its owner and the pool (docs/tools.md,
// "Whose money a wallet holds"), as pure arithmetic on wei.

const wei = fc.bigInt({ min: 0n, max: 10n ** 24n });

describe("splitBalance", () => {
  it("the two shares make the balance; the pool's is the first `granted` wei of it, never more", () => {
    fc.assert(
      fc.property(wei, wei, (balance, granted) => {
        const { owner, pool } = splitBalance(balance, granted);
        expect(owner + pool).toBe(balance);
        expect(pool <= balance && pool <= granted && (pool === balance || pool === granted)).toBe(true);
        expect(owner >= 0n && pool >= 0n).toBe(true);
        // The grant rule takes nothing from the owner beyond the grant itself.
        expect(owner).toBe(balance > granted ? balance - granted : 0n);
      }),
    );
  });

  it("spending comes out of the owner's share first: the pool's stays whole while the balance covers it", () => {
    expect(splitBalance(15n, 10n)).toEqual({ owner: 5n, pool: 10n });
    expect(splitBalance(7n, 10n)).toEqual({ owner: 0n, pool: 7n });
    expect(splitBalance(7n, 0n)).toEqual({ owner: 7n, pool: 0n });
    expect(() => splitBalance(-1n, 0n)).toThrow(RangeError);
  });
});

describe("planRelease", () => {
  it("never sends the owner's share to the pool, and spends each share only on itself and its fee", () => {
    fc.assert(
      fc.property(wei, wei, fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.boolean(), (balance, granted, fee, payout) => {
        const { owner, pool } = splitBalance(balance, granted);
        const plan = planRelease(balance, granted, fee, payout);
        const toPool = plan.transfers.filter((t) => t.to === "pool").reduce((a, t) => a + t.value + fee, 0n);
        const toOwner = plan.transfers.filter((t) => t.to === "owner").reduce((a, t) => a + t.value + fee, 0n);
        expect(toPool).toBeLessThanOrEqual(pool);
        expect(toOwner).toBeLessThanOrEqual(owner);
        for (const t of plan.transfers) expect(t.value).toBeGreaterThan(0n);
        // Held: nothing moves at all.
        if (plan.held) expect(plan.transfers).toEqual([]);
        // Without somewhere to pay the owner, the owner gets nothing sent anywhere.
        if (!payout) expect(toOwner).toBe(0n);
      }),
    );
  });

  it("pays the owner first, then the pool; a share not worth its fee stays; the owner's money without an address holds the wallet", () => {
    expect(planRelease(100n, 30n, 1n, true)).toEqual({
      held: false,
      transfers: [
        { to: "owner", value: 69n },
        { to: "pool", value: 29n },
      ],
    });
    // Only the grant's rest: to the pool, address or not.
    expect(planRelease(30n, 30n, 1n, false)).toEqual({ held: false, transfers: [{ to: "pool", value: 29n }] });
    expect(planRelease(31n, 30n, 1n, false)).toEqual({ held: false, transfers: [{ to: "pool", value: 29n }] });
    expect(planRelease(40n, 30n, 1n, false)).toEqual({ held: true, transfers: [] });
    expect(planRelease(1n, 0n, 1n, true)).toEqual({ held: false, transfers: [] });
    // A retry after the owner was paid finds the pool's share alone and splits it the same way.
    expect(planRelease(30n, 30n, 1n, true).transfers).toEqual([{ to: "pool", value: 29n }]);
  });
});

describe("planWithdrawal", () => {
  it("is the owner's share less the fee, or nothing when that is not above zero", () => {
    fc.assert(
      fc.property(wei, wei, fc.bigInt({ min: 0n, max: 10n ** 15n }), (balance, granted, fee) => {
        const { owner } = splitBalance(balance, granted);
        const out = planWithdrawal(balance, granted, fee);
        if (owner > fee) expect(out).toBe(owner - fee);
        else expect(out).toBeUndefined();
      }),
    );
    expect(planWithdrawal(100n, 30n, 1n)).toBe(69n);
    expect(planWithdrawal(31n, 30n, 1n)).toBeUndefined();
  });
});
