// What bench:requests prints (docs/performance/requests.md): for one
// chooser, the three figures against their goals, by language and by
// category, then the entries that miss each goal. Pure: lines in, lines out.
import { formatEther } from "viem";
import { DONE_GOAL, misses, tally, type Bound, type EntryScore, type Goal, type Tally } from "./score.js";

/** An entry as scored for one chooser. */
export interface Scored {
  id: string;
  lang: string;
  category: string;
  text: string;
  score: EntryScore;
}

const pct = (n: number, of: number) => (of === 0 ? "-" : `${((100 * n) / of).toFixed(1)}%`);
const ratio = (n: number, of: number) => `${n}/${of} ${pct(n, of)}`.padEnd(16);

/** Addresses as 0x1234…abcd, lines joined: a message on one short line. */
export function cut(text: string, width = 72): string {
  const one = text.replace(/0x([0-9a-fA-F]{4})[0-9a-fA-F]{32}([0-9a-fA-F]{4})/g, "0x$1…$2").replace(/\n/g, " ⏎ ");
  return one.length > width ? `${one.slice(0, width - 1)}…` : one;
}

/** An act as the report names it: "pay Ana 0.01 ETH", "text +15550100144". */
export function describe(a: Bound): string {
  const to = a.name ?? cut(a.target);
  return a.act === "pay" ? `pay ${to} ${formatEther(a.amountWei)} ETH` : `${a.act} ${to}`;
}

function row(label: string, t: Tally): string {
  return `    ${label.padEnd(12)}${String(t.entries).padStart(4)}   ${ratio(t.done, t.asking)}${ratio(t.acted, t.nonRequests)}${ratio(t.wrong, t.entries)}`.trimEnd();
}

function groups(scored: readonly Scored[], by: "lang" | "category"): string[] {
  const keys = [...new Set(scored.map((s) => s[by]))];
  return keys.map((k) => row(k, tally(scored.filter((s) => s[by] === k).map((s) => s.score))));
}

const GOAL_NAMES: Readonly<Record<Goal, string>> = {
  done: "requests not done without a question",
  acted: "non-requests that acted",
  wrong: "wrong recipient or amount (beyond the non-requests above)",
};

function why(goal: Goal, s: EntryScore): string {
  const extra = s.surplus.map(describe);
  const missing = s.missing.map(describe);
  if (goal === "done")
    return [missing.length > 0 && `missing ${missing.join(", ")}`, extra.length > 0 && `extra ${extra.join(", ")}`]
      .filter(Boolean)
      .join("; ");
  return extra.join(", ");
}

/** One chooser's figures and misses; at most `limit` entries a list (0: the three figures only). */
export function chooserLines(name: string, scored: readonly Scored[], weighDone: boolean, limit: number): string[] {
  const t = tally(scored.map((s) => s.score));
  const mark = (missed: boolean) => (missed ? "MISSED" : "met");
  const doneMissed = t.asking > 0 && t.done / t.asking < DONE_GOAL;
  const lines = [
    name,
    `  requests done without a question:  ${ratio(t.done, t.asking)} goal ≥ ${DONE_GOAL * 100}%${weighDone ? `  ${mark(doneMissed)}` : " (the offline chooser's; reported)"}`,
    `  non-requests that act:             ${ratio(t.acted, t.nonRequests)} goal 0  ${mark(t.acted > 0)}`,
    `  wrong recipient or amount:         ${ratio(t.wrong, t.entries)} goal 0  ${mark(t.wrong > 0)}`,
  ];
  if (limit === 0) return lines;
  lines.push(
    `    ${"".padEnd(12)}${"n".padStart(4)}   ${"done".padEnd(16)}${"acted".padEnd(16)}wrong`,
    "  by language",
    ...groups(scored, "lang"),
    "  by category",
    ...groups(scored, "category"),
  );
  const listed = new Set<string>();
  for (const goal of ["done", "acted", "wrong"] as const) {
    const missed = scored.filter((s) => misses(goal, s.score) && !(goal === "wrong" && listed.has(s.id)));
    if (goal === "acted") for (const s of missed) listed.add(s.id);
    if (missed.length === 0) continue;
    lines.push(`  ${GOAL_NAMES[goal]}: ${missed.length}`);
    for (const s of missed.slice(0, limit))
      lines.push(`    ${s.id.padEnd(18)} ${JSON.stringify(cut(s.text))}: ${why(goal, s.score)}`);
    if (missed.length > limit) lines.push(`    … and ${missed.length - limit} more (BENCH_REQUESTS_ALL=1 lists all)`);
  }
  return lines;
}
