/**
 * InstancePlacementService (instance_placement_service.proto): where each
 * agent runs, for the keys service alone (CLAIMS_ACCESS), which releases an
 * agent's key only to that host, or to the host a move is restoring it on
 * while its own is marked lost (docs/security.md, "Agents' keys").
 */
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { InstancePlacementService } from "@convos-pool/gen/convos/pool/v1/instance_placement_service_pb.js";
import { INSTANCE_ID_PATTERN, invalidArgument } from "@convos-pool/kit/content";
import type { EntityManager } from "@mikro-orm/postgresql";

export function createInstancePlacementService(em: EntityManager): ServiceImpl<typeof InstancePlacementService> {
  return {
    async getPlacement(req) {
      if (!INSTANCE_ID_PATTERN.test(req.instanceId))
        throw invalidArgument("instance_id", 'must be an instance id such as "inst_" followed by 16 letters or digits');
      const [row] = await em
        .fork()
        .execute<{ host_url: string; wallet_index: number; moving_to: string | null; lost: boolean }[]>(
          `select i.host_url, i.wallet_index, i.moving_to, h.lost_at is not null as lost
           from instances i left join instance_hosts h on h.url = i.host_url
          where i.id = ?`,
          [req.instanceId],
        );
      if (!row) throw new ConnectError(`instance_id: no agent ${req.instanceId} in this pool`, Code.NotFound);
      return {
        hostUrl: row.host_url,
        walletIndex: row.wallet_index,
        hostLost: row.lost,
        movingTo: row.moving_to ?? "",
      };
    },
  };
}
