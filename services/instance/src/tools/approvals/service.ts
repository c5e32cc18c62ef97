// InstanceApprovalService: the agent's side of ApprovalService, its owner's
// answers to its questions from outside the conversation (docs/trust.md,
// "Approvals"). The claims service relays them; the agent trusts only the
// owner's signature, which it checks itself as it does every owner call
// (platform/owner-signature.ts): the owner's inbox, this instance, this
// question and this answer, in time, a nonce never spent here. So the pool
// cannot approve an act, and a replayed answer spends nothing twice. The
// in-chat rules stay policy.ts's; this answers the same waiting question
// (AgentToolbox.answerSigned), once.

import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { failedPreconditionOn, invalidArgument, permissionDenied } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import type { InstanceApprovalService } from "@convos-pool/gen/convos/pool/v1/instance_approval_service_pb.js";
import { checkOwnerSignature, type OwnerCheck } from "../../platform/owner-signature.js";
import type { WaitingQuestion } from "./questions.js";

/** What a question id may be: the id of an XMTP message (hex), within reason. */
export const QUESTION_ID_PATTERN = /^[0-9A-Za-z_-]{1,128}$/;

/** What a claimed agent lends its owner's approval calls (Agent.approvalCall). */
export interface ApprovalAccess extends OwnerCheck {
  waiting(): WaitingQuestion[];
  answer(id: string, said: "yes" | "no"): boolean;
  log: Logger;
}

/** An agent that lends its waiting questions to its owner's calls. */
export interface ApprovalHolder {
  approvalCall<T>(job: (access: ApprovalAccess) => Promise<T>): Promise<T>;
}

export function createInstanceApprovalService(
  pick: (ctx: HandlerContext) => ApprovalHolder,
): ServiceImpl<typeof InstanceApprovalService> {
  return {
    async listApprovals(req, ctx) {
      return pick(ctx).approvalCall(async (a) => {
        // The pool checked the caller is the owner; the agent lists for its own owner only all the same.
        if (req.ownerId !== a.ownerId) throw permissionDenied("owner_id: not this agent's owner");
        return {
          questions: a.waiting().map((q) => ({
            id: q.id,
            statement: q.statement,
            askedAt: timestampFromMs(q.askedAtMs),
            expiresAt: timestampFromMs(q.expiresAtMs),
          })),
        };
      });
    },

    async answerApproval(req, ctx) {
      if (!QUESTION_ID_PATTERN.test(req.questionId))
        throw invalidArgument(
          "question_id",
          "required: the id of a question the agent asked (pool approvals lists them)",
        );
      return pick(ctx).approvalCall(async (a) => {
        await checkOwnerSignature(
          a,
          req.ownerId,
          "AnswerApproval",
          { questionId: req.questionId, approve: req.approve },
          req.signature,
        );
        if (!a.answer(req.questionId, req.approve ? "yes" : "no"))
          throw failedPreconditionOn("question_id", "no such question is waiting: it was answered, or it timed out");
        a.log.info("a question answered by the owner's signature", { approve: req.approve });
        return {};
      });
    },
  };
}
