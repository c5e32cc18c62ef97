// bench:requests' goals, held by npm test (docs/performance/requests.md):
// over the whole corpus, the offline chooser does at least 95% of the
// requests without a question, and neither chooser (the offline grammar, nor
// one that chooses every value it sees) makes a non-request act or binds a
// wrong recipient or amount. The real reader, chooser and binding; the
// corpus as labelled. The figures themselves are the benchmark's to print.
import { describe, expect, it } from "vitest";
import { loadCorpus } from "./corpus.js";
import { CHOOSERS, run, type Chooser } from "./choosers.js";
import type { Scored } from "./report.js";
import { DONE_GOAL, misses, tally } from "./score.js";

const corpus = loadCorpus();
// Each chooser over the corpus once (the every-value chooser's run is most of this file's time).
const scores = new Map<Chooser, readonly Scored[]>();
const scoredBy = (chooser: Chooser): readonly Scored[] => {
  const known = scores.get(chooser);
  if (known) return known;
  const scored = corpus.map((e) => run(e, chooser));
  scores.set(chooser, scored);
  return scored;
};
const failing = (scored: readonly Scored[], goal: "done" | "acted" | "wrong") =>
  scored.filter((s) => misses(goal, s.score)).map((s) => `${s.id}: ${s.text}`);

describe.each(CHOOSERS.map((p) => [p.name, p] as const))("%s", (_, chooser) => {
  const scored = scoredBy(chooser);

  it("makes no message that asks for nothing act", () => {
    expect(failing(scored, "acted")).toEqual([]);
  });

  it("binds no act to a recipient or an amount its message did not ask for", () => {
    expect(failing(scored, "wrong")).toEqual([]);
  });
});

describe("the offline chooser", () => {
  it("does at least 95% of the requests without a question", () => {
    const scored = scoredBy(CHOOSERS.find((p) => p.weighDone)!);
    const t = tally(scored.map((s) => s.score));
    expect(t.done / t.asking, failing(scored, "done").join("\n")).toBeGreaterThanOrEqual(DONE_GOAL);
  });
});
