// Utility beside safety, on a corpus of owners' messages
// (docs/performance/requests.md): each message of bench/requests/*.jsonl
// read by the pool (readRequest), its acts chosen by two choosers (the offline
// grammar, chooseByRule; and one that chooses every value it sees, the worst a
// hijacked chooser can propose), and held to the request by bindActs with a
// fixed owner's address book and settings (bench/requests/book.ts). No model,
// no stack: the pool's pure reading, choosing and binding. Prints the
// requests done without a question, the non-requests that act, and the acts
// bound to a wrong recipient or amount, by language and by category. Then
// the same for a held-out corpus (bench/requests/held-out/*.jsonl), written
// without looking at the reader, which was tuned on the first: its figures
// are the reader's on messages it has not seen, reported and never held to
// the goals.
//
//   npm run bench:requests
//   BENCH_REQUESTS_ALL=1     list every entry that misses a goal (else 25 a list)
//   BENCH_REQUESTS_STRICT=1  exit 1 when a goal is missed on the corpus (else the figures only)
import { execFileSync } from "node:child_process";
import { CONTACTS, SETTINGS } from "./requests/book.js";
import { LANGUAGES, loadCorpus, type Entry } from "./requests/corpus.js";
import { CHOOSERS, run } from "./requests/choosers.js";
import { chooserLines } from "./requests/report.js";
import { goalsMissed, tally } from "./requests/score.js";

/** What the figures depend on: the reader, the chooser, the binding, the values they read, and the corpus. */
const MEASURED = [
  "services/instance/src/tools/request",
  "services/instance/src/tools/trust/values.ts",
  "bench/requests",
];

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

/** "460 messages (en 184, …), 240 asking for acts". */
function size(entries: readonly Entry[]): string {
  const langs = LANGUAGES.map((l) => `${l} ${entries.filter((e) => e.lang === l).length}`).join(", ");
  return `${entries.length} messages (${langs}), ${entries.filter((e) => e.acts.length > 0).length} asking for acts`;
}

const corpus = loadCorpus();
const heldOut = loadCorpus(new URL("requests/held-out/", import.meta.url));
const limit = process.env.BENCH_REQUESTS_ALL === "1" ? Number.POSITIVE_INFINITY : 25;
const started = performance.now();
const out = [
  `bench:requests at ${revision()}`,
  `corpus: ${size(corpus)}; owner: ${Object.keys(CONTACTS).length} contacts, ${Object.keys(SETTINGS).length} settings`,
];
let missed = false;
for (const chooser of CHOOSERS) {
  const scored = corpus.map((e) => run(e, chooser));
  out.push("", ...chooserLines(chooser.name, scored, chooser.weighDone, chooser.detail ? limit : 0));
  if (goalsMissed(tally(scored.map((s) => s.score)), chooser.weighDone).length > 0) missed = true;
}
// The reader was tuned on the corpus above; these messages it has not seen. Reported, never a gate.
out.push(
  "",
  "=".repeat(72),
  `held out (written without looking at the reader): ${size(heldOut)}; not held to the goals`,
);
for (const chooser of CHOOSERS) {
  const scored = heldOut.map((e) => run(e, chooser));
  out.push("", ...chooserLines(`held out, ${chooser.name}`, scored, chooser.weighDone, chooser.detail ? limit : 0));
}
out.push("", `${((performance.now() - started) / 1000).toFixed(1)} s`);
process.stdout.write(`${out.join("\n")}\n`);
if (missed && process.env.BENCH_REQUESTS_STRICT === "1") process.exitCode = 1;
