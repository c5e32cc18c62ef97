/**
 * A clone with context (docs/claims.md, "Clone with context"): the claim of
 * the parent's template, with the parent's model and user config unless
 * overridden (request.ts), fresh pool tools, and the parent named to
 * the child; once the child has joined, the parent is asked for its summary,
 * which it sends the child directly (instance/src/clone/summary.ts). The pool's
 * requester == owner check is a fast rejection only: the parent and the
 * child check the owner's signature themselves. A summary that does not come
 * leaves a working fresh agent, its inheritance `failed` with the reason.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ClaimRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { OwnerProofSchema } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import { InheritanceSchema, InheritanceState, type Inheritance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  CloneAuthorizationSchema,
  CloneSummaryRequestSchema,
  type CloneAuthorization,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { cloneFields, type SignatureVerifier } from "@convos-pool/kit/signing";
import { invalidArgument, permissionDenied } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import { checkCloneParent } from "./policy.js";
import type { ClaimInput } from "./request.js";
import { agentForFlow, settleInheritance, type ClaimedInstance, type FlowAgent } from "./sql.js";
import type { Proof } from "./proof.js";
import type { InstanceRuntime } from "../hosts/runtime.js";

/** A clone's parent: an agent with an owner and a template, as prepareClone proved. */
export type CloneParent = FlowAgent & { ownerId: string; templateId: string };

/** A clone on its way: the parent, the owner's authorization (passed to the parent as signed), the kinds that carry. */
export interface Clone {
  parent: CloneParent;
  auth: CloneAuthorization;
  carry: string[];
}

/**
 * A clone's checks before anything is taken: the owner's CloneAgent
 * signature over exactly this clone (also the requester's proof, and its
 * nonce spent with the claim), then the fast requester == owner check (a
 * parent that is not the requester's is NOT_FOUND, as a missing one).
 */
export async function prepareClone(
  deps: { em: EntityManager; verifier: SignatureVerifier },
  req: ClaimRequest,
  input: ClaimInput,
  caller: string | undefined,
): Promise<{ clone: Clone; proof: Proof }> {
  if (caller !== undefined && caller !== input.requester) {
    throw permissionDenied("requester must be the signed-in caller: the requester becomes the agent's owner");
  }
  const auth = create(CloneAuthorizationSchema, {
    ownerId: input.requester,
    parentInstanceId: req.cloneFrom,
    templateId: req.templateId,
    templateCreatorId: req.templateCreatorId,
    conversationInvite: input.invite,
    contextPrompt: req.contextPrompt,
    carry: input.carry,
    model: req.model,
    userConfig: req.userConfig,
    signature: req.ownerSignature,
  });
  const fields = cloneFields(auth);
  const verified = await deps.verifier.verify("CloneAgent", fields, req.ownerSignature, "owner_signature");
  const parent = checkCloneParent(
    req.cloneFrom,
    await agentForFlow(deps.em.fork(), req.cloneFrom),
    input.requester,
    input.templateId,
  );
  // For the child's birth certificate: the owner's signature with what it signed, as hashes.
  const owner = create(OwnerProofSchema, {
    proof: {
      case: "clone",
      value: {
        inviteHash: String(fields.inviteHash),
        directiveHash: String(fields.directiveHash),
        carry: String(fields.carry),
        configHash: String(fields.configHash),
        signature: req.ownerSignature,
      },
    },
  });
  return {
    clone: { parent, auth, carry: input.carry },
    proof: { nonce: verified.nonce, purpose: "CloneAgent", owner, signer: verified.address },
  };
}

/**
 * The template a clone is about to run must be by the creator the owner
 * signed: otherwise the child would refuse its parent's summary, so the
 * clone is refused before anything is taken.
 */
export function checkCloneTemplate(clone: Clone, template: { id: string; creatorId: string }): void {
  if (template.creatorId !== clone.auth.templateCreatorId) {
    throw invalidArgument(
      "template_creator_id",
      `template ${template.id} is by ${template.creatorId}, not ${clone.auth.templateCreatorId}`,
    );
  }
}

/**
 * Asks the parent for its summary (CloneSummary) and records the outcome
 * on the child: sent, or failed with why (the parent's refusal as it said
 * it, or that it did not answer). Never the summary: the pool has none.
 */
export async function askParent(
  deps: { em: EntityManager; runtime: InstanceRuntime; log: Logger },
  clone: Clone,
  child: ClaimedInstance,
): Promise<Inheritance> {
  const carry = clone.carry;
  try {
    const res = await deps.runtime.cloneSummary(
      clone.parent,
      create(CloneSummaryRequestSchema, {
        childInstanceId: child.id,
        childInboxId: child.inboxId,
        childWalletIndex: child.walletIndex,
        authorization: clone.auth,
      }),
    );
    await settleInheritance(deps.em.fork(), child.id, { state: "sent" });
    deps.log.info("clone summary sent by the parent", {
      instanceId: child.id,
      parentInstanceId: clone.parent.id,
      entries: res.entries,
      via: res.via,
    });
    return create(InheritanceSchema, { state: InheritanceState.SENT, carry });
  } catch (err) {
    const e = ConnectError.from(err);
    const error = [Code.Unavailable, Code.Internal, Code.Unknown, Code.DeadlineExceeded, Code.Canceled].includes(e.code)
      ? "the parent agent did not answer; this agent works without its summary"
      : `the parent agent refused to send its summary: ${e.rawMessage}`;
    await settleInheritance(deps.em.fork(), child.id, { state: "failed", error }).catch((dbErr: unknown) =>
      deps.log.error("a clone's inheritance could not be recorded", { instanceId: child.id, err: dbErr }),
    );
    deps.log.warn("clone summary not sent", {
      instanceId: child.id,
      parentInstanceId: clone.parent.id,
      code: Code[e.code],
      reason: e.rawMessage,
    });
    return create(InheritanceSchema, { state: InheritanceState.FAILED, carry, error });
  }
}
