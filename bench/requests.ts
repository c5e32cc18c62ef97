// Utility beside safety, on a corpus of owners' messages
// (docs/performance/requests.md): each message of bench/requests/*.jsonl
// read by the pool (readRequest), planned by two planners (the offline
// grammar, planByRule; and one that plans every value it sees, the worst a
// hijacked planner can propose), and held to the request by bindPlan with a
// fixed owner's address book and settings (bench/requests/book.ts). No model,
// no stack: the pool's pure reading, planning and binding. Prints the
// requests done without a question, the non-requests that act, and the acts
// bound to a wrong recipient or amount, by language and by category.
//
//   npm run bench:requests
//   BENCH_REQUESTS_ALL=1     list every entry that misses a goal (else 25 a list)
//   BENCH_REQUESTS_STRICT=1  exit 1 when a goal is missed (else the figures only)
import { execFileSync } from "node:child_process";
import { CONTACTS, SETTINGS } from "./requests/book.js";
import { LANGUAGES, loadCorpus } from "./requests/corpus.js";
import { PLANNERS, run } from "./requests/planners.js";
import { plannerLines } from "./requests/report.js";
import { goalsMissed, tally } from "./requests/score.js";

/** What the figures depend on: the reader, the planner, the binding, the values they read, and the corpus. */
const MEASURED = ["services/instance/src/tools/request", "services/instance/src/tools/values.ts", "bench/requests"];

/** The commit measured, and the measured files that differ from it. */
function revision(): string {
  const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" });
  try {
    // Porcelain lines are "XY path": the status, a space, the path.
    const dirty = git("--no-optional-locks", "status", "--porcelain", "--", ...MEASURED)
      .split("\n")
      .filter(Boolean)
      .map((line) => line.slice(3));
    return `${git("rev-parse", "--short", "HEAD").trim()}${dirty.length > 0 ? ` with uncommitted changes in ${dirty.join(", ")}` : ""}`;
  } catch {
    return "unknown (no git)";
  }
}

const corpus = loadCorpus();
const limit = process.env.BENCH_REQUESTS_ALL === "1" ? Number.POSITIVE_INFINITY : 25;
const started = performance.now();
const out = [
  `bench:requests at ${revision()}`,
  `corpus: ${corpus.length} messages (${LANGUAGES.map((l) => `${l} ${corpus.filter((e) => e.lang === l).length}`).join(", ")}), ${corpus.filter((e) => e.acts.length > 0).length} asking for acts; owner: ${Object.keys(CONTACTS).length} contacts, ${Object.keys(SETTINGS).length} settings`,
];
let missed = false;
for (const planner of PLANNERS) {
  const scored = corpus.map((e) => run(e, planner));
  out.push("", ...plannerLines(planner.name, scored, planner.weighDone, planner.detail ? limit : 0));
  if (goalsMissed(tally(scored.map((s) => s.score)), planner.weighDone).length > 0) missed = true;
}
out.push("", `${((performance.now() - started) / 1000).toFixed(1)} s`);
process.stdout.write(`${out.join("\n")}\n`);
if (missed && process.env.BENCH_REQUESTS_STRICT === "1") process.exitCode = 1;
