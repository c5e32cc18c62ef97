/**
 * AgentKeyService (agent_key_service.proto): an agent's wallet key, derived
 * from the pool's root key, released to the host the claims service places
 * the agent on (policy.ts decides; this file asks the claims service and
 * derives). The key is in the response alone: never in a log line, never
 * kept.
 */
import { Code, ConnectError, type Client, type ServiceImpl } from "@connectrpc/connect";
import type { AgentKeyService } from "@convos-pool/gen/convos/pool/v1/agent_key_service_pb.js";
import type { InstancePlacementService } from "@convos-pool/gen/convos/pool/v1/instance_placement_service_pb.js";
import { callerHost, type Logger } from "@convos-pool/kit/server";
import type { MasterSeed } from "@convos-pool/kit/signing";
import { argumentRefusal, credentialRefusal, type Placement, releaseRefusal } from "./policy.js";

/** Where an agent runs; undefined for an agent the pool never made. Throws when the claims service cannot say. */
export type PlacementLookup = (instanceId: string) => Promise<Placement | undefined>;

/** How long a placement may take to come back: a host waiting on it retries anyway. */
export const PLACEMENT_TIMEOUT_MS = 5_000;

/** The claims service's InstancePlacementService as a PlacementLookup. */
export function grpcPlacements(
  client: Client<typeof InstancePlacementService>,
  timeoutMs = PLACEMENT_TIMEOUT_MS,
): PlacementLookup {
  return async (instanceId) => {
    try {
      const res = await client.getPlacement({ instanceId }, { timeoutMs });
      return {
        instanceId,
        hostUrl: res.hostUrl,
        walletIndex: res.walletIndex,
        hostLost: res.hostLost,
        movingTo: res.movingTo,
      };
    } catch (err) {
      if (ConnectError.from(err).code === Code.NotFound) return undefined;
      throw err;
    }
  };
}

export interface AgentKeyServiceDeps {
  seed: MasterSeed;
  placements: PlacementLookup;
  log: Logger;
}

export function createAgentKeyService({
  seed,
  placements,
  log,
}: AgentKeyServiceDeps): ServiceImpl<typeof AgentKeyService> {
  return {
    async releaseAgentKey(req, ctx) {
      const bad = argumentRefusal(req);
      if (bad) throw bad;
      const host = callerHost(ctx);
      // Refused before the claims service is asked: the shared credential is never given a key.
      const shared = credentialRefusal(host);
      if (shared) throw shared;
      const placement = await lookUp(placements, req.instanceId, log);
      const refusal = releaseRefusal(placement, host, req.walletIndex);
      if (refusal) {
        log.warn("agent key refused", {
          instanceId: req.instanceId,
          host,
          walletIndex: req.walletIndex,
          reason: refusal.rawMessage,
        });
        throw refusal;
      }
      const wallet = seed.key(placement.walletIndex);
      log.info("agent key released", {
        instanceId: req.instanceId,
        host,
        walletIndex: wallet.index,
        address: wallet.address,
        ...(host === placement.hostUrl ? {} : { movingFrom: placement.hostUrl }),
      });
      return { privateKey: Buffer.from(wallet.privateKey.slice(2), "hex"), address: wallet.address };
    },

    getAgentAddress(req) {
      const bad = argumentRefusal({ walletIndex: req.walletIndex });
      if (bad) throw bad;
      return { address: seed.key(req.walletIndex).address };
    },
  };
}

/** The agent's placement: NOT_FOUND for one the pool never made, UNAVAILABLE while the claims service cannot say (the host asks again). */
async function lookUp(placements: PlacementLookup, instanceId: string, log: Logger): Promise<Placement> {
  let placement: Placement | undefined;
  try {
    placement = await placements(instanceId);
  } catch (err) {
    log.warn("an agent's placement could not be read", { instanceId, err });
    throw new ConnectError(
      `instance_id: the claims service, which says where ${instanceId} runs, did not answer; try again`,
      Code.Unavailable,
    );
  }
  if (!placement) throw new ConnectError(`instance_id: no agent ${instanceId} in this pool`, Code.NotFound);
  return placement;
}
