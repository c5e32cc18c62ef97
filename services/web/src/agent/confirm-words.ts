// An owner's step confirmed in Convos, as the page sees it (docs/trust.md,
// "Confirmations in Convos"), pure: the step's canonical JSON, digest and
// code, computed here from the step the page shows (the agent computes the
// same in services/instance/src/tools/confirmations/policy.ts; both are held
// to one test vector), and what the agent's answer means to the page. The
// page shows its own code, never the one the pool answers, and refuses an
// outcome for another digest: a pool that changed the step is caught here,
// and by the owner in Convos, where the agent says the step in full.
import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  ConfirmationState,
  type Confirmation,
  type ConfirmationStepSchema,
} from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { CONFIRMED_DAILY_LIMIT_CAP_WEI, type ResolvedPermissions } from "@convos-pool/kit/browser";
import { formatEther, hexToBytes, keccak256, toBytes } from "viem";

/** A step as the page shows it, its values as the agent will apply them (defaults filled in, a limit "0" for none). */
export type ShownStep =
  | { kind: "answer_approval"; questionId: string; approve: boolean }
  | { kind: "set_trust_level"; trustLevel: TrustLevel; dailySpendLimitWei: string }
  | { kind: "set_permissions"; permissions: ResolvedPermissions }
  /** One listing of its memory sealed to this page's one-time key (0x and 64 hex characters). */
  | { kind: "list_memory"; recipientKey: `0x${string}`; feedbackOnly: boolean };

/** The step's canonical JSON: the agent's own (policy.ts canonicalStep), field for field. */
export function canonicalStep(instanceId: string, step: ShownStep): string {
  const head = { v: 1, instanceId, step: step.kind };
  switch (step.kind) {
    case "answer_approval":
      return JSON.stringify({ ...head, questionId: step.questionId, approve: step.approve });
    case "set_trust_level":
      return JSON.stringify({ ...head, trustLevel: step.trustLevel, dailySpendLimitWei: step.dailySpendLimitWei });
    case "set_permissions": {
      const p = step.permissions;
      return JSON.stringify({
        ...head,
        memberSms: p.memberSms,
        memberEmail: p.memberEmail,
        memberCrypto: p.memberCrypto,
        outsiderReply: p.outsiderReply,
        approvals: p.approvals,
      });
    }
    case "list_memory":
      return JSON.stringify({ ...head, recipientKey: step.recipientKey, feedbackOnly: step.feedbackOnly });
  }
}

export function stepDigest(instanceId: string, step: ShownStep): string {
  return keccak256(toBytes(canonicalStep(instanceId, step)));
}

/** The digest's first 8 hex characters, `7F3A-91C2`: what the question in Convos shows too. */
export function confirmationCode(digest: string): string {
  const hex = digest.slice(2, 10).toUpperCase();
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

/** The step as AskConfirmation carries it. */
export function stepRequest(step: ShownStep): MessageInitShape<typeof ConfirmationStepSchema> {
  switch (step.kind) {
    case "answer_approval":
      return { step: { case: "answerApproval", value: { questionId: step.questionId, approve: step.approve } } };
    case "set_trust_level":
      return {
        step: {
          case: "setTrustLevel",
          value: { trustLevel: step.trustLevel, dailySpendLimitWei: step.dailySpendLimitWei },
        },
      };
    case "set_permissions":
      return { step: { case: "setPermissions", value: { permissions: step.permissions } } };
    case "list_memory":
      return {
        step: {
          case: "listMemory",
          value: { recipientKey: hexToBytes(step.recipientKey), feedbackOnly: step.feedbackOnly },
        },
      };
  }
}

/** What the agent's answer means to the page that showed the step with digest `shown`. */
export type Outcome = { kind: "waiting" } | { kind: "done" } | { kind: "refused"; why: string };

export function outcomeOf(c: Pick<Confirmation, "digest" | "state" | "detail">, shown: string): Outcome {
  if (c.digest !== shown)
    return {
      kind: "refused",
      why: "The pool asked Convos for another step than the one shown here. Decline it in Convos; nothing here was changed by this page.",
    };
  switch (c.state) {
    case ConfirmationState.WAITING:
      return { kind: "waiting" };
    case ConfirmationState.APPLIED:
      return { kind: "done" };
    case ConfirmationState.DECLINED:
      return { kind: "refused", why: "You declined it in Convos: nothing changed." };
    case ConfirmationState.EXPIRED:
      return { kind: "refused", why: "It was not confirmed in Convos in time: nothing changed." };
    default:
      return {
        kind: "refused",
        why: `Confirmed in Convos, but not done: ${c.detail || "the agent could not apply it"}.`,
      };
  }
}

/** The most a daily limit confirmed in Convos may be, in ETH ("0.05"). */
export const CONFIRMED_LIMIT_CAP_ETH = formatEther(CONFIRMED_DAILY_LIMIT_CAP_WEI);

/**
 * Why `wei` cannot be confirmed in Convos as a daily limit over `currentWei`
 * (the one it holds now; 0 none): above the cap, which only a signature
 * passes; undefined when it can (a lowering is always one). The pool and the
 * agent refuse it as well (step.set_trust_level.daily_spend_limit_wei); the
 * page says so before anyone is asked.
 */
export function confirmedLimitProblem(wei: bigint, currentWei: bigint): string | undefined {
  if (wei <= CONFIRMED_DAILY_LIMIT_CAP_WEI || wei <= currentWei) return undefined;
  return `at most ${CONFIRMED_LIMIT_CAP_ETH} ETH a day when confirmed in Convos; a wallet of yours can sign a higher limit`;
}
