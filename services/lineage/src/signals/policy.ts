// What the lineage service accepts of an agent's counts, what a creator
// reads of them (docs/signals.md), and what the templates service may ask
// of a rollout (docs/rollouts.md). Pure.
import type { ReportSignalsRequest } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import type { WatchRolloutRequest } from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import {
  ROLLOUT_SIGNALS,
  SHARE_BUCKETS,
  TEMPLATE_ID_PATTERN,
  invalidArgument,
  refuseViolations,
  snakeCase,
  violationsOf,
  type FieldViolationInfo,
  type RolloutBounds,
} from "@convos-pool/kit/content";
import {
  type PersonSignalCounts,
  rolloutBoundsFields,
  rolloutBoundsJson,
  type VersionSignalsToSign,
} from "@convos-pool/kit/signing";
import { MAX_COMPARED } from "./compare.js";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** A version as the agent names it (its release key): short, printable. */
const VERSION = /^[A-Za-z0-9._-]{1,64}$/;
/** No day of counts is older than this: an agent keeps a week of unsent days (instance agent/signals.ts). */
export const OLDEST_REPORT_DAYS = 8;
/** More than this in a day is no agent's count: a report with one is refused. */
export const MAX_COUNT = 1_000_000;

/**
 * The versions a comparison asks for (compare.ts): none (the
 * default), or 1 to MAX_COMPARED release keys as agents report them, each
 * once.
 */
export function checkComparedVersions(versions: readonly string[]): string[] {
  if (versions.length > MAX_COMPARED) throw invalidArgument("versions", `at most ${MAX_COMPARED} versions at once`);
  for (const v of versions)
    if (!VERSION.test(v))
      throw invalidArgument(
        "versions",
        `"${v.slice(0, 64)}" is not a version: 1 to 64 letters, digits, '.', '_' or '-'`,
      );
  if (new Set(versions).size !== versions.length) throw invalidArgument("versions", "names a version twice");
  return [...versions];
}

/** Days shown when none are asked for, and the most asked for at once. */
export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 366;

const NOT_A_DAY = "must be a UTC day, YYYY-MM-DD";

/**
 * What is wrong with the days asked for (from_day, to_day; either may be
 * left out: to today, from DEFAULT_DAYS before to), every field at once.
 */
export function dayRangeViolations(fromDay: string, toDay: string, now = Date.now()): FieldViolationInfo[] {
  const out: FieldViolationInfo[] = [];
  if (fromDay !== "" && !isDay(fromDay)) out.push({ field: "from_day", description: NOT_A_DAY });
  if (toDay !== "" && !isDay(toDay)) out.push({ field: "to_day", description: NOT_A_DAY });
  if (out.length > 0) return out;
  const { from, to } = daysOf(fromDay, toDay, now);
  const span = (Date.parse(to) - Date.parse(from)) / 86_400_000;
  if (span < 0) out.push({ field: "from_day", description: "must not be after to_day" });
  else if (span >= MAX_DAYS) out.push({ field: "from_day", description: `at most ${MAX_DAYS} days at once` });
  return out;
}

/** The days asked for: both given, or the last DEFAULT_DAYS to today (UTC); INVALID_ARGUMENT naming every bad one. */
export function dayRange(fromDay: string, toDay: string, now = Date.now()): { from: string; to: string } {
  refuseViolations(dayRangeViolations(fromDay, toDay, now));
  return daysOf(fromDay, toDay, now);
}

