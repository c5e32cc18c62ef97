// An agent's activity log (POST /api/pool/agents/{id}/activity/list, read
// whole with the owner's signature) as a table for people: one line per
// entry, amounts in ETH, outcomes in words; then what the pool's payment
// signer signed for its wallet (its ledger, docs/security.md "Agents' money").
import type {
  ActivityEntryJson as ActivityEntryRest,
  ActivityPageJson,
  SignedPaymentJson as SignedPaymentRest,
} from "@convos-pool/gateway/rest-json";
import { formatEther } from "viem";

/** An entry, a payment and a page as the gateway writes them (docs/rest.md); any field may be missing. */
export type ActivityEntryJson = Partial<ActivityEntryRest>;
export type SignedPaymentJson = Partial<SignedPaymentRest>;
export type ActivityPage = Partial<Omit<ActivityPageJson, "entries" | "signed_payments">> & {
  entries?: ActivityEntryJson[];
  signed_payments?: SignedPaymentJson[];
};

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

/** Rows under their headings, each column as wide as its widest cell; the last one is not padded. */
function table(headings: string[], rows: string[][]): string[] {
  const widths = headings.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join("  ");
  return [line(headings), ...rows.map(line)];
}

const SIGNED_HEADINGS = ["SIGNED", "TO", "AMOUNT (ETH)", "GAS AT MOST (ETH)", "TRANSACTION"];

/** The log's table, then the payment signer's ledger when the page brings it (the first, read whole). */
export function formatActivity(page: ActivityPage): string {
  const out = [activityTable(page)];
  const signed = page.signed_payments ?? [];
  if (signed.length > 0) {
    const rows = signed.map((p) => [
      time(p.signed_at),
      p.to ?? "",
      eth(p.value_wei),
      eth(p.max_fee_wei),
      p.transaction_hash ?? "",
    ]);
    out.push("", "Payments the pool signed for its wallet:", ...table(SIGNED_HEADINGS, rows));
  }
  return out.join("\n");
}

function activityTable(page: ActivityPage): string {
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
  const out = table(HEADINGS, rows);
  if (page.next_cursor) out.push("", `More: --cursor ${page.next_cursor}`);
  return out.join("\n");
}
