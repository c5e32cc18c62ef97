// Where an agent's items are kept: the schedules service (claims'
// HostScheduleService, docs/schedules.md), seen from the agent as a port of
// three calls, each on behalf of the person heard in one conversation. The
// service decides owner or member from its own record and refuses a member's
// act; the agent refuses it first (policy.ts) and keeps an act's bound request
// itself (store.ts), since the control plane may lie about an item's payload.

import { type Client, ConnectError } from "@connectrpc/connect";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ScheduleKind, type ScheduleItem } from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { HostScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import { type ClientCredentials, createServiceClient } from "@convos-pool/kit/server";
import type { ItemKind, ItemSpec } from "./policy.js";

/** The person a call speaks for, in one of the agent's conversations. */
export interface OnBehalf {
  instanceId: string;
  conversationId: string;
  inboxId: string;
}

/** An item as the agent reads it back. */
export interface KeptItem {
  id: string;
  /** The conversation it was asked in, as the service says: the agent checks it (walls/views.ts itemsFor). */
  conversationId: string;
  kind: ItemKind;
  text: string;
  askedBy: string;
  /** Epoch milliseconds; undefined once nothing is left. */
  nextAt?: number | undefined;
  paused: boolean;
}

/** The three calls the conversation makes; each throws a ConnectError whose message the conversation may read. */
export interface ScheduleDesk {
  create(on: OnBehalf, spec: ItemSpec, payload?: Uint8Array): Promise<KeptItem>;
  /** The conversation's items (`on.conversationId`). */
  list(on: OnBehalf): Promise<KeptItem[]>;
  cancel(on: OnBehalf, id: string): Promise<void>;
}

const KINDS: Record<ItemKind, ScheduleKind> = {
  reminder: ScheduleKind.REMINDER,
  routine: ScheduleKind.ROUTINE,
  act: ScheduleKind.ACT,
};

function kept(item: ScheduleItem | undefined): KeptItem {
  if (!item) throw new ConnectError("the schedules service answered without the item");
  const kind = (Object.keys(KINDS) as ItemKind[]).find((k) => KINDS[k] === item.kind) ?? "reminder";
  return {
    id: item.id,
    conversationId: item.conversationId,
    kind,
    text: item.text,
    askedBy: item.askedByInboxId,
    nextAt: item.nextAt ? timestampDate(item.nextAt).getTime() : undefined,
    paused: item.paused,
  };
}

/** The desk over any client of HostScheduleService (the host's over the wire under its credential, a test's in memory). */
export function scheduleDeskOver(client: Client<typeof HostScheduleService>): ScheduleDesk {
  return {
    async create(on, spec, payload) {
      const res = await client.createSchedule({
        onBehalf: on,
        spec: {
          kind: KINDS[spec.kind],
          text: spec.text,
          startsAt: timestampFromMs(spec.when.startsAt),
          rrule: spec.when.rrule,
          timeZone: spec.when.zone,
          payload: payload ?? new Uint8Array(),
        },
      });
      return kept(res.item);
    },
    async list(on) {
      const res = await client.listSchedules({ onBehalf: on });
      return res.items.map((i) => kept(i));
    },
    async cancel(on, id) {
      await client.cancelSchedule({ onBehalf: on, id });
    },
  };
}

/** The desk over the wire: the claims service at `url`, under the host's own credential (docs/schedules.md, "The calls"). */
export function remoteScheduleDesk(url: string, credentials: ClientCredentials): ScheduleDesk & { close(): void } {
  const service = createServiceClient(HostScheduleService, url, credentials);
  return { ...scheduleDeskOver(service.client), close: () => service.close() };
}
