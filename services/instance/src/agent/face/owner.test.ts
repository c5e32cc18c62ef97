// The owner's calls' windows and a transfer's checks before any signature
// (owner.ts), in memory: no verifier, no workspace; the signatures
// themselves are checked over the network in host.int.test.ts.
import { create } from "@bufbuild/protobuf";
import { fc } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { SignatureSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TransferOwnerRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { NONCE_KEEP_SECONDS, SIGNATURE_MAX_AGE_SECONDS } from "@convos-pool/kit/content";
import { codeOf } from "@convos-pool/kit/testing";
import {
  ACCEPTANCE_NONCE_KEEP_SECONDS,
  noteOffer,
  OWNER_CALL_NONCE_KEEP_SECONDS,
  planTransfer,
  pausedNow,
  planWithdrawal,
  TRANSFER_OFFER_MAX_AGE_SECONDS,
  TRANSFER_OFFER_MAX_SKEW_SECONDS,
  TRANSFER_OFFER_NONCE_KEEP_SECONDS,
} from "./owner.js";

const OWNER = "0a4e".padEnd(64, "0");
const NEXT = "2e47".padEnd(64, "0");
const NOW = 1_800_000_000;

const request = (over: { ownerId?: string; newOwnerId?: string; offeredAt?: number; nonce?: string } = {}) =>
  create(TransferOwnerRequestSchema, {
    ownerId: over.ownerId ?? OWNER,
    newOwnerId: over.newOwnerId ?? NEXT,
    offer: create(SignatureSchema, { issuedAt: BigInt(over.offeredAt ?? NOW - 3600), nonce: over.nonce ?? "0xn1" }),
  });
const code = (f: () => unknown) => codeOf(Promise.resolve().then(f));

describe("the owner's signature windows", () => {
  it("keeps a transfer offer's nonce twice its 7-day window, and other owner nonces the kit's window", () => {
    expect(TRANSFER_OFFER_MAX_AGE_SECONDS).toBe(7 * 24 * 60 * 60);
    expect(TRANSFER_OFFER_NONCE_KEEP_SECONDS).toBe(2 * TRANSFER_OFFER_MAX_AGE_SECONDS);
    expect(ACCEPTANCE_NONCE_KEEP_SECONDS).toBe(NONCE_KEEP_SECONDS);
    expect(OWNER_CALL_NONCE_KEEP_SECONDS).toBe(NONCE_KEEP_SECONDS);
    expect(NONCE_KEEP_SECONDS).toBeGreaterThan(SIGNATURE_MAX_AGE_SECONDS);
  });
});

describe("a pause, as its daily counts count it (docs/signals.md)", () => {
  const MODES = [
    ParticipationMode.UNSPECIFIED,
    ParticipationMode.SPEAK,
    ParticipationMode.MENTION,
    ParticipationMode.PAUSED,
  ];
  const p = (mode: ParticipationMode, cooldownSeconds = 0) => ({ mode, cooldownSeconds });

  it("is a change to paused: from any other mode, and not paused again with another cooldown, nor unpaused", () => {
    expect(pausedNow(p(ParticipationMode.UNSPECIFIED), p(ParticipationMode.PAUSED))).toBe(true);
    expect(pausedNow(p(ParticipationMode.SPEAK, 3600), p(ParticipationMode.PAUSED))).toBe(true);
    expect(pausedNow(p(ParticipationMode.PAUSED), p(ParticipationMode.PAUSED, 60))).toBe(false);
    expect(pausedNow(p(ParticipationMode.PAUSED), p(ParticipationMode.SPEAK))).toBe(false);
  });

  it("counts once however often the owner sets it, however they go: the pauses are the changes to paused", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...MODES), { maxLength: 30 }), (sets) => {
        let was = p(ParticipationMode.UNSPECIFIED);
        let counted = 0;
        for (const mode of sets) {
          if (pausedNow(was, p(mode))) counted += 1;
          was = p(mode);
        }
        const changes = sets.filter(
          (m, i) => m === ParticipationMode.PAUSED && (sets[i - 1] ?? ParticipationMode.UNSPECIFIED) !== m,
        );
        expect(counted).toBe(changes.length);
      }),
    );
  });
});

