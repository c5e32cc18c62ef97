// What an owner whose agent is pinned to an older version is shown of the
// newer one (docs/web.md, "A newer version"), decided here and rendered by
// newer.tsx: whether there is one, which release notes lie
// between the two, and the two versions' figures as table rows. Pure: no
// call, no React, so each rule is tested alone (newer-version.test.ts).
import type { CompareVersionsResponse, VersionComparison } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import type { ReleaseNote } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { SyncState, type Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";

/** A newer release than the one a pinned agent runs. */
export interface NewerRelease {
  /** The template version the agent runs. */
  applied: bigint;
  /** The newest one the pool holds for it. */
  newest: bigint;
  /**
   * Only a base template changed: the template's own version is the same, so there are no
   * notes of its own between the two and no second version to compare.
   */
  baseOnly: boolean;
}

/**
 * The newer release a pinned agent would move to, or nothing. An agent that is not pinned
 * follows its template by itself (pending or current), so there is nothing to offer.
 */
export function newerRelease(i: Instance): NewerRelease | undefined {
  const s = i.sync;
  // The claims service sets `pending_version` only when the agent is behind the release it holds.
  if (!s || s.state !== SyncState.PINNED || s.pendingVersion === 0n) return undefined;
  return { applied: s.appliedVersion, newest: s.pendingVersion, baseOnly: s.pendingVersion === s.appliedVersion };
}

/** The notes of the versions after `applied` up to `newest`, newest first, from notes in any order. */
export function notesBetween(notes: readonly ReleaseNote[], r: NewerRelease): ReleaseNote[] {
  return notes
    .filter((n) => n.version > r.applied && n.version <= r.newest)
    .sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : 0));
}

/** Whether notes read newest first, ending with `last`, may go on past what lies between (read the next page). */
export function notesMayContinue(last: ReleaseNote | undefined, r: NewerRelease): boolean {
  return last !== undefined && last.version > r.applied + 1n;
}

type OwnerFigure = "thumbsUp" | "thumbsDown" | "corrections" | "forgetRequests" | "toolCallsFailed";

/**
 * The figures an owner is shown side by side, each per 100 answers: what people did around
 * the agent that says how it serves them. The creator's studio shows all of them; an owner
 * deciding whether to move wants a few they can read at a glance.
 */
export const OWNER_FIGURES: readonly { key: OwnerFigure; name: string }[] = [
  { key: "thumbsUp", name: "Thumbs up on its messages" },
  { key: "thumbsDown", name: "Thumbs down on its messages" },
  { key: "corrections", name: "Corrections of its answers" },
  { key: "forgetRequests", name: "“Forget what you learned from me”" },
  { key: "toolCallsFailed", name: "Tool calls that failed" },
];

/** One version's column: whether it has figures, and over how much they were counted. */
export interface ComparedVersion {
  version: string;
  /** At least one day with enough conversations to show its figures. */
  enough: boolean;
  /** Answers over the days shown, rounded. */
  answers: number;
  daysShown: number;
}

export interface ComparisonTable {
  older: ComparedVersion;
  newer: ComparedVersion;
  /** Per figure, each version's value per 100 answers ("—" for a version without figures). */
  rows: { figure: string; older: string; newer: string }[];
  /** The number of conversations a day needs before its figures are shown. */
  minConversations: number;
}

/** A figure per 100 answers, as people read it: one decimal, no trailing ".0". */
export function per100(x: number): string {
  const rounded = Math.round(x * 10) / 10;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

function column(v: VersionComparison | undefined, version: string): ComparedVersion {
  const enough = !!v?.per100Answers && v.daysShown > 0;
  return {
    version,
    enough,
    answers: enough ? Math.round(v.answers) : 0,
    daysShown: enough ? v.daysShown : 0,
  };
}

/**
 * `CompareVersions`' answer for the two versions as rows for the owner's table. The answer is
 * matched by version, not by position, so a version nobody reported (absent from the answer)
 * reads as one without enough conversations. No rows when neither version has figures: there
 * is nothing to set side by side.
 */
export function comparisonTable(res: CompareVersionsResponse, older: string, newer: string): ComparisonTable {
  const find = (version: string) => res.versions.find((v) => v.version === version);
  const a = find(older);
  const b = find(newer);
  const left = column(a, older);
  const right = column(b, newer);
  const cell = (v: VersionComparison | undefined, c: ComparedVersion, key: OwnerFigure) =>
    c.enough && v?.per100Answers ? per100(v.per100Answers[key]) : "—";
  return {
    older: left,
    newer: right,
    rows:
      left.enough || right.enough
        ? OWNER_FIGURES.map(({ key, name }) => ({
            figure: name,
            older: cell(a, left, key),
            newer: cell(b, right, key),
          }))
        : [],
    minConversations: res.minConversations,
  };
}
