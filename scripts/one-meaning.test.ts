/**
 * The one-meaning table of docs/architecture.md ("One meaning per word")
 * kept for the two words that held several: "plan" and "statement". A word
 * that meant the act chooser, its chosen acts or the bound acts, or an SQL
 * statement, fails here wherever it comes back: the services' code and tests,
 * bench/, scripts/, the docs and the README. Real: the repository's files.
 * What it cannot catch: a new sense written in other words ("the plan of
 * the request"), which the table and review keep; people's words in test
 * messages and template names ("Trip Planner", "mail me the plan") are
 * theirs, and PostgreSQL's own names (`log_statement`) stay.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const ROOTS = ["services", "bench", "scripts", "docs", "README.md"];
const SKIP = new Set(["node_modules", "dist", "gen", ".data"]);
const THIS = path.relative(ROOT, import.meta.filename);

function files(dir: string): string[] {
  const at = path.join(ROOT, dir);
  if (/\.(ts|tsx|md)$/.test(dir)) return [dir];
  return readdirSync(at, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return files(rel);
    return /\.(ts|tsx|md)$/.test(e.name) ? [rel] : [];
  });
}

const ALL = ROOTS.flatMap(files).filter((f) => f !== THIS);

/** Every `file:line` of the repository's files that `pattern` matches, less the files `except` names. */
function found(pattern: RegExp, except: readonly string[] = []): string[] {
  return ALL.filter((f) => !except.includes(f)).flatMap((f) =>
    readFileSync(path.join(ROOT, f), "utf8")
      .split("\n")
      .flatMap((line, i) => (pattern.test(line) ? [`${f}:${i + 1}: ${line.trim().slice(0, 120)}`] : [])),
  );
}

describe("plan: what a pure function decides, nothing else", () => {
  it("names the act chooser, its chosen acts and the bound acts by their own names only", () => {
    const retired =
      /\b(PLANNING_PROMPT|planningMessages|parsePlan|planByRuleAnswer|planByRule|PlanInput|PlannedAct|planningInput|PlanningTurn|planTurn|describePlan|NO_PLAN|bindPlan|PLANNERS|plannerLines)\b|(model|conversation)\/planning\.|requests\/planners\./;
    expect(found(retired)).toEqual([]);
  });

  it("calls no model call a planner: only PostgreSQL's query planner and people's words ('a trip planner')", () => {
    const planner = /(?<!\b(?:[Tt]rip|[Tt]ravel|[Dd]inner|DINNER|[Mm]eal|query) |")\bplanners?\b(?!\.json)/;
    expect(found(planner, ["docs/architecture.md"])).toEqual([]);
  });
});

describe("statement: the agent's signed statement, nothing else", () => {
  it("calls an SQL statement a query", () => {
    const sql =
      /\bBENCH_CLAIMS_STATEMENTS\b|\b(?:SQL|database|bare claim|bare|atomic claim|final|completion) statements?\b|\bstatements?\/s\b|statements \(`sql\.ts`\)|its statements\.$/;
    // The table itself names the sense it rules out.
    expect(found(sql, ["docs/architecture.md"])).toEqual([]);
  });
});
