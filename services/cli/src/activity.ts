// An agent's activity log (POST /api/pool/agents/{id}/activity/list, read
// whole with the owner's signature) as a table for people: one line per
// entry, amounts in ETH, outcomes in words.
import { formatEther } from "viem";

/** One entry as the gateway sends it (docs/rest.md). */
export interface ActivityEntryJson {
  id?: string;
  at?: string | null;
  tool_id?: string;
  action?: string;
  target?: string;
  amount_wei?: string;
  outcome?: string;
  detail?: string;
  trust_level?: string;
  approved?: boolean;
}

export interface ActivityPage {
  entries?: ActivityEntryJson[];
  next_cursor?: string | null;
}

const OUTCOMES: Record<string, string> = {
  done: "done",
  failed: "failed",
  refused: "refused",
  denied: "denied by you",
  timed_out: "no answer in time",
};

const HEADINGS = ["TIME", "TOOL", "ACTION", "TARGET", "AMOUNT (ETH)", "OUTCOME", "DETAIL", "LEVEL", "APPROVED"];

/** "2026-11-23 09:30:00Z": the UTC time to the second. */
function time(at: string | null | undefined): string {
  if (!at) return "—";
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : `${d.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

function eth(wei: string | undefined): string {
  if (!wei) return "";
  return /^\d+$/.test(wei) ? formatEther(BigInt(wei)) : wei;
}

/** Columns padded to their widest cell; the last one (approved) is short, so nothing trails. */
export function formatActivity(page: ActivityPage): string {
  const entries = page.entries ?? [];
  if (entries.length === 0) return "No activity yet.";
  const rows = entries.map((e) => [
    time(e.at),
    e.tool_id ?? "",
    e.action ?? "",
    e.target ?? "",
    eth(e.amount_wei),
    OUTCOMES[e.outcome ?? ""] ?? e.outcome ?? "",
    // One line per entry: a detail never breaks the table.
    (e.detail ?? "").replace(/\s+/g, " "),
    e.trust_level ?? "",
    e.approved ? "yes" : "no",
  ]);
  // Each column as wide as its widest cell; the last one is not padded.
  const widths = HEADINGS.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join("  ");
  const out = [line(HEADINGS), ...rows.map(line)];
  if (page.next_cursor) out.push("", `More: --cursor ${page.next_cursor}`);
  return out.join("\n");
}
