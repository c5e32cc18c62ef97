// ApprovalService: the questions an agent asks its owner before a gated act,
// answered from outside the conversation (docs/trust.md, "Approvals"). The
// claims service checks who asks and relays; the agent keeps its questions
// and checks the owner's signature of an answer again itself, so the pool can
// approve nothing.
//
// A listing is its owner's only, signed in (anyone else: NOT_FOUND, as for a
// missing agent). An answer is signed (owner_signature, required even with a
// session, since the agent checks it), its nonce spent here before the agent
// is asked, so a signature reaches the agent once; without a session the
// signature alone proves the owner (proof.ts), as for SetTrustLevel.

import type { ServiceImpl } from "@connectrpc/connect";
import type { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { invalidArgument, notFound } from "@convos-pool/kit/content";
import { callerInboxId } from "@convos-pool/kit/server";
import { ownersAgent, type OwnerCallDeps } from "../claim/owner-call.js";
import { isLive } from "../claim/policy.js";
import { proveOwned, requireOwnerSignature } from "../claim/proof.js";
import { agentForFlow } from "../claim/sql.js";
import { askAgent, type InstanceRuntime } from "../hosts/runtime.js";

/** A question's id as the agent gives it: an XMTP message id (hex), within reason. */
const QUESTION_ID = /^[0-9A-Za-z_-]{1,128}$/;

export interface ApprovalServiceDeps extends OwnerCallDeps {
  runtime: Pick<InstanceRuntime, "approvals">;
}

export function createApprovalService(deps: ApprovalServiceDeps): ServiceImpl<typeof ApprovalService> {
  const owned = ownersAgent(deps);
  return {
    async listApprovals(req, ctx) {
      const { ref, ownerId } = await owned(req.instanceId, ctx);
      const agent = deps.runtime.approvals(ref);
      const res = await askAgent("the questions", () => agent.client.listApprovals({ ownerId }, agent.options));
      return { questions: res.questions };
    },

    async answerApproval(req, ctx) {
      if (!QUESTION_ID.test(req.questionId))
        throw invalidArgument("question_id", "required: the id of a question the agent asked (ListApprovals)");
      const signature = requireOwnerSignature(req.ownerSignature, "AnswerApproval");
      const ref = await agentForFlow(deps.em.fork(), req.instanceId);
      if (!ref || !isLive(ref.state)) throw notFound(`instance ${req.instanceId}`);
      const { agent, spendNonce } = await proveOwned(deps.verifier, req.instanceId, ref, callerInboxId(ctx), {
        operation: "AnswerApproval",
        fields: { questionId: req.questionId, approve: req.approve },
        signature,
      });
      await spendNonce(deps.em.fork());
      const host = deps.runtime.approvals(agent);
      await askAgent("the answer", () =>
        host.client.answerApproval(
          { ownerId: agent.ownerId, questionId: req.questionId, approve: req.approve, signature },
          host.options,
        ),
      );
      return {};
    },
  };
}
