/**
 * AgentVaultService (agent_vault_service.proto): instance hosts keep each
 * claimed agent's sealed state here, off their own disk (docs/scaling.md, "A
 * host lost for good"). Only the instance hosts' credential may call it
 * (CLAIMS_ACCESS). The host names itself (`host_url`): a host can only put
 * states of agents the pool placed on that address, never another host's.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { AgentVaultService } from "@convos-pool/gen/convos/pool/v1/agent_vault_service_pb.js";
import { invalidArgument } from "@convos-pool/kit/content";
import type { EntityManager } from "@mikro-orm/postgresql";
import { MAX_STATES_PER_CALL, planPutStates } from "./policy.js";
import { putStates } from "./sql.js";

export function createAgentVaultService(em: EntityManager): ServiceImpl<typeof AgentVaultService> {
  return {
    async putAgentStates(req) {
      if (req.hostUrl === "")
        throw invalidArgument("host_url", "required: the host's own address, as the pool names it");
      if (req.states.length > MAX_STATES_PER_CALL)
        throw invalidArgument("states", `at most ${MAX_STATES_PER_CALL} per call`);
      const plans = planPutStates(req.states);
      const placed = await putStates(
        em.fork(),
        req.hostUrl,
        plans.flatMap((p) => (p.kind === "put" ? [p.state] : [])),
      );
      return {
        outcomes: plans.map((p) => {
          if (p.kind === "refuse") return { instanceId: p.instanceId, stored: false, error: p.error };
          const id = p.state.instanceId;
          return placed.has(id)
            ? { instanceId: id, stored: true, error: "" }
            : { instanceId: id, stored: false, error: `no live agent ${id} is placed on ${req.hostUrl}` };
        }),
      };
    },
  };
}
