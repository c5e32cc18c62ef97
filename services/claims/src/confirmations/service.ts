// ConfirmationService: an owner's step confirmed in Convos instead of signed
// (docs/trust.md, "Confirmations in Convos"). The claims service checks that
// the signed-in caller owns the live agent (anyone else: NOT_FOUND, as for a
// missing agent) and relays; the agent checks the step, asks its owner in
// Convos and applies it only on their answer there, so nothing here, nor a
// session, confirms anything. The owner the agent is told is the caller, which
// the agent compares with its own.

import type { ServiceImpl } from "@connectrpc/connect";
import type { ConfirmationService } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { invalidArgument } from "@convos-pool/kit/content";
import { ownersAgent, type OwnerCallDeps } from "../claim/owner-call.js";
import { askAgent, type InstanceRuntime } from "../hosts/runtime.js";

/** A confirmation's id as the agent draws it: 16 random bytes in lower-case hex. */
const CONFIRMATION_ID = /^[0-9a-f]{32}$/;

export interface ConfirmationServiceDeps extends Pick<OwnerCallDeps, "em"> {
  runtime: Pick<InstanceRuntime, "confirmations">;
}

export function createConfirmationService(deps: ConfirmationServiceDeps): ServiceImpl<typeof ConfirmationService> {
  const owned = ownersAgent(deps);
  return {
    async askConfirmation(req, ctx) {
      if (!req.step?.step.case)
        throw invalidArgument("step", "required: answer_approval, set_trust_level or set_permissions");
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
      return { confirmation: res.confirmation };
    },
  };
}
