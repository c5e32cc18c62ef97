// The REST paths of an agent's reminders, routines and scheduled acts
// (docs/rest.md, "Schedules"; docs/schedules.md): GET lists them (the
// conversation named in the query, required of a member), POST .../pause and
// .../resume and DELETE change one named by `id` in the body, POST .../move
// moves one to `time` (and a one-time one to `date`). Each is a
// ScheduleService RPC on the claims service, as on the Connect face, which
// judges every field; items are made in conversation, never here.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ScheduleAskerRole,
  type ScheduleItem,
  ScheduleKind,
  SchedulePause,
} from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { AGENT_ERRORS } from "../core/errors.js";
import { forwarderOf, query, type Handler, type Route } from "../core/request.js";

/** One item as REST shows it; its payload (the agent's own) is not shown. */
export interface ScheduleItemJson {
  id: string;
  instance_id: string;
  conversation_id: string;
  asked_by_inbox_id: string;
  /** `template`: the agent asked for it itself, keeping its template's routine. */
  asked_by_role: "owner" | "member" | "template" | null;
  kind: "reminder" | "routine" | "act" | null;
  text: string;
  /** RFC 3339. */
  starts_at: string | null;
  /** An RFC 5545 RRULE value; "" once. */
  rrule: string;
  time_zone: string;
  /** RFC 3339; null once nothing is left to come. */
  next_at: string | null;
  paused: boolean;
  /** Why it is paused; null while it is not. */
  pause: "asked" | "released" | "transferred" | "left" | null;
  created_at: string | null;
}

/** GET /api/pool/agents/{id}/schedules: the items, soonest first. */
export interface SchedulesJson {
  items: ScheduleItemJson[];
}

const KINDS = {
  [ScheduleKind.REMINDER]: "reminder",
  [ScheduleKind.ROUTINE]: "routine",
  [ScheduleKind.ACT]: "act",
} as const;
const ROLES = {
  [ScheduleAskerRole.OWNER]: "owner",
  [ScheduleAskerRole.MEMBER]: "member",
  [ScheduleAskerRole.TEMPLATE]: "template",
} as const;
const PAUSES = {
  [SchedulePause.ASKED]: "asked",
  [SchedulePause.RELEASED]: "released",
  [SchedulePause.TRANSFERRED]: "transferred",
  [SchedulePause.LEFT]: "left",
} as const;

const time = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : null);
const named = <K extends number, V>(table: Partial<Record<K, V>>, key: K): V | null => table[key] ?? null;

export function scheduleItemToJson(i: ScheduleItem): ScheduleItemJson {
  return {
    id: i.id,
    instance_id: i.instanceId,
    conversation_id: i.conversationId,
    asked_by_inbox_id: i.askedByInboxId,
    asked_by_role: named<ScheduleAskerRole, ScheduleItemJson["asked_by_role"]>(ROLES, i.askedByRole),
    kind: named<ScheduleKind, ScheduleItemJson["kind"]>(KINDS, i.kind),
    text: i.text,
    starts_at: time(i.startsAt),
    rrule: i.rrule,
    time_zone: i.timeZone,
    next_at: time(i.nextAt),
    paused: i.paused,
    pause: named<SchedulePause, ScheduleItemJson["pause"]>(PAUSES, i.pause),
    created_at: time(i.createdAt),
  };
}

const listSchedules: Handler = async (r, deps) => {
  const schedules = forwarderOf(deps, "schedules");
  const q = query(r, ["conversation_id"]);
  const res = await schedules.listSchedules(
    { instanceId: r.id, conversationId: q.get("conversation_id") ?? "" },
    r.call,
  );
  const body: SchedulesJson = { items: res.items.map(scheduleItemToJson) };
  return { status: 200, body };
};

/** The item a change names: `id` in the body, left for the service to judge when it is missing. */
async function itemId(r: Parameters<Handler>[0]): Promise<string> {
  query(r, []);
  const body = await r.body(["id"]);
  return body.string("id", "");
}

const pauseSchedule: Handler = async (r, deps) => {
  const schedules = forwarderOf(deps, "schedules");
  const res = await schedules.pauseSchedule({ instanceId: r.id, id: await itemId(r) }, r.call);
  return { status: 200, body: res.item ? scheduleItemToJson(res.item) : null };
};

const resumeSchedule: Handler = async (r, deps) => {
  const schedules = forwarderOf(deps, "schedules");
  const res = await schedules.resumeSchedule({ instanceId: r.id, id: await itemId(r) }, r.call);
  return { status: 200, body: res.item ? scheduleItemToJson(res.item) : null };
};

const cancelSchedule: Handler = async (r, deps) => {
  const schedules = forwarderOf(deps, "schedules");
  await schedules.cancelSchedule({ instanceId: r.id, id: await itemId(r) }, r.call);
  return { status: 200, body: { cancelled: true } };
};

const moveSchedule: Handler = async (r, deps) => {
  const schedules = forwarderOf(deps, "schedules");
  query(r, []);
  const body = await r.body(["id", "time", "date"]);
  const res = await schedules.moveSchedule(
    { instanceId: r.id, id: body.string("id", ""), time: body.string("time", ""), date: body.string("date", "") },
    r.call,
  );
  return { status: 200, body: res.item ? scheduleItemToJson(res.item) : null };
};

export const SCHEDULE_ROUTES: Route[] = [
  ["GET", "/agents/:id/schedules", listSchedules, AGENT_ERRORS],
  ["POST", "/agents/:id/schedules/pause", pauseSchedule, AGENT_ERRORS],
  ["POST", "/agents/:id/schedules/resume", resumeSchedule, AGENT_ERRORS],
  ["POST", "/agents/:id/schedules/move", moveSchedule, AGENT_ERRORS],
  ["DELETE", "/agents/:id/schedules", cancelSchedule, AGENT_ERRORS],
];
