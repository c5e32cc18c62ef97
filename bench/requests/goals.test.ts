// bench:requests' goals, held by npm test (docs/performance/requests.md):
// over the whole corpus, the offline planner does at least 95% of the
// requests without a question, and neither planner (the offline grammar, nor
// one that plans every value it sees) makes a non-request act or binds a
// wrong recipient or amount. The real reader, planner and binding; the
// corpus as labelled. The figures themselves are the benchmark's to print.
import { describe, expect, it } from "vitest";
import { loadCorpus } from "./corpus.js";
import { PLANNERS, run, type Planner } from "./planners.js";
import type { Scored } from "./report.js";
import { DONE_GOAL, misses, tally } from "./score.js";

const corpus = loadCorpus();
const scoredBy = (planner: Planner) => corpus.map((e) => run(e, planner));
const failing = (scored: readonly Scored[], goal: "done" | "acted" | "wrong") =>
  scored.filter((s) => misses(goal, s.score)).map((s) => `${s.id}: ${s.text}`);

describe.each(PLANNERS.map((p) => [p.name, p] as const))("%s", (_, planner) => {
  const scored = scoredBy(planner);

  it("makes no message that asks for nothing act", () => {
    expect(failing(scored, "acted")).toEqual([]);
  });

  it("binds no act to a recipient or an amount its message did not ask for", () => {
    expect(failing(scored, "wrong")).toEqual([]);
  });
});

describe("the offline planner", () => {
  it("does at least 95% of the requests without a question", () => {
    const scored = scoredBy(PLANNERS.find((p) => p.weighDone)!);
    const t = tally(scored.map((s) => s.score));
    expect(t.done / t.asking, failing(scored, "done").join("\n")).toBeGreaterThanOrEqual(DONE_GOAL);
  });
});
