// The confirmations an agent asked its owner for in Convos and keeps until
// the page that asked has read how they ended (docs/trust.md,
// "Confirmations in Convos"). Each is a question asked exactly as an
// approval is (`ask`: tools/approvals/questions.ts, which only the owner's
// answer on that question's message answers), under a nonce drawn here; what
// the answer does is policy.ts's `settle`, and `apply` does the step through
// the same path as the signed call. Held in memory, as the questions are: a
// restart ends them all, unanswered, as it ends a question.

import { randomBytes } from "node:crypto";
import { ConfirmationState } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { Code } from "@connectrpc/connect";
import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { SealedBoxBytes } from "@convos-pool/kit/signing";
import { errorOn, failedPrecondition, type ResolvedPermissions } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import { hexToBytes } from "viem";
import { SYSTEM_CLOCK, type Clock } from "../../platform/clock.js";
import type { Approval } from "../gate/gate.js";
import { APPROVAL_TIMEOUT_MS } from "../approvals/policy.js";
import { checkLevelRequest } from "../trust/levels.js";
import {
  confirmationCode,
  confirmationStatement,
  mayAsk,
  raisesAboveCap,
  settle,
  stepDigest,
  stillKept,
  stepWords,
  type Kept,
  type Step,
} from "./policy.js";

/** What a confirmed step changes: the agent's toolbox (AgentToolbox), and its template's highest level now. */
export interface StepTarget {
  answerSigned(id: string, said: "yes" | "no"): boolean;
  setLevel(level: TrustLevel, dailySpendLimitWei: string, why: string, byOwner: boolean): Promise<unknown>;
  setPermissions(permissions: ResolvedPermissions): Promise<unknown>;
  templateMax(): TrustLevel;
  /** The daily spending limit it holds now, decimal wei ("0" none). */
  currentLimitWei(): string;
  /** Its memory listed as ListMemory lists it, sealed to `recipientKey` (memory/service.ts sealedListing). */
  listMemory(recipientKey: Uint8Array, feedbackOnly: boolean): Promise<SealedBoxBytes>;
}

/**
 * A step its owner confirmed, done through the same paths as its signed
 * call, checked again as it applies: the question may have been answered
 * meanwhile, the template's highest level or the signed limit may have fallen.
 * A listing of memory answers what it sealed, for the page that holds the key.
 */
export async function applyStep(step: Step, to: StepTarget): Promise<SealedBoxBytes | undefined> {
  switch (step.kind) {
    case "answer_approval":
      if (!to.answerSigned(step.questionId, step.approve ? "yes" : "no"))
        throw failedPrecondition("the question is no longer waiting: it was answered, or it timed out");
      return;
    case "set_trust_level": {
      const want = checkLevelRequest(step.trustLevel, step.dailySpendLimitWei, to.templateMax());
      if (raisesAboveCap(to.currentLimitWei(), want.dailySpendLimitWei))
        throw failedPrecondition(
          "the daily limit it would set is above what a confirmation may set, and above the one signed now",
        );
      await to.setLevel(want.level, want.dailySpendLimitWei, "set by the owner, confirmed in Convos", true);
      return;
    }
    case "set_permissions":
      await to.setPermissions(step.permissions);
      return;
    case "list_memory":
      return to.listMemory(hexToBytes(step.recipientKey), step.feedbackOnly);
  }
}

export interface ConfirmationsDeps {
  instanceId: string;
  /** Its owner now (a transfer changes it). */
  ownerId(): string | undefined;
  /** Asks the owner as an approval is asked, privately (AgentToolbox.askPrivately): their yes, no, or its end. */
  ask(statement: string): Promise<Approval>;
  /**
   * Does the step, as the signed call does; throws what makes it impossible
   * now (the question answered meanwhile). A listing answers what it sealed.
   */
  apply(step: Step): Promise<SealedBoxBytes | undefined>;
  /** The waiting question's statement, for a step that answers one. */
  questionStatement(questionId: string): string | undefined;
  log: Logger;
  clock?: Clock;
  /** Draws a confirmation's id; default 16 random bytes (tests: a fixed sequence). */
  nonce?: () => string;
}

