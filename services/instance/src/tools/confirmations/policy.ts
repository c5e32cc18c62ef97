// What binds an owner's confirmation in Convos (docs/trust.md,
// "Confirmations in Convos"), pure. A step is one of the owner's acts the web
// app asks for without a signature; the agent keeps it as asked, names it by
// a digest of its canonical JSON (the page computes the same digest from the
// step it showed, and both show its code), and asks its owner in Convos the
// way it asks an approval (tools/approvals/: only the owner's answer on that
// question's message reaches it). What the answer does is `settle`'s: a yes
// applies the kept step once, and only while its digest is still the one
// asked; anything else applies nothing. It is not the check of the step's
// values (confirmations.ts runs the signed call's own checks) nor who
// answered (the conversation and the direct conversation hand over the
// owner's answers only).

import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ConfirmationState } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import {
  CONFIRMED_DAILY_LIMIT_CAP_WEI,
  permissionNames,
  trustLevelName,
  type ResolvedPermissions,
} from "@convos-pool/kit/content";
import { formatEther, keccak256, toBytes } from "viem";
import type { Approval } from "../gate/gate.js";

/** How many confirmations may wait at once: each is a question in the owner's Convos, which the pool could otherwise flood. */
export const MAX_WAITING_CONFIRMATIONS = 3;
/** How long a settled confirmation is still told to the page that polls for it. */
export const SETTLED_KEPT_MS = 15 * 60_000;
/** A confirmation's id: the agent's nonce, 16 random bytes in lower-case hex. */
export const CONFIRMATION_ID_PATTERN = /^[0-9a-f]{32}$/;

/** An owner's step, its values as the agent will apply them (the signed call's checks done, defaults filled in). */
export type Step =
  | { kind: "answer_approval"; questionId: string; approve: boolean }
  | { kind: "set_trust_level"; trustLevel: TrustLevel; dailySpendLimitWei: string }
  | { kind: "set_permissions"; permissions: ResolvedPermissions }
  /** One listing of its memory sealed to the page's key (0x and 64 hex characters): the key is part of the step. */
  | { kind: "list_memory"; recipientKey: `0x${string}`; feedbackOnly: boolean };

/**
 * The step's canonical JSON: its version, this agent, then its fields in a
 * fixed order, numbers as numbers. The web app builds the same string
 * (services/web/src/agent/confirm-words.ts); both are held to one test vector.
 */
