// Whom the templates service asks whether an inbox owns an agent of a
// template: the claims service, which owns agents (TemplateOwnershipService).
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { TemplateOwnershipService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { createServiceClient, type ServiceCredentials } from "@convos-pool/kit/server";
import type { Ownership } from "./policy.js";

export interface OwnershipSource {
  ownership(templateId: string, ownerId: string): Promise<Ownership>;
  close(): void;
}

/** Asks the claims service at `claimsUrl`, presenting the templates service's credential. */
export function grpcOwnership(claimsUrl: string, credentials: ServiceCredentials): OwnershipSource {
  const sc = createServiceClient(TemplateOwnershipService, claimsUrl, credentials);
  return {
    async ownership(templateId, ownerId) {
      const res = await sc.client.getTemplateOwnership({ templateId, ownerId }, { timeoutMs: 5_000 });
      return {
        since: res.ownedSince ? timestampDate(res.ownedSince) : undefined,
        now: res.now ? timestampDate(res.now) : new Date(),
      };
    },
    close: () => sc.close(),
  };
}
