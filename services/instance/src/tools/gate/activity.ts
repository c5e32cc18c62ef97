// The agent's activity log: one line per tool call (and per change of its
// trust level), kept in its workspace (activity.jsonl) and read by its owner
// through the pool (ListAgentActivity). Who, what and how it ended; never a
// secret, never the body of a text or a mail (docs/trust.md). Who asked is
// kept for its owner's eyes only: the pool passes the log to the owner alone.

import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { ToolCallOutcome } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Role } from "../../platform/roles.js";
import type { Workspace } from "../../platform/workspace.js";

export const ACTIVITY_FILE = "activity.jsonl";
/** Lines kept; older ones are dropped when the log is rewritten. */
const MAX_ENTRIES = 5_000;

export interface Activity {
  id: string;
  at: string;
  toolId: string;
  action: string;
  target: string;
  amountWei: string;
  outcome: ToolCallOutcome;
  detail: string;
  trustLevel: TrustLevel;
  approved: boolean;
  /** Who asked for a tool call: their inbox id (an outsider's number), role and name then; absent for a change of level. */
  askedBy?: string;
  askedByRole?: Role;
  askedByName?: string;
  /** The conversation the call was asked in (its XMTP group id); absent for a change of level. */
  conversationId?: string;
}

export type NewActivity = Omit<Activity, "id" | "at" | "amountWei" | "approved" | "target" | "detail"> &
  Partial<Pick<Activity, "amountWei" | "approved" | "target" | "detail">>;

export class ActivityLog {
  private constructor(
    private readonly ws: Workspace,
    private entries: Activity[],
  ) {}

  static async open(ws: Workspace): Promise<ActivityLog> {
    let text = "";
    try {
      text = await readFile(ws.path(ACTIVITY_FILE), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const entries: Activity[] = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line) as Activity);
      } catch {
        // A line cut short by a crash: skipped.
      }
    }
    return new ActivityLog(ws, entries);
  }

  async record(a: NewActivity, now = new Date()): Promise<Activity> {
    const entry: Activity = {
      id: randomUUID(),
      at: now.toISOString(),
      target: "",
      amountWei: "",
      detail: "",
      approved: false,
      ...a,
    };
    this.entries.push(entry);
    if (this.entries.length > MAX_ENTRIES) {
      this.entries = this.entries.slice(-Math.floor(MAX_ENTRIES * 0.8));
      await this.ws.writeText(ACTIVITY_FILE, this.entries.map((e) => `${JSON.stringify(e)}\n`).join(""));
    } else {
      await this.ws.append(ACTIVITY_FILE, `${JSON.stringify(entry)}\n`);
    }
    return entry;
  }

  /** Newest first; `before` is the id of the last entry of the previous page. */
  list(limit: number, before?: string): { entries: Activity[]; next?: string } {
    let end = this.entries.length;
    if (before) {
      const i = this.entries.findIndex((e) => e.id === before);
      end = Math.max(0, i);
    }
    const start = Math.max(0, end - limit);
    const entries = this.entries.slice(start, end).reverse();
    const last = entries.at(-1);
    return start > 0 && last ? { entries, next: last.id } : { entries };
  }

  /** A new claim starts a new log. */
  async clear(): Promise<void> {
    this.entries = [];
    await this.ws.remove(ACTIVITY_FILE);
  }
}
