// ConfirmationService: an owner's step confirmed in Convos instead of signed
// (docs/trust.md, "Confirmations in Convos"). The claims service checks that
// the signed-in caller owns the live agent (anyone else: NOT_FOUND, as for a
// missing agent) and relays; the agent checks the step, asks its owner in
// Convos and applies it only on their answer there, so nothing here, nor a
// session, confirms anything. The owner the agent is told is the caller, which
// the agent compares with its own. Once the agent says a step applied, the
// pool records it as its pages show it (sql.ts: a daily limit never raised by
// the agent's word).

import type { ServiceImpl } from "@connectrpc/connect";
import {
  ConfirmationState,
  type Confirmation,
  type ConfirmationService,
} from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { invalidArgument, resolvePermissions } from "@convos-pool/kit/content";
import { ownersAgent, type OwnerCallDeps } from "../claim/owner-call.js";
import { askAgent, type InstanceRuntime } from "../hosts/runtime.js";
import { recordConfirmedPermissions, recordConfirmedTrust } from "./sql.js";

/** A confirmation's id as the agent draws it: 16 random bytes in lower-case hex. */
const CONFIRMATION_ID = /^[0-9a-f]{32}$/;
/** How many applied confirmations it remembers having recorded, so that a page's polling records each once. */
const RECORDED_KEPT = 1_000;

export interface ConfirmationServiceDeps extends Pick<OwnerCallDeps, "em"> {
  runtime: Pick<InstanceRuntime, "confirmations">;
}

export function createConfirmationService(deps: ConfirmationServiceDeps): ServiceImpl<typeof ConfirmationService> {
  const owned = ownersAgent(deps);
  const recorded = new Set<string>();

  /** An applied step recorded once, as the agent applied it. */
  async function record(instanceId: string, ownerId: string, c: Confirmation | undefined): Promise<void> {
    if (!c || c.state !== ConfirmationState.APPLIED || recorded.has(c.id)) return;
    const step = c.step?.step;
    if (step?.case === "setTrustLevel")
      await recordConfirmedTrust(
        deps.em.fork(),
        instanceId,
        ownerId,
        step.value.trustLevel,
        step.value.dailySpendLimitWei,
      );
    else if (step?.case === "setPermissions")
      await recordConfirmedPermissions(deps.em.fork(), instanceId, ownerId, resolvePermissions(step.value.permissions));
    recorded.add(c.id);
    if (recorded.size > RECORDED_KEPT) recorded.delete(recorded.values().next().value as string);
  }

  return {
    async askConfirmation(req, ctx) {
      if (!req.step?.step.case)
        throw invalidArgument("step", "required: answer_approval, set_trust_level, set_permissions or list_memory");
      const { ref, ownerId } = await owned(req.instanceId, ctx);
      const agent = deps.runtime.confirmations(ref);
      const res = await askAgent("the confirmation", () =>
        agent.client.askConfirmation({ ownerId, step: req.step }, agent.options),
      );
      return { confirmation: res.confirmation };
    },

    async getConfirmation(req, ctx) {
      if (!CONFIRMATION_ID.test(req.id))
        throw invalidArgument("id", "must be a confirmation's id (32 lower-case hex characters)");
      const { ref, ownerId } = await owned(req.instanceId, ctx);
      const agent = deps.runtime.confirmations(ref);
      const res = await askAgent("the confirmation", () =>
        agent.client.getConfirmation({ ownerId, id: req.id }, agent.options),
      );
      await record(req.instanceId, ownerId, res.confirmation);
      return { confirmation: res.confirmation };
    },
  };
}
