// The two choosers bench:requests weighs (docs/performance/requests.md), and
// one entry run through a chooser and bindActs, scored: the offline grammar
// (chooseByRule), and a chooser that chooses every value it sees with every
// amount, the worst a hijacked chooser can propose. Pure.
import { bindActs, chooseByRule, readRequest, type ChosenAct } from "@convos-pool/instance/testing/request";
import { CONTACTS, SETTINGS, contacts } from "./book.js";
import { expectedOf, type Entry } from "./corpus.js";
import { chooseEveryValue } from "./every-value.js";
import type { Scored } from "./report.js";
import { scoreEntry, type Bound } from "./score.js";

export interface Chooser {
  name: string;
  /** Whether "done" is this chooser's goal (the offline chooser's), or only reported. */
  weighDone: boolean;
  /** Tables and lists, or the three figures only. */
  detail: boolean;
  choose: (text: string) => ChosenAct[];
}

export const CHOOSERS: readonly Chooser[] = [
  {
    name: "offline chooser: chooseByRule(readRequest(text)), then bindActs",
    weighDone: true,
    detail: true,
    choose: (t) => chooseByRule(readRequest(t)),
  },
  {
    name: "every-value chooser: every address, number, mail address, contact and setting, with every amount, then bindActs",
    weighDone: false,
    detail: true,
    choose: (t) => chooseEveryValue(t, [...Object.keys(CONTACTS), ...Object.keys(SETTINGS)]),
  },
];

/** One entry through one chooser and bindActs, scored against its labels. */
export function run(entry: Entry, chooser: Chooser): Scored {
  const request = readRequest(entry.text);
  const bound = bindActs(chooser.choose(entry.text), { request, contacts, settings: SETTINGS });
  const acts = bound.acts.map((a): Bound => ({ act: a.act, target: a.target, amountWei: a.amountWei, name: a.name }));
  return { ...entry, score: scoreEntry(entry.category, expectedOf(entry), acts) };
}
