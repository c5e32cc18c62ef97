/**
 * AgentVaultService (agent_vault_service.proto): instance hosts keep each
 * claimed agent's sealed state here, off their own disk (docs/scaling.md, "A
 * host lost for good"). Only the instance hosts' credential may call it
 * (CLAIMS_ACCESS), and only under a host's own credential, which names its
 * address (`instance-host@<url>`: kit's auth.ts): a host puts only states of
 * agents the pool placed on that address, never another host's, whatever
 * `host_url` it names. The hosts' shared credential puts nothing.
 */
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { AgentVaultService } from "@convos-pool/gen/convos/pool/v1/agent_vault_service_pb.js";
import { invalidArgument } from "@convos-pool/kit/content";
import { callerHost } from "@convos-pool/kit/server";
import type { EntityManager } from "@mikro-orm/postgresql";
import { hostUrlProblem, MAX_STATES_PER_CALL, planPutStates } from "./policy.js";
import { putStates } from "./sql.js";

export function createAgentVaultService(em: EntityManager): ServiceImpl<typeof AgentVaultService> {
  return {
    async putAgentStates(req, ctx) {
      const host = callerHost(ctx);
      if (host === undefined)
        throw new ConnectError(
          "the vault keeps a state only from the host that runs its agent, under that host's own credential (instance-host@<its address> in POOL_SERVICE_DIGESTS), not the hosts' shared one",
          Code.PermissionDenied,
        );
      if (req.hostUrl !== "") {
        const badHost = hostUrlProblem(req.hostUrl);
        if (badHost) throw invalidArgument("host_url", badHost);
        if (req.hostUrl !== host)
          throw new ConnectError(
            `host_url: this credential is the host ${host}'s; a host keeps only its own agents' states`,
            Code.PermissionDenied,
          );
      }
      if (req.states.length > MAX_STATES_PER_CALL)
        throw invalidArgument("states", `at most ${MAX_STATES_PER_CALL} per call`);
      const plans = planPutStates(req.states);
      const placed = await putStates(
        em.fork(),
        host,
        plans.flatMap((p) => (p.kind === "put" ? [p.state] : [])),
      );
      return {
        outcomes: plans.map((p) => {
          if (p.kind === "refuse") return { instanceId: p.instanceId, stored: false, error: p.error };
          const id = p.state.instanceId;
          if (placed.kept.has(id)) return { instanceId: id, stored: true, error: "" };
          const most = placed.tooFar.get(id);
          return most !== undefined
            ? {
                instanceId: id,
                stored: false,
                error: `sequence: ${p.state.sequence} is too far past the state kept; at most ${most} now`,
              }
            : { instanceId: id, stored: false, error: `no live agent ${id} is placed on ${host}` };
        }),
      };
    },
  };
}
