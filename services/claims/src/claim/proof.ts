/**
 * Who asks, proven (docs/security.md): a claim by its requester
 * (proveRequester), every owner operation by the owner (proveOwned). The
 * proof is the signed-in caller the gateway forwarded, or a signature of the
 * request itself; a signature's nonce is to be spent in the transaction of
 * what it authorizes.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { OwnerProofSchema, type OwnerProof } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  claimFields,
  type OperationFields,
  type SignatureVerifier,
  type SignedOperation,
} from "@convos-pool/kit/signing";
import { nonceUsed, notFound, permissionDenied, unauthenticated } from "@convos-pool/kit/content";
import { consumeNonce } from "@convos-pool/kit/service";

/** A signature's nonce to spend with the change, or none (a session). */
export interface Proof {
  nonce?: string;
  /** The signed operation the nonce belongs to; ClaimAgent when absent. */
  purpose?: "ClaimAgent" | "CloneAgent";
  /** The owner's signature with what it signed, for the agent's birth certificate; none for a session. */
  owner?: OwnerProof;
  /** The wallet that signed: the owner's payout address (docs/tools.md, "Whose money a wallet holds"); none for a session. */
  signer?: string;
}

export interface ClaimToProve {
  requester: string;
  templateId: string;
  /** As sent: the signature covers it trimmed. */
  conversationInvite: string;
  model: string;
  userConfig: Record<string, string>;
  /** Signed as `secondAgent`. */
  confirmSecondAgent: boolean;
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
          secondAgent: fields.secondAgent === true,
          signature: claim.signature,
        },
      },
    });
    return { nonce: verified.nonce, owner, signer: verified.address };
  }
  if (caller === undefined) {
    throw unauthenticated(
      "a claim is made by its requester: sign in, or sign the claim (ClaimAgent, docs/signatures.md)",
    );
  }
  return {};
}

/** An agent whose owner the caller proved to be: its owner is no longer optional. */
export type Owned<T extends { ownerId: string | null }> = T & { ownerId: string };

/** A proven owner operation: the owner's agent, and the proof's nonce to spend with the change it authorizes. */
export interface OwnerOperation<T extends { ownerId: string | null }> {
  agent: Owned<T>;
  /**
   * Spends the owner's signature's nonce in `em` (the change's transaction,
   * so a refused change leaves it unspent); a session has none. A nonce seen
   * before: UNAUTHENTICATED (`owner_signature.nonce`).
   */
  spendNonce: (em: EntityManager) => Promise<void>;
  /** The wallet of the owner's inbox that signed; none for a session. */
  signer?: `0x${string}` | undefined;
}

/** An owner's request as signed (or to be proven by a session, when `signature` may be absent). */
export interface SignedRequest<O extends SignedOperation = SignedOperation, S = Signature | undefined> {
  operation: O;
  fields: OperationFields;
  signature: S;
}

/** What an operation the agent checks itself needs: the owner's signature, even with a session. */
export function requireOwnerSignature(signature: Signature | undefined, operation: SignedOperation): Signature {
  if (!signature) throw unauthenticated(`owner_signature: required: the agent checks the owner's ${operation} itself`);
  return signature;
}

/**
 * What an operation that takes something from the owner for good needs
 * (RemoveAgent, an unpin; docs/security.md): the owner's signature of this
 * very request, even with a session, which a stolen token also gives.
 * `why` finishes "<operation> ...": what makes a session not enough.
 */
export function requireFreshSignature(
  signature: Signature | undefined,
  operation: SignedOperation,
  why = "cannot be undone",
): Signature {
  if (!signature) {
    throw unauthenticated(
      `owner_signature: required: ${operation} ${why}, so the owner signs it each time; a session is not enough`,
    );
  }
  return signature;
}

/**
 * Who may act as the agent's owner, decided before any signature is checked
 * (pure). Nobody at all: UNAUTHENTICATED, whatever the agent. No agent, an
 * agent without an owner, and a session of anyone but the owner: NOT_FOUND,
 * one answer for all three. Otherwise the agent as owned, with the signature
 * still to check against its owner (none: the session proved it).
 */
export function planOwnerProof<T extends { ownerId: string | null }>(
  instanceId: string,
  agent: T | undefined,
  caller: string | undefined,
  signature: Signature | undefined,
): { agent: Owned<T>; signature: Signature | undefined } {
  if (!signature && caller === undefined)
    throw unauthenticated("sign in as the agent's owner, or sign the request (docs/signatures.md)");
  const ownerId = agent?.ownerId;
  if (!agent || !ownerId) throw notFound(`instance ${instanceId}`);
  // A signature is the proof when there is one: the session beside it does not matter.
  if (!signature && caller !== ownerId) throw notFound(`instance ${instanceId}`);
  return { agent: { ...agent, ownerId }, signature };
}

/**
 * The one proof of every owner operation: the caller is the agent's owner,
 * signed in as the owner or with the owner's signature of `operation`
 * (planOwnerProof; a signature by anyone else is NOT_FOUND, as a missing
 * agent). Gives the agent with its owner known, and the signature's nonce to
 * spend with the change.
 */
export async function proveOwned<T extends { ownerId: string | null }>(
  verifier: SignatureVerifier,
  instanceId: string,
  agent: T | undefined,
  caller: string | undefined,
  signed: SignedRequest,
): Promise<OwnerOperation<T>> {
  const plan = planOwnerProof(instanceId, agent, caller, signed.signature);
  const ownerId = plan.agent.ownerId;
  let nonce: string | undefined;
  let signer: `0x${string}` | undefined;
  if (plan.signature) {
    try {
      const fields = { ...signed.fields, inboxId: ownerId, instanceId };
      ({ nonce, address: signer } = await verifier.verify(signed.operation, fields, plan.signature, "owner_signature"));
    } catch (err) {
      // Signed by someone else: the same answer as a missing agent.
      if (ConnectError.from(err).code === Code.PermissionDenied) throw notFound(`instance ${instanceId}`);
      throw err;
    }
  }
  return {
    agent: plan.agent,
    signer,
    spendNonce: async (em) => {
      if (nonce && !(await consumeNonce(em, { nonce, inboxId: ownerId, purpose: signed.operation })))
        throw nonceUsed("owner_signature.nonce");
    },
  };
}
