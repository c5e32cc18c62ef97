// Versions side by side (docs/signals.md, "Comparing versions"): each
// version's figures per 100 answers, over the days its figures were shown.
// Pure: the days of figures.ts in, the comparison out, so the rules
// there hold here too (a day below MIN_CONVERSATIONS shows nothing, an owner
// counts once, the creator's own agents apart).
//
// - A day below the threshold contributes nothing to a version's figures:
//   neither its answers nor its counts.
// - Per 100 answers: a figure's sum over the days shown, divided by the
//   answers of those days, times 100. No answers, no rate: absent, never a
//   division by zero. `pinned` is a share of owners, not a count: it is the
//   average of the days' shares.
// - Versions come in the order asked; asked for none, the two newest that
//   reported, older first.
import { FIGURES, compareVersions, type Figures, type VersionDay } from "./figures.js";

/** The versions compared when none are asked for. */
export const DEFAULT_COMPARED = 2;
/** At most this many versions side by side. */
export const MAX_COMPARED = 6;

export interface DayRates {
  day: string;
  agents: number;
  owners: number;
  shown: boolean;
  /** The day's answers (0 when not shown). */
  answers: number;
  /** Absent unless shown with answers. */
  per100?: Figures;
}

export interface VersionRates {
  version: string;
  daysRan: number;
  daysShown: number;
  /** Answers over the days shown. */
  answers: number;
  /** Absent when no day was shown, or the days shown had no answers. */
  per100?: Figures;
  /** Oldest first. */
  days: DayRates[];
}

/** The two newest versions among `days` (older first), for a comparison asked for none. */
export function defaultVersions(days: readonly VersionDay[]): string[] {
  const versions = [...new Set(days.map((d) => d.version))].sort(compareVersions);
  return versions.slice(-DEFAULT_COMPARED);
}

/** Each of `versions`, in that order, from `days` (one kind of agents: others' or the creator's own). */
export function compareVersionDays(days: readonly VersionDay[], versions: readonly string[]): VersionRates[] {
  return versions.map((version) =>
    versionRates(
      version,
      days.filter((d) => d.version === version),
    ),
  );
}

function versionRates(version: string, days: readonly VersionDay[]): VersionRates {
  const oldestFirst = [...days].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  const shown = oldestFirst.filter((d): d is VersionDay & { figures: Figures } => d.figures !== undefined);
  const answers = shown.reduce((sum, d) => sum + d.figures.answers, 0);
  const totals = Object.fromEntries([...FIGURES, "pinned"].map((f) => [f, 0])) as Figures;
  for (const d of shown) for (const f of FIGURES) totals[f] += d.figures[f];
  const pinned = shown.reduce((sum, d) => sum + d.figures.pinned, 0) / Math.max(1, shown.length);
  return {
    version,
    daysRan: oldestFirst.length,
    daysShown: shown.length,
    answers,
    ...(answers > 0 ? { per100: per100(totals, answers, pinned) } : {}),
    days: oldestFirst.map((d) => {
      const day: DayRates = {
        day: d.day,
        agents: d.agents,
        owners: d.owners,
        shown: d.figures !== undefined,
        answers: d.figures?.answers ?? 0,
      };
      return d.figures && d.figures.answers > 0
        ? { ...day, per100: per100(d.figures, d.figures.answers, d.figures.pinned) }
        : day;
    }),
  };
}

/** `sums` per 100 of `answers` (> 0); `pinned` as given, a share. */
function per100(sums: Figures, answers: number, pinned: number): Figures {
  const out = Object.fromEntries(FIGURES.map((f) => [f, (sums[f] / answers) * 100])) as Figures;
  return { ...out, pinned };
}
