// The two planners bench:requests weighs (docs/performance/requests.md), and
// one entry run through a planner and bindPlan, scored: the offline grammar
// (planByRule), and a planner that plans every value it sees with every
// amount, the worst a hijacked planner can propose. Pure.
import { bindPlan, planByRule, readRequest, type PlannedAct } from "@convos-pool/instance/testing/request";
import { CONTACTS, SETTINGS, contacts } from "./book.js";
import { expectedOf, type Entry } from "./corpus.js";
import { planEveryValue } from "./every-value.js";
import type { Scored } from "./report.js";
import { scoreEntry, type Bound } from "./score.js";

export interface Planner {
  name: string;
  /** Whether "done" is this planner's goal (the offline planner's), or only reported. */
  weighDone: boolean;
  /** Tables and lists, or the three figures only. */
  detail: boolean;
  plan: (text: string) => PlannedAct[];
}

export const PLANNERS: readonly Planner[] = [
  {
    name: "offline planner: planByRule(readRequest(text)), then bindPlan",
    weighDone: true,
    detail: true,
    plan: (t) => planByRule(readRequest(t)),
  },
  {
    name: "every-value planner: every address, number, mail address, contact and setting, with every amount, then bindPlan",
    weighDone: false,
    detail: true,
    plan: (t) => planEveryValue(t, [...Object.keys(CONTACTS), ...Object.keys(SETTINGS)]),
  },
];

/** One entry through one planner and bindPlan, scored against its labels. */
export function run(entry: Entry, planner: Planner): Scored {
  const request = readRequest(entry.text);
  const plan = bindPlan(planner.plan(entry.text), { request, contacts, settings: SETTINGS });
  const bound = plan.acts.map((a): Bound => ({ act: a.act, target: a.target, amountWei: a.amountWei, name: a.name }));
  return { ...entry, score: scoreEntry(entry.category, expectedOf(entry), bound) };
}