describe("a transfer's checks before any signature", () => {
  it("plans a transfer offered within 7 days by the owner to another inbox", () => {
    expect(planTransfer(OWNER, request(), NOW)).toEqual({ done: false, offeredAt: NOW - 3600 });
    const oldest = NOW - TRANSFER_OFFER_MAX_AGE_SECONDS;
    expect(planTransfer(OWNER, request({ offeredAt: oldest }), NOW)).toEqual({ done: false, offeredAt: oldest });
  });

  it("takes a retry after the transfer went through as done", () => {
    expect(planTransfer(NEXT, request(), NOW)).toEqual({ done: true });
  });

  it("refuses an offer older than 7 days, from someone not the owner, to the owner, or to no inbox", async () => {
    const stale = request({ offeredAt: NOW - TRANSFER_OFFER_MAX_AGE_SECONDS - 1 });
    expect(await code(() => planTransfer(OWNER, stale, NOW))).toBe("Unauthenticated");
    expect(await code(() => planTransfer(OWNER, request({ ownerId: NEXT.replace("2", "3") }), NOW))).toBe(
      "PermissionDenied",
    );
    expect(await code(() => planTransfer(OWNER, request({ newOwnerId: OWNER }), NOW))).toBe("InvalidArgument");
    expect(await code(() => planTransfer(OWNER, request({ newOwnerId: "not-an-inbox" }), NOW))).toBe("InvalidArgument");
  });

  it("refuses an offer its owner withdrew: signed at or before the withdrawal to that inbox, not after, not to another", async () => {
    const withdrawn = { withdrawnOffers: { [NEXT]: NOW - 600 } };
    expect(await code(() => planTransfer(OWNER, request({ offeredAt: NOW - 3600 }), NOW, withdrawn))).toBe(
      "PermissionDenied",
    );
    expect(await code(() => planTransfer(OWNER, request({ offeredAt: NOW - 600 }), NOW, withdrawn))).toBe(
      "PermissionDenied",
    );
    expect(planTransfer(OWNER, request({ offeredAt: NOW - 599 }), NOW, withdrawn)).toEqual({
      done: false,
      offeredAt: NOW - 599,
    });
    const other = "3e47".padEnd(64, "0");
    expect(planTransfer(OWNER, request({ newOwnerId: other }), NOW, withdrawn)).toMatchObject({ done: false });
  });
});

describe("a transfer offer's deadline", () => {
  it("allows 5 minutes of clock skew ahead and 7 days after its date", () => {
    expect(TRANSFER_OFFER_MAX_SKEW_SECONDS).toBe(5 * 60);
    expect(TRANSFER_OFFER_MAX_AGE_SECONDS).toBe(7 * 24 * 60 * 60);
  });

  it("refuses an offer dated more than the skew ahead, naming offer.issued_at", async () => {
    const ahead = request({ offeredAt: NOW + TRANSFER_OFFER_MAX_SKEW_SECONDS + 1 });
    expect(await code(() => planTransfer(OWNER, ahead, NOW))).toBe("Unauthenticated");
    expect(() => planTransfer(OWNER, ahead, NOW)).toThrow(/offer\.issued_at: dated more than 5 minutes ahead/);
    const edge = NOW + TRANSFER_OFFER_MAX_SKEW_SECONDS;
    expect(planTransfer(OWNER, request({ offeredAt: edge }), NOW)).toEqual({ done: false, offeredAt: edge });
  });

  it("accepts an offer exactly when its date is within [now - 7 days, now + 5 minutes], whatever the dates", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        (offeredAt, now) => {
          const inWindow =
            offeredAt >= now - TRANSFER_OFFER_MAX_AGE_SECONDS && offeredAt <= now + TRANSFER_OFFER_MAX_SKEW_SECONDS;
          let accepted: boolean;
          try {
            accepted = !planTransfer(OWNER, request({ offeredAt }), now).done;
          } catch {
            accepted = false;
          }
          expect(accepted).toBe(inWindow);
        },
      ),
    );
  });

  it("never accepts an offer after its deadline, however far ahead it was dated", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.integer({ min: 1, max: 4_000_000_000 }),
        (offeredAt, late) => {
          const now = offeredAt + TRANSFER_OFFER_MAX_AGE_SECONDS + late;
          expect(() => planTransfer(OWNER, request({ offeredAt }), now)).toThrow(/older than 7 days/);
        },
      ),
    );
  });
});

