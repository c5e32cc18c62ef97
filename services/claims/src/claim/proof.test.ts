// Who may act as an agent's owner (proof.ts), the part decided before any
// signature is checked: pure. The signature check itself (the verifier,
// against the XMTP node) and the nonce are covered by owners.int.test.ts and
// memory-e2e.int.test.ts.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SignatureSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { planOwnerProof, requireFreshSignature, requireOwnerSignature } from "./proof.js";

const ID = "inst_AAAAAAAAAAAAAAAA";
const OWNER = "a".repeat(64);
const STRANGER = "b".repeat(64);
const signature = create(SignatureSchema, { signature: "0x01", issuedAt: 1n, nonce: "n" });
const agent = { id: ID, state: "claimed", ownerId: OWNER as string | null };

const said = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    const e = ConnectError.from(err);
    return [Code[e.code], e.rawMessage];
  }
  return "no error";
};
const missing = ["NotFound", `instance ${ID} not found`];

describe("who may act as an agent's owner", () => {
  it("nobody signed in and no signature: UNAUTHENTICATED, before anything is said of the agent", () => {
    const unauthenticated = [
      "Unauthenticated",
      "sign in as the agent's owner, or sign the request (docs/signatures.md)",
    ];
    expect(said(() => planOwnerProof(ID, agent, undefined, undefined))).toEqual(unauthenticated);
    expect(said(() => planOwnerProof(ID, undefined, undefined, undefined))).toEqual(unauthenticated);
  });

  it("a missing agent, an agent without an owner and someone else's session get one answer: NOT_FOUND", () => {
    expect(said(() => planOwnerProof(ID, undefined, OWNER, undefined))).toEqual(missing);
    expect(said(() => planOwnerProof(ID, undefined, undefined, signature))).toEqual(missing);
    expect(said(() => planOwnerProof(ID, { ...agent, ownerId: null }, OWNER, undefined))).toEqual(missing);
    expect(said(() => planOwnerProof(ID, { ...agent, ownerId: null }, undefined, signature))).toEqual(missing);
    expect(said(() => planOwnerProof(ID, agent, STRANGER, undefined))).toEqual(missing);
  });

  it("the owner's session is the proof: nothing left to check, the agent comes back owned", () => {
    const plan = planOwnerProof(ID, agent, OWNER, undefined);
    expect(plan.signature).toBeUndefined();
    expect(plan.agent).toEqual({ id: ID, state: "claimed", ownerId: OWNER });
  });

  it("a signature is checked against the owner, whoever is signed in beside it", () => {
    for (const caller of [undefined, OWNER, STRANGER]) {
      const plan = planOwnerProof(ID, agent, caller, signature);
      expect(plan.signature).toBe(signature);
      expect(plan.agent.ownerId).toBe(OWNER);
    }
  });
});

describe("an operation the agent checks itself", () => {
  it("needs the owner's signature even with a session: UNAUTHENTICATED naming the operation", () => {
    expect(said(() => requireOwnerSignature(undefined, "SetTrustLevel"))).toEqual([
      "Unauthenticated",
      "owner_signature: required: the agent checks the owner's SetTrustLevel itself",
    ]);
    expect(requireOwnerSignature(signature, "SetTrustLevel")).toBe(signature);
  });
});

describe("an operation that cannot be undone", () => {
  it("needs the owner's signature of the request even with a session: UNAUTHENTICATED naming the field", () => {
    expect(said(() => requireFreshSignature(undefined, "RemoveAgent"))).toEqual([
      "Unauthenticated",
      "owner_signature: required: RemoveAgent cannot be undone, so the owner signs it each time; a session is not enough",
    ]);
    expect(requireFreshSignature(signature, "RemoveAgent")).toBe(signature);
  });
});
