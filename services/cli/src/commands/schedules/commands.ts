// An agent's reminders, routines and scheduled acts (docs/cli.md,
// "Schedules"; docs/schedules.md): list them, pause, resume, cancel or move one.
// The owner's session sees every one; a member's names the conversation.
import type { ScheduleItemJson, SchedulesJson } from "@convos-pool/gateway/rest-json";
import { request, type Context } from "../../core/http.js";

const schedulesPath = (id: string, change = "") =>
  `/api/pool/agents/${encodeURIComponent(id)}/schedules${change ? `/${change}` : ""}`;

/** The items, soonest first: a table for people (command-line/views.ts), the JSON with `--json`. */
export async function listSchedules(ctx: Context, id: string, conversationId?: string): Promise<SchedulesJson> {
  const query = conversationId ? `?conversation_id=${encodeURIComponent(conversationId)}` : "";
  return (await request(ctx, "GET", `${schedulesPath(id)}${query}`, { auth: "session" })).body as SchedulesJson;
}

/** Pauses, resumes or cancels one item. */
export async function changeSchedule(
  ctx: Context,
  id: string,
  itemId: string,
  change: "pause" | "resume" | "cancel",
): Promise<ScheduleItemJson | { cancelled: true }> {
  const res =
    change === "cancel"
      ? await request(ctx, "DELETE", schedulesPath(id), { auth: "session", body: { id: itemId } })
      : await request(ctx, "POST", schedulesPath(id, change), { auth: "session", body: { id: itemId } });
  return res.body as ScheduleItemJson | { cancelled: true };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * What `schedules move` names after the item: "HH:MM", and a one-time
 * item's "YYYY-MM-DD" before or after it. Anything else goes whole as the
 * time, for the service to name (INVALID_ARGUMENT `time`).
 */
export function moveWhen(when: string): { time: string; date: string } {
  const words = when.trim().split(/\s+/);
  const day = words.length === 2 ? words.find((w) => DAY.test(w)) : undefined;
  const time = day === undefined ? undefined : words.find((w) => w !== day);
  return day !== undefined && time !== undefined ? { time, date: day } : { time: when.trim(), date: "" };
}

/** Moves one item to another local time in its zone (the owner's alone): the item as it is now. */
export async function moveSchedule(ctx: Context, id: string, itemId: string, when: string): Promise<ScheduleItemJson> {
  const body = { id: itemId, ...moveWhen(when) };
  return (await request(ctx, "POST", schedulesPath(id, "move"), { auth: "session", body })).body as ScheduleItemJson;
}
