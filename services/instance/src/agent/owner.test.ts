// The owner's calls' windows and a transfer's checks before any signature
// (owner.ts), in memory: no verifier, no workspace; the signatures
// themselves are checked over the network in host.int.test.ts.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SignatureSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TransferOwnerRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { NONCE_KEEP_SECONDS, SIGNATURE_MAX_AGE_SECONDS } from "@convos-pool/kit";
import { codeOf } from "@convos-pool/kit/testing";
import {
  ACCEPTANCE_NONCE_KEEP_SECONDS,
  OWNER_CALL_NONCE_KEEP_SECONDS,
  planTransfer,
  TRANSFER_OFFER_MAX_AGE_SECONDS,
  TRANSFER_OFFER_NONCE_KEEP_SECONDS,
} from "./owner.js";

const OWNER = "0a4e".padEnd(64, "0");
const NEXT = "2e47".padEnd(64, "0");
const NOW = 1_800_000_000;

const request = (over: { ownerId?: string; newOwnerId?: string; offeredAt?: number } = {}) =>
  create(TransferOwnerRequestSchema, {
    ownerId: over.ownerId ?? OWNER,
    newOwnerId: over.newOwnerId ?? NEXT,
    offer: create(SignatureSchema, { issuedAt: BigInt(over.offeredAt ?? NOW - 3600), nonce: "n1" }),
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
    const withdrawn = { [NEXT]: NOW - 600 };
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
