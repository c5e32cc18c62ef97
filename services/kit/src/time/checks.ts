// What is refused of a time before anything is kept, each refusal one
// sentence the agent says in the conversation (and the schedules service
// names as its field over RPC): a zone no one has, a time already past, a
// rule more often than every 15 minutes, a rule that never comes. Pure.

import { describeWhen, dayWords } from "./describe.js";
import {
  fewestMinutesBetween,
  MIN_MINUTES_BETWEEN,
  nextOccurrences,
  ruleOptions,
  wallClock,
  type When,
} from "./rule.js";
import { knownZone } from "./zone.js";

/** Why a zone's name is refused, or undefined when it names a zone. */
export function zoneProblem(name: string): string | undefined {
  if (knownZone(name)) return undefined;
  const shown = name.trim().slice(0, 60);
  return `"${shown}" is not a time zone I know: name it as a place's zone, like Europe/Paris or America/New_York.`;
}

/** Why a time cannot be kept, in a sentence, or undefined when it can. */
export function whenProblem(when: When, now: number): string | undefined {
  const zone = zoneProblem(when.zone);
  if (zone) return zone;
  if (when.rrule.trim() === "") {
    if (when.startsAt > now) return undefined;
    const wall = wallClock(when.startsAt, when.zone);
    const at = `${dayWords(when.startsAt, now, when.zone)} at ${wall.hour}:${String(wall.minute).padStart(2, "0")}`;
    return `That time has passed (${at}, ${when.zone}): tell me a time still to come.`;
  }
  if (!ruleOptions(when.rrule)) return `I could not read how often that repeats ("${when.rrule.slice(0, 80)}").`;
  const fewest = fewestMinutesBetween(when);
  if (fewest !== undefined && fewest < MIN_MINUTES_BETWEEN) {
    return `That is more often than every ${MIN_MINUTES_BETWEEN} minutes, which is as often as I keep anything: say every ${MIN_MINUTES_BETWEEN} minutes or less often.`;
  }
  if (nextOccurrences(when, now, 1).length === 0) {
    return `That repeats with no time still to come (${describeWhen(when, now)}).`;
  }
  return undefined;
}
