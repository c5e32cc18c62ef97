// The creator's usage over time (docs/web.md, "The dashboard"): claims and
// active agents per day, from the lineage the pool records
// (LineageService.GetTemplateDashboard's `usage`), drawn by ui/version-chart.tsx.
import type { DayUsage } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { usageSeries, usageSummary } from "./usage";
import { VersionChart } from "../ui/version-chart";

export function UsageChart({ usage }: { usage: readonly DayUsage[] }) {
  return (
    <section aria-labelledby="usage-heading" data-testid="usage">
      <h2 id="usage-heading">Usage over time</h2>
      <VersionChart
        title="Claims and active agents"
        unit="agents"
        series={usageSeries(usage)}
        summary={usageSummary(usage)}
      />
    </section>
  );
}