export function canonicalStep(instanceId: string, step: Step): string {
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

/** keccak256 of the canonical JSON: 0x and 64 hex characters. */
export function stepDigest(instanceId: string, step: Step): `0x${string}` {
  return keccak256(toBytes(canonicalStep(instanceId, step)));
}

/** The digest as a person compares it, in Convos and on the page: its first 8 hex characters, `7F3A-91C2`. */
export function confirmationCode(digest: string): string {
  const hex = digest.slice(2, 10).toUpperCase();
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

/** What the step does, in words; `question`: the waiting question's statement, for an answer to one. */
export function stepWords(step: Step, question?: string): string {
  switch (step.kind) {
    case "answer_approval":
      return `${step.approve ? "Approve" : "Decline"} what I asked you: ${question ?? `question ${step.questionId}`}`;
    case "set_trust_level": {
      const limit =
        step.dailySpendLimitWei === "0"
          ? "no spending"
          : `up to ${formatEther(BigInt(step.dailySpendLimitWei))} ETH a day`;
      return `Set my trust level to ${trustLevelName(step.trustLevel) || `level ${step.trustLevel}`}, ${limit}.`;
    }
    case "set_permissions": {
      const n = permissionNames(step.permissions);
      return [
        "Set whose requests I act on:",
        `another member's texts: ${n.member_sms}; mail: ${n.member_email}; money: ${n.member_crypto};`,
        `a text from outside: ${n.outsider_reply}; your approvals asked in: ${n.approvals}.`,
      ].join(" ");
    }
    case "list_memory":
      return step.feedbackOnly
        ? "Show the feedback I was given on the pool's web page, once."
        : "Show everything I know, and who taught it, on the pool's web page, once.";
  }
}

/** The statement the owner's question carries: that the pool's web page asked, the step in full, its code. */
export function confirmationStatement(words: string, code: string): string {
  return `You asked on the pool's web page (code ${code}): ${words}`;
}

/** A confirmation as the agent keeps it. */
export interface Kept {
  id: string;
  /** The owner it was asked of: only theirs to confirm, so a transfer meanwhile voids it. */
  ownerId: string;
  step: Step;
  digest: `0x${string}`;
  state: ConfirmationState;
  detail: string;
  expiresAtMs: number;
  /** When it settled; undefined while it waits. */
  settledAtMs?: number;
  /** The owner said yes and its step is being applied: still WAITING to the page, answered all the same. */
  applying?: boolean;
}

/** What the owner's answer does to a kept confirmation. */
export type Settlement =
  | { kind: "apply"; step: Step }
  | { kind: "settle"; state: ConfirmationState; detail: string }
  | { kind: "ignore" };

/**
 * What `said` (the owner's answer to its question, or its end) does to `kept`,
 * whose step's digest is now `now.digest` (recomputed from the step it holds)
 * and whose agent's owner is now `now.ownerId`: a yes applies that step,
 * once, only while it still waits, its digest is the one asked and its owner
 * the one asked; a no declines; a timeout, or a question never asked, expires.
 */
export function settle(kept: Kept, said: Approval, now: { digest: string; ownerId: string | undefined }): Settlement {
  if (kept.state !== ConfirmationState.WAITING || kept.applying) return { kind: "ignore" };
  switch (said) {
    case "yes":
      if (now.ownerId !== kept.ownerId)
        return { kind: "settle", state: ConfirmationState.FAILED, detail: "the agent has another owner now" };
      return now.digest === kept.digest
        ? { kind: "apply", step: kept.step }
        : { kind: "settle", state: ConfirmationState.FAILED, detail: "the step changed after it was asked" };
    case "no":
      return { kind: "settle", state: ConfirmationState.DECLINED, detail: "" };
    default:
      return { kind: "settle", state: ConfirmationState.EXPIRED, detail: "" };
  }
}

/**
 * Whether a confirmed daily limit would raise the one the agent holds now
 * (decimal wei; "" or "0" none) above the cap a confirmation may set
 * (CONFIRMED_DAILY_LIMIT_CAP_WEI, 0.05 ETH a day). A confirmation may lower
 * the limit, or raise it up to the cap: the pool's payment signer takes such
 * a limit only when the owner's session asked it too, and never above the
 * cap; above it, the owner signs (docs/security.md, "Agents' money").
 */
export function raisesAboveCap(currentWei: string, wantWei: string): boolean {
  const want = BigInt(wantWei.trim() || "0");
  return want > CONFIRMED_DAILY_LIMIT_CAP_WEI && want > BigInt(currentWei.trim() || "0");
}

/** The field a confirmed limit above the cap is refused on, as the claims service names it too. */
export const CONFIRMED_LIMIT_FIELD = "step.set_trust_level.daily_spend_limit_wei";

/** Why a limit above the cap is refused, in the owner's words. */
export const ABOVE_CAP = `at most ${formatEther(CONFIRMED_DAILY_LIMIT_CAP_WEI)} ETH a day when confirmed in Convos; a higher limit takes your wallet's signature`;

/** Whether another confirmation may be asked now, with `waiting` already waiting. */
export function mayAsk(waiting: number): boolean {
  return waiting < MAX_WAITING_CONFIRMATIONS;
}

/** Whether a settled confirmation is still told at `nowMs`. */
export function stillKept(kept: Kept, nowMs: number): boolean {
  return kept.settledAtMs === undefined || nowMs - kept.settledAtMs < SETTLED_KEPT_MS;
}
