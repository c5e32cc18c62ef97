// What is wrong with an owner's memory or address-book call (policy.ts), as
// plain calls: every bad field named at once, and nothing for a well-formed
// request. No database, no agent.
import { describe, expect, it } from "vitest";
import { idsViolations, MAX_IDS, recipientKeyViolations, sealedViolations } from "./policy.js";

const fields = (vs: { field: string }[]) => vs.map((v) => v.field);
const box = (key: number, nonce: number, ciphertext: number) => ({
  $typeName: "convos.pool.v1.SealedBox" as const,
  ephemeralPublicKey: new Uint8Array(key),
  nonce: new Uint8Array(nonce),
  ciphertext: new Uint8Array(ciphertext),
});

describe("what is wrong with an owner's memory or address-book call, every field at once", () => {
  it("names each part of a sealed box that cannot be one together, and the box itself when it is missing", () => {
    expect(fields(sealedViolations(box(0, 0, 0), "a file"))).toEqual([
      "sealed.ephemeral_public_key",
      "sealed.nonce",
      "sealed.ciphertext",
    ]);
    expect(fields(sealedViolations(box(32, 11, 1), "a file"))).toEqual(["sealed.nonce"]);
    expect(fields(sealedViolations(undefined, "a file"))).toEqual(["sealed"]);
    expect(sealedViolations(box(32, 12, 1), "a file")).toEqual([]);
  });

  it("takes 1 to 100 ids, names the field otherwise, and a recipient key of 32 bytes only", () => {
    expect(fields(idsViolations("entry_ids", [], "entry ids"))).toEqual(["entry_ids"]);
    expect(fields(idsViolations("contact_ids", Array(MAX_IDS + 1).fill("c"), "contact ids"))).toEqual(["contact_ids"]);
    expect(idsViolations("entry_ids", Array(MAX_IDS).fill("e"), "entry ids")).toEqual([]);
    expect(fields(recipientKeyViolations(new Uint8Array(31)))).toEqual(["recipient_key"]);
    expect(recipientKeyViolations(new Uint8Array(32))).toEqual([]);
  });
});
