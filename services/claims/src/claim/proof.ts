/**
 * Who asks, proven (docs/security.md): a claim by its requester, an owner
 * operation by the owner. The proof is the signed-in caller the gateway
 * forwarded, or a signature of the request itself; a signature's nonce is
 * returned, to be spent in the transaction of what it authorizes.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { OwnerProofSchema, type OwnerProof } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  claimFields,
  notFound,
  permissionDenied,
  unauthenticated,
  type OperationFields,
  type SignatureVerifier,
  type SignedOperation,
} from "@convos-pool/kit";

/** A signature's nonce to spend with the change, or none (a session). */
export interface Proof {
  nonce?: string;
  /** The signed operation the nonce belongs to; ClaimAgent when absent. */
  purpose?: "ClaimAgent" | "CloneAgent";
  /** The owner's signature with what it signed, for the agent's birth certificate; none for a session. */
  owner?: OwnerProof;
}

export interface ClaimToProve {
  requester: string;
  templateId: string;
  /** As sent: the signature covers it trimmed. */
  conversationInvite: string;
  model: string;
  userConfig: Record<string, string>;
  signature: Signature | undefined;
}

/**
 * The requester is the signed-in caller, or the signer of `ClaimAgent` over
 * this very claim. Another inbox: PERMISSION_DENIED (the requester becomes
 * the owner, so nobody may name someone else). Neither: UNAUTHENTICATED.
 */
export async function proveRequester(
  verifier: SignatureVerifier,
  claim: ClaimToProve,
  caller: string | undefined,
): Promise<Proof> {
  if (caller !== undefined && caller !== claim.requester) {
    throw permissionDenied("requester must be the signed-in caller: the requester becomes the agent's owner");
  }
  if (claim.signature) {
    const fields = claimFields(claim);
    const verified = await verifier.verify("ClaimAgent", fields, claim.signature);
    const owner = create(OwnerProofSchema, {
      proof: {
        case: "claim",
        value: {
          inviteHash: String(fields.inviteHash),
          model: String(fields.model),
          userConfigHash: String(fields.userConfigHash),
          signature: claim.signature,
        },
      },
    });
    return { nonce: verified.nonce, owner };
  }
  if (caller === undefined) {
    throw unauthenticated(
      "a claim is made by its requester: sign in, or sign the claim (ClaimAgent, docs/signatures.md)",
    );
  }
  return {};
}

/**
 * The caller is the agent's owner: signed in as the owner, or the owner's
 * signature of `operation`. Anyone else, and an agent without an owner, is
 * told the agent does not exist; nobody at all, to sign in.
 */
export async function proveOwner(
  verifier: SignatureVerifier,
  agent: { instanceId: string; ownerId: string | null | undefined },
  caller: string | undefined,
  signed: { operation: SignedOperation; fields: OperationFields; signature: Signature | undefined },
): Promise<Proof> {
  const missing = () => notFound(`instance ${agent.instanceId}`);
  if (!signed.signature && caller === undefined)
    throw unauthenticated("sign in as the agent's owner, or sign the request (docs/signatures.md)");
  const owner = agent.ownerId;
  if (!owner) throw missing();
  if (signed.signature) {
    try {
      const fields = { ...signed.fields, inboxId: owner, instanceId: agent.instanceId };
      return { nonce: (await verifier.verify(signed.operation, fields, signed.signature, "owner_signature")).nonce };
    } catch (err) {
      // Signed by someone else: the same answer as a missing agent.
      if (ConnectError.from(err).code === Code.PermissionDenied) throw missing();
      throw err;
    }
  }
  if (caller !== owner) throw missing();
  return {};
}
