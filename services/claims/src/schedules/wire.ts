/** Schedules' items as the contract carries them (schedule.proto), both ways. */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  ScheduleAskerRole,
  type ScheduleItem,
  ScheduleItemSchema,
  ScheduleKind,
  SchedulePause,
  type ScheduleSpec,
} from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import type { Item, PauseReason, ScheduleAsk, ScheduleKindName } from "./policy.js";

const KINDS: Record<ScheduleKindName, ScheduleKind> = {
  reminder: ScheduleKind.REMINDER,
  routine: ScheduleKind.ROUTINE,
  act: ScheduleKind.ACT,
};
const PAUSES: Record<PauseReason, SchedulePause> = {
  asked: SchedulePause.ASKED,
  released: SchedulePause.RELEASED,
  transferred: SchedulePause.TRANSFERRED,
  left: SchedulePause.LEFT,
};

/**
 * The item as the contract carries it. `agentInboxId` (the agent's own inbox
 * on the service's record): an item it asked for itself is its template's
 * routine, shown as the template's (judged a member all the same).
 */
export function itemMessage(item: Item, agentInboxId = ""): ScheduleItem {
  return create(ScheduleItemSchema, {
    id: item.id,
    instanceId: item.instanceId,
    conversationId: item.conversationId,
    askedByInboxId: item.askedBy,
    askedByRole:
      agentInboxId !== "" && item.askedBy === agentInboxId
        ? ScheduleAskerRole.TEMPLATE
        : item.askedByRole === "owner"
          ? ScheduleAskerRole.OWNER
          : ScheduleAskerRole.MEMBER,
    kind: KINDS[item.kind],
    text: item.text,
    startsAt: timestampFromMs(item.startsAt),
    rrule: item.rrule,
    timeZone: item.timeZone,
    nextAt: item.nextAt === null ? undefined : timestampFromMs(item.nextAt),
    paused: item.pause !== null,
    pause: item.pause === null ? SchedulePause.UNSPECIFIED : PAUSES[item.pause],
    createdAt: timestampFromMs(item.createdAt),
    payload: item.payload,
  });
}

/** A host's spec as policy reads it: an unspecified (or unknown) kind and a missing start are undefined. */
export function askOf(spec: ScheduleSpec | undefined): ScheduleAsk {
  const kind = (Object.keys(KINDS) as ScheduleKindName[]).find((k) => KINDS[k] === spec?.kind);
  return {
    kind,
    text: spec?.text ?? "",
    startsAt: spec?.startsAt ? timestampMs(spec.startsAt) : undefined,
    rrule: spec?.rrule ?? "",
    timeZone: spec?.timeZone ?? "",
    payload: spec?.payload ?? new Uint8Array(),
  };
}
