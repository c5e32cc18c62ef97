// Days with others, the pure part (docs/signals.md, "Days with others"): on
// which UTC days an agent answered at least two people besides its owner,
// judged from its own signed day counts. What leans on it: an owner's
// rating (docs/store.md, "Ratings", through OwnerActivityService) and an
// offer's weight in the pattern quorum (docs/patterns.md, "The quorum").
// sql.ts says the same in SQL; its tests hold the two to one answer. No
// database here, and not the thresholds of what leans on it (three days
// for a rating, PATTERN_QUORUM_ACTIVE_DAYS for the quorum).

/** People besides its owner that an agent answers on a day with others. */
export const OTHER_PEOPLE = 2;
/**
 * `people`, as the agent counts it, is everyone whose text it took in that
 * day, its owner too when the owner wrote (instance agent/state/signals.ts,
 * called from conversation/carry-out.ts), and the counts never say whether
 * the owner was one. So a day needs one more than OTHER_PEOPLE: two others
 * spoke to it whether or not its owner did.
 */
export const MIN_PEOPLE = OTHER_PEOPLE + 1;
/** Answers the agent gave that day: at least one for each of the others. */
export const MIN_ANSWERS = OTHER_PEOPLE;

/** One stored row of counts: one agent, one UTC day, one version (version_signals). */
export interface CountedDay {
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  answers: number;
  people: number;
}

/**
 * Whether one agent's rows of one day (one per version it ran that day) make
 * a day with others. Answers add up across versions; people do not (one
 * person who spoke before and after an update is in both rows), so the most
 * of one row is what the day is sure to have had.
 */
export function answeredOthers(rows: readonly CountedDay[]): boolean {
  const answers = rows.reduce((sum, r) => sum + r.answers, 0);
  const people = rows.reduce((most, r) => Math.max(most, r.people), 0);
  return people >= MIN_PEOPLE && answers >= MIN_ANSWERS;
}

/** One agent's days with others, counting only days from `fromDay` (YYYY-MM-DD, included) when given. */
export function daysAnsweringOthers(rows: readonly CountedDay[], fromDay?: string): number {
  const byDay = new Map<string, CountedDay[]>();
  for (const r of rows) {
    if (fromDay !== undefined && r.day < fromDay) continue;
    byDay.set(r.day, [...(byDay.get(r.day) ?? []), r]);
  }
  let days = 0;
  for (const day of byDay.values()) if (answeredOthers(day)) days++;
  return days;
}

/** One agent of an owner, with the first day whose counts are that owner's and the agent's rows. */
export interface OwnedAgent {
  /**
   * The first UTC day whose counts are its present owner's: the day of its
   * claim, or the day after its transfer to them (a transfer's day is the
   * giver's, so one agent's days never vouch for two owners).
   */
  ownerFromDay: string;
  rows: readonly CountedDay[];
}

/**
 * What OwnerActivityService answers of an owner and a template: the most
 * days with others of any one of their agents of it, while theirs. Agents
 * are not added together: two agents used on alternate days are not one
 * agent used every day.
 */
export function ownerDaysAnsweringOthers(agents: readonly OwnedAgent[]): number {
  return agents.reduce((most, a) => Math.max(most, daysAnsweringOthers(a.rows, a.ownerFromDay)), 0);
}