function daysOf(fromDay: string, toDay: string, now: number): { from: string; to: string } {
  const to = toDay || new Date(now).toISOString().slice(0, 10);
  const from =
    fromDay || new Date(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  return { from, to };
}

/** What is wrong with a comparison of versions (CompareVersions): template, versions and days, all at once. */
export function compareVersionsViolations(
  req: { templateId: string; versions: readonly string[]; fromDay: string; toDay: string },
  now = Date.now(),
): FieldViolationInfo[] {
  return [
    ...violationsOf(
      () => {
        if (!TEMPLATE_ID_PATTERN.test(req.templateId)) throw invalidArgument("template_id", "must be a template id");
      },
      () => checkComparedVersions(req.versions),
    ),
    ...dayRangeViolations(req.fromDay, req.toDay, now),
  ];
}

/** Whether `day` is a real UTC date, YYYY-MM-DD. */
export function isDay(day: string): boolean {
  if (!DAY.test(day)) return false;
  // A month past 12 is no date at all (toISOString would throw), a 30 February another day.
  const ms = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day;
}

/**
 * The report's fields as the agent signed them, checked: a template id, a
 * version, a real day not in the future nor older than OLDEST_REPORT_DAYS
 * (now's UTC day), counts present and each at most MAX_COUNT.
 */
export function checkReport(req: ReportSignalsRequest, now = Date.now()): VersionSignalsToSign {
  if (!TEMPLATE_ID_PATTERN.test(req.templateId)) throw invalidArgument("template_id", "must be a template id");
  if (!VERSION.test(req.version)) throw invalidArgument("version", "must be 1 to 64 letters, digits, '.', '_' or '-'");
  if (!isDay(req.day)) throw invalidArgument("day", "must be a UTC day, YYYY-MM-DD");
  const dayMs = Date.parse(`${req.day}T00:00:00Z`);
  const today = Date.parse(`${new Date(now).toISOString().slice(0, 10)}T00:00:00Z`);
  if (dayMs > today) throw invalidArgument("day", "is in the future");
  if (today - dayMs > OLDEST_REPORT_DAYS * 86_400_000)
    throw invalidArgument("day", `is more than ${OLDEST_REPORT_DAYS} days ago`);
  const c = req.counts;
  if (!c) throw invalidArgument("counts", "is required");
  const counts = {
    answers: c.answers,
    people: c.people,
    thumbsUp: c.thumbsUp,
    thumbsDown: c.thumbsDown,
    corrections: c.corrections,
    forgetRequests: c.forgetRequests,
    approvalsAsked: c.approvalsAsked,
    approvalsDeclined: c.approvalsDeclined,
    toolCallsFailed: c.toolCallsFailed,
    pauses: c.pauses,
    stopRequests: c.stopRequests,
  };
  for (const [k, v] of Object.entries(counts))
    if (typeof v === "number" && v > MAX_COUNT) throw invalidArgument(`counts.${k}`, `must be at most ${MAX_COUNT}`);
  if (!req.inboxId) throw invalidArgument("inbox_id", "is required: the agent's inbox");
  return {
    inboxId: req.inboxId,
    instanceId: req.instanceId,
    templateId: req.templateId,
    version: req.version,
    day: req.day,
    counts,
    persons: checkPersons(req.persons, counts),
  };
}

/** A person's pseudonym of the day as agents send it (instance agent/state/signals.ts personOf): HMAC-SHA256 in hex. */
const PERSON = /^[0-9a-f]{64}$/;
/** More people in one agent's day than this is no agent's day. */
export const MAX_PERSONS = 1_000;

/**
 * A report's day per person (docs/signals.md, "Per person"): each a
 * pseudonym once, no person answered more than the day's answers, no 👎
 * beyond the answers they were given (the agent counts only those), and
 * their stops and failed tool calls together no more than the day's (a
 * day's may also be no person's: the creator's, an outsider's).
 */
export function checkPersons(
  persons: ReportSignalsRequest["persons"],
  day: Pick<PersonSignalCounts, "answers"> & { stopRequests: number; toolCallsFailed: number },
): PersonSignalCounts[] {
  if (persons.length > MAX_PERSONS) throw invalidArgument("persons", `must be at most ${MAX_PERSONS}`);
  const seen = new Set<string>();
  let stops = 0;
  let failed = 0;
  return persons.map((p, i) => {
    const field = `persons[${i}]`;
    if (!PERSON.test(p.person) || seen.has(p.person))
      throw invalidArgument(`${field}.person`, "must be a pseudonym of 64 hex digits, once in a report");
    seen.add(p.person);
    if (p.answers > day.answers) throw invalidArgument(`${field}.answers`, "must be at most the day's answers");
    if (p.thumbsDown > p.answers) throw invalidArgument(`${field}.thumbs_down`, "must be at most their answers");
    if (p.corrections > MAX_COUNT) throw invalidArgument(`${field}.corrections`, `must be at most ${MAX_COUNT}`);
    stops += p.stopRequests;
    failed += p.toolCallsFailed;
    if (stops > day.stopRequests)
      throw invalidArgument(`${field}.stop_requests`, "must be, with the others', at most the day's stop requests");
    if (failed > day.toolCallsFailed)
      throw invalidArgument(
        `${field}.tool_calls_failed`,
        "must be, with the others', at most the day's failed tool calls",
      );
    const { person, answers, thumbsDown, corrections, stopRequests, toolCallsFailed } = p;
    return { person, answers, thumbsDown, corrections, stopRequests, toolCallsFailed };
  });
}

/** One stretch of an agent's life on one version (and pin), from the claims feed; `to` absent while it runs it. */
export interface VersionStretch {
  version: string;
  from: Date;
  to?: Date | undefined;
}

/** What lineage knows of the versions an agent ran (sql.ts versionHistory). */
export interface VersionHistory {
  /** For an agent claimed before the feed carried versions: when lineage began to know them. */
  knownFrom?: Date | undefined;
  stretches: readonly VersionStretch[];
}

/**
 * Whether an agent's report for `version` on `day` is taken: when it ran
 * that version at some time of that UTC day (a day's last report of the
 * version it ran before an update is taken), or when lineage cannot tell:
 * it knows none of its versions (claimed before the feed carried them), or
 * the day began before it knew them.
 */
export function ranVersion(history: VersionHistory, version: string, day: string): boolean {
  if (history.stretches.length === 0) return true;
  const start = Date.parse(`${day}T00:00:00Z`);
  const end = start + 86_400_000;
  if (history.knownFrom && start < history.knownFrom.getTime()) return true;
  return history.stretches.some(
    (s) => s.version === version && s.from.getTime() < end && (s.to === undefined || s.to.getTime() > start),
  );
}

/** A rollout's bound per signal, and its false alarm, as the contract allows them (RolloutBounds). */
const BOUND_RANGE = [0.05, 10] as const;
const FALSE_ALARM_RANGE = [0.001, 0.2] as const;

export interface WatchAsked {
  templateId: string;
  candidate: string;
  baseline: string;
  fromDay: string;
  bounds: RolloutBounds;
  falseAlarm: number;
  /** The template's creator, when the request names one: their agents are out of the watch. */
  creatorId?: string | undefined;
  /** The planned share in hundredths of a percent, when the request gives one (1 to 10,000): the split is checked. */
  share?: number | undefined;
}

/**
 * A WatchRollout request, checked: a template id, two different release
 * keys, a real UTC day not after today, the bounds in their ranges, each
 * unset one its default (kit rolloutBoundsJson), and a share of at most
 * 10,000. The creator and the share are optional: a templates service of
 * before them is watched as before, without the split.
 */
export function checkWatchRequest(req: WatchRolloutRequest, now = Date.now()): WatchAsked {
  if (!TEMPLATE_ID_PATTERN.test(req.templateId)) throw invalidArgument("template_id", "must be a template id");
  for (const [field, v] of [
    ["candidate_version", req.candidateVersion],
    ["baseline_version", req.baselineVersion],
  ] as const)
    if (!VERSION.test(v))
      throw invalidArgument(field, "must be a release key: 1 to 64 letters, digits, '.', '_' or '-'");
  if (req.candidateVersion === req.baselineVersion)
    throw invalidArgument("candidate_version", "must differ from baseline_version");
  if (!isDay(req.fromDay)) throw invalidArgument("from_day", "must be a UTC day, YYYY-MM-DD");
  if (req.fromDay > new Date(now).toISOString().slice(0, 10)) throw invalidArgument("from_day", "is in the future");
  const { falseAlarm, ...bounds } = rolloutBoundsFields(rolloutBoundsJson(req.bounds));
  for (const s of ROLLOUT_SIGNALS)
    if (bounds[s] < BOUND_RANGE[0] || bounds[s] > BOUND_RANGE[1])
      throw invalidArgument(`bounds.${snakeCase(s)}`, `must be ${BOUND_RANGE[0]} to ${BOUND_RANGE[1]}, or unset`);
  if (falseAlarm < FALSE_ALARM_RANGE[0] || falseAlarm > FALSE_ALARM_RANGE[1])
    throw invalidArgument("bounds.false_alarm", `must be ${FALSE_ALARM_RANGE[0]} to ${FALSE_ALARM_RANGE[1]}, or unset`);
  if (req.shareBasisPoints > SHARE_BUCKETS)
    throw invalidArgument("share_basis_points", `must be at most ${SHARE_BUCKETS} hundredths of a percent, or unset`);
  return {
    templateId: req.templateId,
    candidate: req.candidateVersion,
    baseline: req.baselineVersion,
    fromDay: req.fromDay,
    bounds,
    falseAlarm,
    ...(req.creatorId ? { creatorId: req.creatorId } : {}),
    ...(req.shareBasisPoints > 0 ? { share: req.shareBasisPoints } : {}),
  };
}