/** A confirmation as the page reads it. */
export interface ConfirmationView extends Kept {
  code: string;
  statement: string;
  /** A listing of memory, once applied: sealed to the key its step names. */
  sealed?: SealedBoxBytes;
}

export class Confirmations {
  private readonly kept = new Map<string, ConfirmationView>();

  constructor(private readonly deps: ConfirmationsDeps) {}

  /**
   * Asks the owner to confirm `step` (its values already checked): kept
   * under a new nonce, asked in Convos, and the confirmation as it stands
   * returned at once; the answer settles it later.
   */
  ask(step: Step): ConfirmationView {
    const ownerId = this.deps.ownerId();
    if (!ownerId) throw failedPrecondition("the agent has no owner: it is not claimed");
    const clock = this.deps.clock ?? SYSTEM_CLOCK;
    this.forgetOld(clock.now());
    const waiting = [...this.kept.values()].filter((k) => k.state === ConfirmationState.WAITING).length;
    if (!mayAsk(waiting))
      throw errorOn(
        Code.ResourceExhausted,
        "step",
        "too many confirmations wait in Convos already: answer those first",
      );
    const id = (this.deps.nonce ?? (() => randomBytes(16).toString("hex")))();
    const digest = stepDigest(this.deps.instanceId, step);
    const code = confirmationCode(digest);
    const question = step.kind === "answer_approval" ? this.deps.questionStatement(step.questionId) : undefined;
    const statement = confirmationStatement(stepWords(step, question), code);
    const view: ConfirmationView = {
      id,
      ownerId,
      step,
      digest,
      code,
      statement,
      state: ConfirmationState.WAITING,
      detail: "",
      expiresAtMs: clock.now() + APPROVAL_TIMEOUT_MS,
    };
    this.kept.set(id, view);
    void this.deps
      .ask(statement)
      .then((said) => this.answered(view, said))
      .catch((err: unknown) => {
        this.deps.log.warn("could not ask the owner to confirm", { err });
        return this.answered(view, "unasked");
      });
    return { ...view };
  }

  /** The confirmation `id`, as it stands; undefined when none is kept (never asked, or settled long ago). */
  get(id: string): ConfirmationView | undefined {
    this.forgetOld((this.deps.clock ?? SYSTEM_CLOCK).now());
    const view = this.kept.get(id);
    return view ? { ...view } : undefined;
  }

  /** The owner's answer (or the question's end): settled once, the step applied on a yes that still binds. */
  private async answered(view: ConfirmationView, said: Approval): Promise<void> {
    const next = settle(view, said, {
      digest: stepDigest(this.deps.instanceId, view.step),
      ownerId: this.deps.ownerId(),
    });
    if (next.kind === "ignore") return;
    const now = () => (this.deps.clock ?? SYSTEM_CLOCK).now();
    if (next.kind === "settle") {
      Object.assign(view, { state: next.state, detail: next.detail, settledAtMs: now() });
      return;
    }
    // Answered before it is applied: a second answer meanwhile is ignored, and nothing applies twice.
    view.applying = true;
    try {
      const sealed = await this.deps.apply(next.step);
      Object.assign(view, { state: ConfirmationState.APPLIED, settledAtMs: now(), sealed });
      this.deps.log.info("a step confirmed by the owner in Convos applied", { step: next.step.kind });
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      Object.assign(view, { state: ConfirmationState.FAILED, detail, settledAtMs: now() });
      this.deps.log.warn("a step confirmed by the owner in Convos could not be applied", {
        step: next.step.kind,
        detail,
      });
    }
  }

  private forgetOld(nowMs: number): void {
    for (const [id, view] of this.kept) if (!stillKept(view, nowMs)) this.kept.delete(id);
  }
}
