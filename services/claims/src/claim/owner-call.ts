/**
 * An owner's call to their agent, relayed by the pool (AgentMemoryService,
 * AddressBookService): the caller, signed in, owns the live agent, and a
 * signed call's nonce is spent here, before the agent is asked, so a
 * signature reaches it once. The agent checks the owner's signature again
 * itself and does the work; sealed boxes pass through unread.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { callerInboxId } from "@convos-pool/kit/server";
import { unauthenticated } from "@convos-pool/kit/content";
import type { OperationFields, SignatureVerifier, SignedOperation } from "@convos-pool/kit/signing";
import { callersLiveAgent } from "./policy.js";
import { proveOwned, requireOwnerSignature } from "./proof.js";
import { agentForFlow, type FlowAgent } from "./sql.js";
import { askAgent } from "../hosts/runtime.js";

/** What an owner's signed call to their agent needs here. */
export interface OwnerCallDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
}

/** The caller's live agent, or NOT_FOUND (policy.ts callersLiveAgent); nobody signed in: UNAUTHENTICATED. */
export function ownersAgent(deps: Pick<OwnerCallDeps, "em">) {
  return async (instanceId: string, ctx: HandlerContext): Promise<{ ref: FlowAgent; ownerId: string }> => {
    const caller = callerInboxId(ctx);
    if (caller === undefined) throw unauthenticated("sign in as the agent's owner");
    const ref = callersLiveAgent(instanceId, await agentForFlow(deps.em.fork(), instanceId), caller);
    return { ref, ownerId: caller };
  };
}

/**
 * The owner's signed call: the caller owns the live agent, the signature is
 * theirs over these fields (proveOwned; anyone else's: NOT_FOUND), and its
 * nonce is spent here, before the agent is asked. The agent, and its owner.
 */
function ownerSignedCall(deps: OwnerCallDeps) {
  const owned = ownersAgent(deps);
  return async (
    instanceId: string,
    ctx: HandlerContext,
    operation: SignedOperation,
    fields: OperationFields,
    signature: Signature | undefined,
  ): Promise<{ ref: FlowAgent & { ownerId: string }; ownerId: string }> => {
    const { ref, ownerId } = await owned(instanceId, ctx);
    const signed = { operation, fields, signature: requireOwnerSignature(signature, operation) };
    const { agent, spendNonce } = await proveOwned(deps.verifier, instanceId, ref, ownerId, signed);
    await spendNonce(deps.em.fork());
    return { ref: agent, ownerId: agent.ownerId };
  };
}

/** The key an answer is sealed to for the owner: an X25519 public key, checked as the agent checks it. */
export { recipientKey } from "@convos-pool/kit/signing";

/**
 * The owner's signed call relayed: checked as ownerSignedCall checks it, then
 * put to the agent `agentOf` reaches by `ask` (askAgent: a refusal names
 * `what`, a host that did not answer is UNAVAILABLE).
 */
export function ownerSignedRelay<A>(deps: OwnerCallDeps, agentOf: (ref: FlowAgent & { ownerId: string }) => A) {
  const signedCall = ownerSignedCall(deps);
  return async <T>(
    req: { instanceId: string; ownerSignature?: Signature | undefined },
    ctx: HandlerContext,
    signed: { operation: SignedOperation; fields: OperationFields },
    what: string,
    ask: (agent: A, ownerId: string) => Promise<T>,
  ): Promise<T> => {
    const { ref, ownerId } = await signedCall(req.instanceId, ctx, signed.operation, signed.fields, req.ownerSignature);
    const agent = agentOf(ref);
    return askAgent(what, () => ask(agent, ownerId));
  };
}
