/**
 * The owner takes their share of their agent's wallet (WithdrawFunds,
 * docs/tools.md, "Whose money a wallet holds"): always with the owner's
 * signature, even with a session, and the funds go to the wallet that
 * signed it, which the verifier proved is a wallet of the owner's inbox. So
 * a stolen session can neither take the money nor send it elsewhere. Works
 * on a removed agent too: its owner is kept, and a wallet held for them
 * waits for this.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { WithdrawFundsRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { nonceUsed } from "@convos-pool/kit/content";
import type { SignatureVerifier } from "@convos-pool/kit/signing";
import { consumeNonce } from "@convos-pool/kit/service";
import { getInstance } from "../db/reads.js";
import type { ClaimFlow } from "./flow.js";
import { withdrawerOf } from "./policy.js";
import { requireOwnerSignature } from "./proof.js";

export interface WithdrawalDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  flow: Pick<ClaimFlow, "withdraw">;
}

export interface WithdrawalAnswer {
  amountWei: string;
  toAddress: string;
  transactionHash: string;
}

/**
 * No signature: UNAUTHENTICATED. No such agent, or one nobody owns:
 * NOT_FOUND. A session of another inbox, or a signature by a wallet that is
 * not the owner's: PERMISSION_DENIED. No wallet, or nothing above the pool's
 * share and the fee: FAILED_PRECONDITION (the nonce stays unspent).
 */
export async function withdrawFunds(
  deps: WithdrawalDeps,
  req: WithdrawFundsRequest,
  caller: string | undefined,
): Promise<WithdrawalAnswer> {
  const signature = requireOwnerSignature(req.ownerSignature, "WithdrawFunds");
  const instance = withdrawerOf(req.instanceId, await getInstance(deps.em.fork(), req.instanceId), caller);
  const ownerId = instance.ownerId;
  // Another inbox's wallet recovers an address that is not the owner's: PERMISSION_DENIED, named `owner_signature`.
  const verified = await deps.verifier.verify(
    "WithdrawFunds",
    { inboxId: ownerId, instanceId: instance.id },
    signature,
    "owner_signature",
  );
  const out = await deps.flow.withdraw(instance.id, verified.address, async (tx) => {
    if (!(await consumeNonce(tx, { nonce: verified.nonce, inboxId: ownerId, purpose: "WithdrawFunds" })))
      throw nonceUsed("owner_signature.nonce");
  });
  return { amountWei: out.sentWei.toString(), toAddress: verified.address, transactionHash: out.hash };
}
