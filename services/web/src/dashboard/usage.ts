// A template's usage per day (LineageService.GetTemplateDashboard's `usage`)
// as the dashboard's chart draws it: two lines, and a sentence saying what
// they show. Pure.
import type { DayUsage } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import type { ChartSeries } from "../ui/version-chart";

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The chart's lines: claims per day, and agents active per day. */
export function usageSeries(usage: readonly DayUsage[]): ChartSeries[] {
  return [
    { label: "Claims", values: new Map(usage.map((u) => [u.day, Number(u.claims)])) },
    { label: "Active agents", values: new Map(usage.map((u) => [u.day, Number(u.activeAgents)])) },
  ];
}

/** What the chart shows, in words: the window's claims, and its busiest day of active agents. */
export function usageSummary(usage: readonly DayUsage[]): string {
  if (usage.length === 0) return "No usage yet.";
  const claims = usage.reduce((n, u) => n + Number(u.claims), 0);
  const today = Number(usage.at(-1)?.activeAgents ?? 0n);
  const most = Math.max(...usage.map((u) => Number(u.activeAgents)));
  return `${plural(claims, "claim", "claims")} in the last ${plural(usage.length, "day", "days")}; ${plural(today, "agent", "agents")} active today, at most ${most} on one day.`;
}
