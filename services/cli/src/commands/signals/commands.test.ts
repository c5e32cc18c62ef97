// `pool signals`'s table (commands.ts), in memory: a column per
// version, "below the threshold" where nothing is shown, the lifecycle or
// "not recorded yet", the creator's own agents apart.
import { describe, expect, it } from "vitest";
import { formatComparison } from "./commands.js";

const FIGURES = {
  answers: 100,
  people: 20,
  thumbs_up: 12.5,
  thumbs_down: 2,
  corrections: 4,
  forget_requests: 0,
  approvals_asked: 1,
  approvals_declined: 0,
  tool_calls_failed: 3,
  pauses: 0.5,
  stop_requests: 1.5,
  pinned: 0.25,
};

describe("pool signals' table", () => {
  it("puts versions side by side, says where a version is below the threshold, and gives the lifecycle when recorded", () => {
    const text = formatComparison({
      min_conversations: 5,
      versions: [
        { version: "6", days_ran: 3, days_shown: 2, answers: 240, per_100_answers: FIGURES, lifecycle: null },
        {
          version: "7",
          days_ran: 1,
          days_shown: 0,
          answers: 0,
          per_100_answers: null,
          lifecycle: { claimed: 6, shown: true, removed_within_1_day: 1, removed_within_7_days: 2, clones: 3 },
        },
      ],
      own_versions: [
        { version: "6", days_ran: 0, days_shown: 0, answers: 0, per_100_answers: null, lifecycle: null },
        { version: "7", days_ran: 1, days_shown: 1, answers: 10, per_100_answers: FIGURES, lifecycle: null },
      ],
    });
    const [others, own] = text.split("Your own agents");
    expect(others).toContain("Other people's agents");
    expect(text).toContain("agents in at least 5 conversations");
    expect(others).toMatch(/^\s+v6\s+v7$/m);
    expect(others).toMatch(/^days shown \/ ran\s+2 \/ 3\s+0 \/ 1$/m);
    expect(others).toMatch(/^answers \(days shown\)\s+240\s+below the threshold$/m);
    expect(others).toMatch(/^👍 per 100 answers\s+12\.5\s+below the threshold$/m);
    expect(others).toMatch(/^pinned \(share of owners\)\s+25%\s+below the threshold$/m);
    expect(others).toMatch(/^removed within 7 days\s+not recorded yet\s+2$/m);
    expect(others).toMatch(/^clones\s+not recorded yet\s+3$/m);
    expect(own).toMatch(/^tool calls failed per 100 answers\s+below the threshold\s+3$/m);
    expect(others).toMatch(/^paused by their owner per 100 answers\s+0\.5\s+below the threshold$/m);
    expect(others).toMatch(/^stopped while thinking per 100 answers\s+1\.5\s+below the threshold$/m);
  });

  it("gives an owner no heading of the creator's own, names whose agents an owner reads, and says when nothing reported", () => {
    const owners = formatComparison({ versions: [{ version: "7", days_ran: 1 }], own_versions: [] });
    expect(owners).not.toContain("Your own agents");
    expect(owners).toContain("Everyone's agents but the creator's");
    expect(owners).not.toContain("Other people's agents");
    expect(formatComparison({ versions: [] })).toBe("No version of this template reported in the last 30 days.");
  });
});
