/**
 * What schedules ask of the agent's host (InstanceScheduleService): a
 * firing, and whether a person is a member of a conversation. Over gRPC to
 * the host the agent is placed on; in tests, a stand-in behind the same
 * interface.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  FireScheduleRequestSchema,
  InstanceScheduleService,
} from "@convos-pool/gen/convos/pool/v1/instance_schedule_service_pb.js";
import type { ScheduleItem } from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { INSTANCE_HEADER } from "@convos-pool/kit/content";
import type { ClientCredentials } from "@convos-pool/kit/server";
import { HostClients } from "../hosts/host-clients.js";

/** A host's call's deadline: under the firing's expiry (timers.ts), so a slow host is tried again, not twice at once. */
const HOST_CALL_MS = 30_000;

export interface ScheduleHosts {
  /** Delivers one firing; whether the agent had done that firing id before. Throws the host's error. */
  fire(hostUrl: string, firing: { firingId: string; item: ScheduleItem; occurrenceAt: number }): Promise<boolean>;
  /** Whether `inboxId` is a member of the agent's conversation now, as the agent reads the group. */
  checkMember(hostUrl: string, instanceId: string, conversationId: string, inboxId: string): Promise<boolean>;
  close(): void;
}

export function grpcScheduleHosts(credentials: ClientCredentials): ScheduleHosts {
  const clients = new HostClients(InstanceScheduleService, credentials);
  return {
    async fire(hostUrl, firing) {
      const answer = await clients.of(hostUrl).fireSchedule(
        create(FireScheduleRequestSchema, {
          firingId: firing.firingId,
          item: firing.item,
          occurrenceAt: timestampFromMs(firing.occurrenceAt),
        }),
        { headers: { [INSTANCE_HEADER]: firing.item.instanceId }, timeoutMs: HOST_CALL_MS },
      );
      return answer.alreadyDone;
    },
    async checkMember(hostUrl, instanceId, conversationId, inboxId) {
      const answer = await clients
        .of(hostUrl)
        .checkMember({ conversationId, inboxId }, { headers: { [INSTANCE_HEADER]: instanceId }, timeoutMs: 10_000 });
      return answer.member;
    },
    close: () => clients.close(),
  };
}
