// A scheduled payment's retry decided (payment-once.ts), pure: what was kept
// before the send and what the chain says of it, given as values. The chain
// itself (anvil) is firing-pay.int.test.ts's.
import { firingTag } from "@convos-pool/kit/content";
import { describe, expect, it } from "vitest";
import type { SentBefore } from "../providers/wallet.js";
import { planPayment } from "./payment-once.js";

const FIRING = "sch_0123456789abcdef01234567@2027-01-01T08:00:00Z";
const OTHER = "sch_0123456789abcdef01234567@2027-02-01T08:00:00Z";
const HASH = `0x${"ab".repeat(32)}`;
const kept = { hash: HASH, nonce: 4 };
const found = (more: Partial<NonNullable<SentBefore["found"]>> = {}, minedNonce = 5): SentBefore => ({
  minedNonce,
  found: { mined: true, success: true, data: firingTag(FIRING), hash: HASH, to: "0xA", wei: 1n, ...more },
});

describe("a scheduled payment tried again", () => {
  it("pays when nothing was kept for the firing: nothing was signed before a crash, since it is kept before it is sent", () => {
    expect(planPayment(FIRING, undefined, undefined)).toEqual({ kind: "pay" });
  });

  it("pays nothing again when the transaction kept is mined and its data names the firing", () => {
    expect(planPayment(FIRING, kept, found())).toEqual({ kind: "paid", hash: HASH });
  });

  it("pays nothing again, and says so, when the transaction kept names another firing or none", () => {
    for (const data of [firingTag(OTHER), "0x"])
      expect(planPayment(FIRING, kept, found({ data }))).toMatchObject({ kind: "failed" });
  });

  it("waits while the transaction kept is still to be mined: the claims service tries again", () => {
    expect(planPayment(FIRING, kept, found({ mined: false }, 4))).toEqual({ kind: "wait" });
  });

  it("says a reverted transaction failed and sends no other", () => {
    expect(planPayment(FIRING, kept, found({ success: false }))).toMatchObject({
      kind: "failed",
      why: expect.stringContaining(HASH),
    });
  });

  it("pays with the kept nonce when the chain never saw the transaction and that nonce is unused: one of the two at most lands", () => {
    expect(planPayment(FIRING, kept, { minedNonce: 4 })).toEqual({ kind: "pay", nonce: 4 });
    expect(planPayment(FIRING, kept, { minedNonce: 2 })).toEqual({ kind: "pay", nonce: 4 });
  });

  it("pays afresh when the chain never saw it and its nonce went to another transaction: it can never land", () => {
    expect(planPayment(FIRING, kept, { minedNonce: 5 })).toEqual({ kind: "pay" });
  });

  it("waits when the chain could not be asked about a transaction kept", () => {
    expect(planPayment(FIRING, kept, undefined)).toEqual({ kind: "wait" });
  });
});
