// An agent's reminders, routines and scheduled acts (docs/cli.md,
// "Schedules"; docs/schedules.md): list them, pause, resume or cancel one.
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
