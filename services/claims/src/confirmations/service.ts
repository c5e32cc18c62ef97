// ConfirmationService: an owner's step confirmed in Convos instead of signed
// (docs/trust.md, "Confirmations in Convos"). The claims service checks that
// the signed-in caller owns the live agent (anyone else: NOT_FOUND, as for a
// missing agent) and relays; the agent checks the step, asks its owner in
// Convos and applies it only on their answer there, so nothing here, nor a
// session, confirms anything. The owner the agent is told is the caller, which
// the agent compares with its own. Once the agent says a step applied, the
// pool records it as its pages show it (sql.ts). A daily limit is raised only
// when both words agree (signer/confirmed.ts): this session asked that step
// (written at the ask) and the agent heard the owner's yes to it, up to the
// cap; a raise above the cap is refused before the agent is asked.

import type { ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "@convos-pool/kit/server";
import {
  ConfirmationState,
  type Confirmation,
  type ConfirmationService,
} from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { invalidArgument, resolvePermissions } from "@convos-pool/kit/content";
import { ownersAgent, type OwnerCallDeps } from "../claim/owner-call.js";
import { askAgent, type InstanceRuntime } from "../hosts/runtime.js";
import { confirmedLimit, confirmedLimitAskRefusal } from "../signer/confirmed.js";
import {
  lockAsk,
  ownerOf,
  recordConfirmedLimit,
  recordConfirmedPermissions,
  recordConfirmedTrust,
  recordedLimit,
  writeAsk,
} from "./sql.js";

/** A confirmation's id as the agent draws it: 16 random bytes in lower-case hex. */
const CONFIRMATION_ID = /^[0-9a-f]{32}$/;
/** How many applied confirmations it remembers having recorded, so that a page's polling records each once. */
const RECORDED_KEPT = 1_000;

export interface ConfirmationServiceDeps extends Pick<OwnerCallDeps, "em"> {
  runtime: Pick<InstanceRuntime, "confirmations">;
  log?: Logger;
}

/** A limit as a step carries it (decimal wei, "" or "0" none); a limit that is no number, none. */
const weiOf = (text: string): bigint => (/^\d{1,78}$/.test(text.trim()) ? BigInt(text.trim()) : 0n);

export function createConfirmationService(deps: ConfirmationServiceDeps): ServiceImpl<typeof ConfirmationService> {
  const owned = ownersAgent(deps);
  const recorded = new Set<string>();

  /** An applied step recorded once, as the agent applied it. */
  async function record(instanceId: string, ownerId: string, c: Confirmation | undefined): Promise<void> {
    if (!c || c.state !== ConfirmationState.APPLIED || recorded.has(c.id)) return;
    const step = c.step?.step;
    if (step?.case === "setTrustLevel")
      await deps.em.fork().transactional(async (tx) => {
        const heard = {
          id: c.id,
          instanceId,
          state: c.state,
          trustLevel: step.value.trustLevel,
          dailySpendLimitWei: weiOf(step.value.dailySpendLimitWei),
          digest: c.digest,
        };
        const limit = confirmedLimit(
          heard,
          await lockAsk(tx, c.id),
          await ownerOf(tx, instanceId),
          await recordedLimit(tx, instanceId),
        );
        if (limit.kind === "confirmed")
          return recordConfirmedLimit(tx, instanceId, ownerId, heard.trustLevel, limit.wei, limit.confirmation);
        if (limit.kind === "refused")
          deps.log?.warn("a daily limit confirmed in Convos was not recorded", {
            instanceId,
            id: c.id,
            why: limit.why,
          });
        return recordConfirmedTrust(tx, instanceId, ownerId, heard.trustLevel, step.value.dailySpendLimitWei);
      });
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
      const trust = req.step.step.case === "setTrustLevel" ? req.step.step.value : undefined;
      if (trust) {
        const refusal = confirmedLimitAskRefusal(
          trust.dailySpendLimitWei,
          await recordedLimit(deps.em.fork(), req.instanceId),
        );
        if (refusal) throw refusal;
      }
      const agent = deps.runtime.confirmations(ref);
      const res = await askAgent("the confirmation", () =>
        agent.client.askConfirmation({ ownerId, step: req.step }, agent.options),
      );
      // The first word: this session, the agent's owner, asked this step; the agent's digest of it binds the rest.
      if (trust && res.confirmation)
        await writeAsk(deps.em.fork(), {
          id: res.confirmation.id,
          instanceId: req.instanceId,
          askedBy: ownerId,
          trustLevel: trust.trustLevel,
          dailySpendLimitWei: weiOf(trust.dailySpendLimitWei),
          digest: res.confirmation.digest,
        });
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
