// A template's versions side by side from the command line (docs/cli.md,
// "Version signals"; docs/signals.md): GET /api/pool/templates/{id}/signals
// as a table for people, one column per version, each figure per 100
// answers over the days its figures were shown. The creator's own agents
// come apart, under their own heading; where a version showed nothing the
// table says "below the threshold", never a zero.
import { request, type Context } from "../../core/http.js";

/** Figures as the gateway sends them (docs/rest.md, "Version signals"). */
interface FiguresJson {
  people?: number;
  thumbs_up?: number;
  thumbs_down?: number;
  corrections?: number;
  forget_requests?: number;
  approvals_asked?: number;
  approvals_declined?: number;
  tool_calls_failed?: number;
  pauses?: number;
  stop_requests?: number;
  pinned?: number;
}

interface LifecycleJson {
  claimed?: number;
  shown?: boolean;
  removed_within_1_day?: number;
  removed_within_7_days?: number;
  clones?: number;
}

export interface VersionJson {
  version?: string;
  days_ran?: number;
  days_shown?: number;
  answers?: number;
  per_100_answers?: FiguresJson | null;
  lifecycle?: LifecycleJson | null;
}

export interface ComparisonJson {
  versions?: VersionJson[];
  own_versions?: VersionJson[];
  min_conversations?: number;
}

const RATES: [keyof FiguresJson, string][] = [
  ["people", "people"],
  ["thumbs_up", "👍"],
  ["thumbs_down", "👎"],
  ["corrections", "corrections"],
  ["forget_requests", "forget requests"],
  ["approvals_asked", "approvals asked"],
  ["approvals_declined", "approvals declined"],
  ["tool_calls_failed", "tool calls failed"],
  ["pauses", "paused by their owner"],
  ["stop_requests", "stopped while thinking"],
];
const BELOW = "below the threshold";
const NOT_RECORDED = "not recorded yet";

const rate = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function lifecycleRows(versions: readonly VersionJson[]): string[][] {
  const cell = (v: VersionJson, key: "removed_within_1_day" | "removed_within_7_days" | "clones") => {
    const l = v.lifecycle;
    if (!l) return NOT_RECORDED;
    if (!l.shown) return `${BELOW} (${l.claimed ?? 0} claimed)`;
    return String(l[key] ?? 0);
  };
  return [
    ["claimed", ...versions.map((v) => (v.lifecycle ? String(v.lifecycle.claimed ?? 0) : NOT_RECORDED))],
    ["removed within 1 day", ...versions.map((v) => cell(v, "removed_within_1_day"))],
    ["removed within 7 days", ...versions.map((v) => cell(v, "removed_within_7_days"))],
    ["clones", ...versions.map((v) => cell(v, "clones"))],
  ];
}

/** One table: a column per version, a row per figure. */
function table(versions: readonly VersionJson[], withLifecycle: boolean): string {
  const figure = (v: VersionJson, f: keyof FiguresJson) => {
    const p = v.per_100_answers;
    return p ? rate(p[f] ?? 0) : BELOW;
  };
  const rows: string[][] = [
    ["", ...versions.map((v) => `v${v.version ?? "?"}`)],
    ["days shown / ran", ...versions.map((v) => `${v.days_shown ?? 0} / ${v.days_ran ?? 0}`)],
    ["answers (days shown)", ...versions.map((v) => (v.days_shown ? rate(v.answers ?? 0) : BELOW))],
    ...RATES.map(([f, label]) => [`${label} per 100 answers`, ...versions.map((v) => figure(v, f))]),
    [
      "pinned (share of owners)",
      ...versions.map((v) => (v.per_100_answers ? `${Math.round((v.per_100_answers.pinned ?? 0) * 100)}%` : BELOW)),
    ],
    ...(withLifecycle ? lifecycleRows(versions) : []),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? "")].length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - [...c].length)))
        .join("   ")
        .trimEnd(),
    )
    .join("\n");
}

/** The comparison as text: others' agents, then (for the creator) their own apart. */
export function formatComparison(c: ComparisonJson): string {
  const versions = c.versions ?? [];
  if (versions.length === 0) return "No version of this template reported in the last 30 days.";
  const min = c.min_conversations ?? 5;
  const own = c.own_versions ?? [];
  const out = [
    `Figures per 100 answers over the days each version's figures were shown: a day shows figures only when agents in at least ${min} conversations reported it, and an owner counts once.`,
    "",
    // The creator reads their own apart; an owner reads everyone's but the creator's, theirs among them.
    own.length > 0 ? "Other people's agents" : "Everyone's agents but the creator's",
    table(versions, true),
  ];
  if (own.length > 0) out.push("", "Your own agents (never in the figures others see)", table(own, true));
  return out.join("\n");
}

/** A template's versions side by side, signed in (its creator, or an owner of one of its live agents). */
export async function compareVersions(
  ctx: Context,
  templateId: string,
  versions: readonly string[] | undefined,
): Promise<string> {
  const reply = await request(ctx, "GET", `/api/pool/templates/${encodeURIComponent(templateId)}/signals`, {
    auth: "session",
    query: { versions: versions?.join(",") },
  });
  return formatComparison(reply.body as ComparisonJson);
}
