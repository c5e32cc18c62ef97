// Whom the templates service asks on how many days an owner's agent of a
// template answered other people: the lineage service, which keeps every
// agent's signed day counts (OwnerActivityService; docs/signals.md, "Days
// with others").
import { OwnerActivityService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { createServiceClient, type ServiceCredentials } from "@convos-pool/kit/server";

export interface ActivitySource {
  /** The most days on which one of `ownerId`'s agents of `templateId` answered at least two people besides them. */
  daysAnsweringOthers(templateId: string, ownerId: string): Promise<number>;
  close(): void;
}

/** Asks the lineage service at `lineageUrl`, presenting the templates service's credential. */
export function grpcActivity(lineageUrl: string, credentials: ServiceCredentials): ActivitySource {
  const sc = createServiceClient(OwnerActivityService, lineageUrl, credentials);
  return {
    async daysAnsweringOthers(templateId, ownerId) {
      const res = await sc.client.getOwnerActivity({ templateId, ownerId }, { timeoutMs: 5_000 });
      return res.daysAnsweringOthers;
    },
    close: () => sc.close(),
  };
}
