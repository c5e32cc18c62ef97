// InstanceConfirmationService: the agent's side of ConfirmationService, an
// owner's step confirmed in Convos instead of signed (docs/trust.md,
// "Confirmations in Convos"). The claims service relays the page's request;
// the agent checks the step as the signed call would, asks its owner in
// Convos itself (confirmations.ts) and applies the step only on the owner's
// answer there. Nothing in a call confirms anything: the pool, or anyone
// holding the owner's session, can only have the owner asked.

import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  ConfirmationSchema,
  ConfirmationStepSchema,
  type Confirmation,
  type ConfirmationStep,
} from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import type { InstanceConfirmationService } from "@convos-pool/gen/convos/pool/v1/instance_confirmation_service_pb.js";
import {
  failedPreconditionOn,
  invalidArgument,
  notFound,
  permissionDenied,
  permissionsMessage,
  resolvePermissions,
} from "@convos-pool/kit/content";
import { X25519_KEY_BYTES } from "@convos-pool/kit/signing";
import { bytesToHex, hexToBytes } from "viem";
import { QUESTION_ID_PATTERN } from "../approvals/service.js";
import { checkLevelRequest } from "../trust/levels.js";
import type { Confirmations, ConfirmationView } from "./confirmations.js";
import { ABOVE_CAP, CONFIRMATION_ID_PATTERN, CONFIRMED_LIMIT_FIELD, raisesAboveCap, type Step } from "./policy.js";

/** What a claimed agent lends its owner's confirmation calls (Agent.confirmationCall). */
export interface ConfirmationAccess {
  ownerId: string;
  /** The template's highest level, as SetTrustLevel checks it. */
  templateMax(): TrustLevel;
  /** Whether the question `id` waits for the owner's answer. */
  questionWaiting(id: string): boolean;
  /** The daily spending limit it holds now, decimal wei ("0" none). */
  currentLimitWei(): string;
  confirmations: Confirmations;
}

/** An agent that lends its confirmations to its owner's calls. */
export interface ConfirmationHolder {
  confirmationCall<T>(job: (access: ConfirmationAccess) => Promise<T>): Promise<T>;
}

/** The requested step as the agent would apply it, checked as its signed call checks it; throws what is wrong. */
export function checkedStep(
  step: ConfirmationStep | undefined,
  a: Pick<ConfirmationAccess, "templateMax" | "questionWaiting" | "currentLimitWei">,
): Step {
  const s = step?.step;
  switch (s?.case) {
    case "answerApproval":
      if (!QUESTION_ID_PATTERN.test(s.value.questionId))
        throw invalidArgument("step.answer_approval.question_id", "required: the id of a question the agent asked");
      if (!a.questionWaiting(s.value.questionId))
        throw failedPreconditionOn(
          "step.answer_approval.question_id",
          "no such question is waiting: it was answered, or it timed out",
        );
      return { kind: "answer_approval", questionId: s.value.questionId, approve: s.value.approve };
    case "setTrustLevel": {
      const want = checkLevelRequest(s.value.trustLevel, s.value.dailySpendLimitWei, a.templateMax());
      if (raisesAboveCap(a.currentLimitWei(), want.dailySpendLimitWei))
        throw invalidArgument(CONFIRMED_LIMIT_FIELD, ABOVE_CAP);
      return { kind: "set_trust_level", trustLevel: want.level, dailySpendLimitWei: want.dailySpendLimitWei };
    }
    case "setPermissions":
      return { kind: "set_permissions", permissions: resolvePermissions(s.value.permissions) };
    case "listMemory":
      if (s.value.recipientKey.length !== X25519_KEY_BYTES)
        throw invalidArgument(
          "step.list_memory.recipient_key",
          `must be ${X25519_KEY_BYTES} bytes (an X25519 public key), not ${s.value.recipientKey.length}`,
        );
      return {
        kind: "list_memory",
        recipientKey: bytesToHex(s.value.recipientKey),
        feedbackOnly: s.value.feedbackOnly,
      };
    default:
      throw invalidArgument("step", "required: answer_approval, set_trust_level, set_permissions or list_memory");
  }
}

/** The step as the contract carries it. */
export function stepMessage(step: Step): ConfirmationStep {
  switch (step.kind) {
    case "answer_approval":
      return create(ConfirmationStepSchema, {
        step: { case: "answerApproval", value: { questionId: step.questionId, approve: step.approve } },
      });
    case "set_trust_level":
      return create(ConfirmationStepSchema, {
        step: {
          case: "setTrustLevel",
          value: { trustLevel: step.trustLevel, dailySpendLimitWei: step.dailySpendLimitWei },
        },
      });
    case "set_permissions":
      return create(ConfirmationStepSchema, {
        step: { case: "setPermissions", value: { permissions: permissionsMessage(step.permissions) } },
      });
    case "list_memory":
      return create(ConfirmationStepSchema, {
        step: {
          case: "listMemory",
          value: { recipientKey: hexToBytes(step.recipientKey), feedbackOnly: step.feedbackOnly },
        },
      });
  }
}

export function confirmationMessage(v: ConfirmationView): Confirmation {
  return create(ConfirmationSchema, {
    id: v.id,
    step: stepMessage(v.step),
    digest: v.digest,
    code: v.code,
    statement: v.statement,
    state: v.state,
    detail: v.detail,
    expiresAt: timestampFromMs(v.expiresAtMs),
    sealed: v.sealed,
  });
}

export function createInstanceConfirmationService(
  pick: (ctx: HandlerContext) => ConfirmationHolder,
): ServiceImpl<typeof InstanceConfirmationService> {
  return {
    async askConfirmation(req, ctx) {
      return pick(ctx).confirmationCall(async (a) => {
        // The pool checked the caller is the owner; the agent asks its own owner only all the same.
        if (req.ownerId !== a.ownerId) throw permissionDenied("owner_id: not this agent's owner");
        const step = checkedStep(req.step, a);
        return { confirmation: confirmationMessage(a.confirmations.ask(step)) };
      });
    },

    async getConfirmation(req, ctx) {
      if (!CONFIRMATION_ID_PATTERN.test(req.id))
        throw invalidArgument("id", "must be a confirmation's id (32 lower-case hex characters)");
      return pick(ctx).confirmationCall(async (a) => {
        if (req.ownerId !== a.ownerId) throw permissionDenied("owner_id: not this agent's owner");
        const view = a.confirmations.get(req.id);
        if (!view) throw notFound(`confirmation ${req.id}`);
        return { confirmation: confirmationMessage(view) };
      });
    },
  };
}
