// An owner's signed call, checked by the agent itself (SetTrustLevel and the
// memory calls): the owner it names is its owner, the signature is that
// inbox's over this instance and these fields, in time, and its nonce was
// never spent here before.

import { nonceUsed, permissionDenied } from "@convos-pool/kit/content";
import type { OperationFields, SignatureVerifier, SignedOperation } from "@convos-pool/kit/signing";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";

export interface OwnerCheck {
  instanceId: string;
  /** The agent's owner, from its config. */
  ownerId: string;
  verifier: SignatureVerifier;
  /** Records the nonce; false when it was spent before. */
  spendNonce(nonce: string): Promise<boolean>;
}

export async function checkOwnerSignature(
  agent: OwnerCheck,
  ownerId: string,
  operation: SignedOperation,
  fields: OperationFields,
  signature: Signature | undefined,
): Promise<Signature> {
  if (ownerId !== agent.ownerId) throw permissionDenied("owner_id: not this agent's owner");
  const verified = await agent.verifier.verify(
    operation,
    { inboxId: agent.ownerId, instanceId: agent.instanceId, ...fields },
    signature,
  );
  // The nonce as signed (verified.nonce is lower-cased): what this agent has always recorded.
  if (!(await agent.spendNonce(verified.signature.nonce))) throw nonceUsed("signature.nonce");
  return verified.signature;
}