describe("a withdrawal", () => {
  const DATE = fc.integer({ min: 1_000_000_000, max: 3_000_000_000 });

  it("voids the pool's open offer whatever date it carries, and every offer to that inbox dated at or before it, until the open offer would have expired", () => {
    fc.assert(
      fc.property(
        DATE,
        fc.integer({ min: -600, max: 600 }),
        fc.integer({ min: 0, max: TRANSFER_OFFER_MAX_AGE_SECONDS }),
        (withdrawnAt, ahead, later) => {
          const offeredAt = withdrawnAt + ahead;
          const left = planWithdrawal({}, NEXT, withdrawnAt, withdrawnAt, { nonce: "0xOPEN", offeredAt });
          // Any time at or after the withdrawal at which the open offer would otherwise be in its window.
          const from = Math.max(withdrawnAt, offeredAt - TRANSFER_OFFER_MAX_SKEW_SECONDS);
          const now = from + (later % (offeredAt + TRANSFER_OFFER_MAX_AGE_SECONDS - from + 1));
          // The open offer itself (its nonce), at any time it could otherwise be accepted.
          expect(() => planTransfer(OWNER, request({ offeredAt, nonce: "0xopen" }), now, left)).toThrow(/withdrew/);
          // Another offer to the same inbox dated at or before the withdrawal.
          const older = Math.min(withdrawnAt, now);
          if (older >= now - TRANSFER_OFFER_MAX_AGE_SECONDS)
            expect(() => planTransfer(OWNER, request({ offeredAt: older, nonce: "0xother" }), now, left)).toThrow(
              /withdrew/,
            );
        },
      ),
    );
  });

  it("leaves a new offer to that inbox, dated after the withdrawal, and offers to others alone", () => {
    const left = planWithdrawal({}, NEXT, NOW - 60, NOW - 60, { nonce: "0xopen", offeredAt: NOW });
    expect(planTransfer(OWNER, request({ offeredAt: NOW - 59, nonce: "0xnew" }), NOW, left)).toMatchObject({
      done: false,
    });
    const other = "3e47".padEnd(64, "0");
    expect(
      planTransfer(OWNER, request({ newOwnerId: other, offeredAt: NOW, nonce: "0xnew" }), NOW, left),
    ).toMatchObject({
      done: false,
    });
  });

  it("keeps the later of two withdrawals to one inbox, and drops voided nonces past their deadline", () => {
    const first = planWithdrawal({}, NEXT, NOW, NOW, { nonce: "0xa", offeredAt: NOW });
    const second = planWithdrawal(first, NEXT, NOW - 100, NOW + TRANSFER_OFFER_MAX_AGE_SECONDS + 1, {
      nonce: "0xb",
      offeredAt: NOW - 100,
    });
    expect(second.withdrawnOffers[NEXT]).toBe(NOW);
    expect(Object.keys(second.voidedOffers)).toEqual(["0xb"]);
  });
});

describe("a newer offer", () => {
  const CAROL = "c4a01".padEnd(64, "0");

  it("replaces every other: only the newest offer the agent was told of is accepted, to whomever", async () => {
    const first = noteOffer({}, { nonce: "0xA", offeredAt: NOW - 600 }, NOW);
    const told = noteOffer(first, { nonce: "0xB", offeredAt: NOW - 60 }, NOW);
    expect(told.newestOffer).toEqual({ nonce: "0xb", offeredAt: NOW - 60 });
    // The offer to Bob it replaced, within its 7 days and never withdrawn: refused.
    const old = request({ offeredAt: NOW - 600, nonce: "0xA" });
    expect(await code(() => planTransfer(OWNER, old, NOW, told))).toBe("PermissionDenied");
    // An offer never told (signed, not given to the pool) neither.
    const untold = request({ offeredAt: NOW - 30, nonce: "0xC" });
    expect(() => planTransfer(OWNER, untold, NOW, told)).toThrow(/newer offer/);
    // The newest, to Carol, goes through.
    const newest = request({ newOwnerId: CAROL, offeredAt: NOW - 60, nonce: "0xB" });
    expect(planTransfer(OWNER, newest, NOW, told)).toEqual({ done: false, offeredAt: NOW - 60 });
  });

  it("a replaced offer told again, by whoever kept it, stays void", async () => {
    const told = noteOffer(
      noteOffer({}, { nonce: "0xa", offeredAt: NOW - 600 }, NOW),
      { nonce: "0xb", offeredAt: NOW },
      NOW,
    );
    expect(await code(() => noteOffer(told, { nonce: "0xA", offeredAt: NOW - 600 }, NOW))).toBe("PermissionDenied");
    // Told twice (a retry), the newest stays the newest.
    expect(noteOffer(told, { nonce: "0xb", offeredAt: NOW }, NOW + 1).newestOffer).toEqual(told.newestOffer);
  });

  it("whatever the order told, the last is the only one accepted and every earlier one is void", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 20 }), (ids) => {
        let w: ReturnType<typeof noteOffer> | Record<string, never> = {};
        for (const id of ids) w = noteOffer(w, { nonce: `0x${id}`, offeredAt: NOW - id }, NOW);
        const last = ids[ids.length - 1]!;
        for (const id of ids) {
          const offer = request({ nonce: `0x${id}`, offeredAt: NOW - id });
          if (id === last) expect(planTransfer(OWNER, offer, NOW, w)).toMatchObject({ done: false });
          else expect(() => planTransfer(OWNER, offer, NOW, w)).toThrow(/withdrew it|newer offer/);
        }
      }),
    );
  });
});
