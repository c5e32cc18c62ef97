// The agent's daily counts for the version it runs (docs/signals.md): how
// often it answered, how many people spoke to it, 👍 and 👎 on its
// messages, corrections, "forget" requests, approvals asked and declined,
// tool calls failed, pauses by its owner, turns stopped while it thought
// (its owner's pin is the pool's record, not counted here: docs/signals.md,
// "The pin"). Counts only: who
// spoke is kept as salted hashes for the day (to count each person once),
// and neither the hashes nor their salt ever leave the agent; no text, no
// member id, no conversation id is kept here at all. Per person, the day's
// answers to them, their 👎, corrections and stops, and the tool calls that
// failed in turns answering them go out under a pseudonym of the day keyed
// by the pool's hosts (`personOf`), which lineage cannot turn
// back into an inbox: a rollout's watch counts a person once across
// conversations (docs/signals.md, "Per person").
// The functions are pure (a file in, a file out); `Signals` keeps the
// file (signals.json) so that a restart keeps the day. A new UTC day or a
// new version starts new counts; the ended ones wait (at most FINISHED_KEPT)
// until the host has sent them.

import { createHash, createHmac, randomBytes } from "node:crypto";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  type PersonSignalCounts,
  signVersionSignals,
  VERSION_SIGNAL_COUNTS,
  type TypedDataSigner,
} from "@convos-pool/kit/signing";
import { FILES, type Workspace } from "../../platform/workspace.js";

/** What is counted, each a number that only grows in a day (a 👍 or 👎 taken back takes its count back down); the day's people are counted apart (`heard`). */
export type Counted = Exclude<(typeof VERSION_SIGNAL_COUNTS)[number], "people">;
export const COUNTED: readonly Counted[] = VERSION_SIGNAL_COUNTS.filter((c): c is Counted => c !== "people");

/** One day's counts for one version: exactly what may leave the agent. */
export interface DayCounts extends Record<Counted, number> {
  /** Distinct people who spoke to it that day. */
  people: number;
}

/** The version counted: a template and its release (the version's key). */
export interface Release {
  templateId: string;
  version: string;
  /** The template's creator: never one of the day's persons (a creator's word is not a user's). */
  creatorId?: string | undefined;
}

/**
 * One person's part of a day: the answers to their texts, their 👎 on those answers, their corrections, the
 * turns they stopped, the tool calls that failed in turns answering them (the last two absent in a day written
 * before they were counted per person: zero).
 */
export type PersonDay = Omit<PersonSignalCounts, "person">;

/** One ended or current day, as it is sent. */
export interface DayReport extends Release {
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  counts: DayCounts;
  /** By pseudonym of the day (personOf); absent in a day written before, or with no key. */
  persons?: Record<string, PersonDay>;
}

/** What is sent of a day: its counts, and its persons in the contract's shape, by pseudonym. */
export interface SentDay extends Omit<DayReport, "persons" | "creatorId"> {
  persons: PersonSignalCounts[];
}

/** signals.json. */
export interface SignalsFile {
  current: DayReport;
  /** Random per day: the hashes of who spoke mean nothing the day after, and the salt goes with the day. */
  salt: string;
  /** Salted hashes of who spoke today: counted once each. */
  heard: string[];
  /**
   * Salted hashes of the 👍 and 👎 counted today, one per person, message and
   * signal: 500 👎 from one member on one answer count one (absent in a file
   * written before).
   */
  reactions?: string[];
  /** Today's answers, each a salted hash of its message id, to the pseudonym of whom it answered: where a 👎 counts per person. */
  answered?: Record<string, string>;
  /** Ended days (or versions) not yet sent, oldest first. */
  finished: DayReport[];
}

/** How many ended days it keeps for a host that could not send them (a week). */
export const FINISHED_KEPT = 7;

/** The UTC day of `ms`, YYYY-MM-DD. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function zeroCounts(): DayCounts {
  return Object.fromEntries(VERSION_SIGNAL_COUNTS.map((c) => [c, 0])) as Record<keyof DayCounts, number>;
}

/**
 * The file for `day` and `release`: the same when both hold; else new counts
 * (and a new salt, the day's hashes gone), the ended day kept to be sent when
 * anything was counted in it.
 */
export function rollOver(file: SignalsFile | undefined, day: string, release: Release, salt: string): SignalsFile {
  const cur = file?.current;
  if (file && cur?.day === day && cur.templateId === release.templateId && cur.version === release.version) return file;
  const fresh: DayReport = {
    day,
    templateId: release.templateId,
    version: release.version,
    counts: zeroCounts(),
    persons: {},
  };
  const ended = cur && counted(cur.counts) ? [cur] : [];
  return {
    current: fresh,
    salt,
    heard: [],
    reactions: [],
    answered: {},
    finished: [...(file?.finished ?? []), ...ended].slice(-FINISHED_KEPT),
  };
}

/** Whether anything happened in a day: a day with nothing is not worth a report. */
export function counted(c: DayCounts): boolean {
  return c.people > 0 || COUNTED.some((k) => c[k] > 0);
}

/** `what` counted `by` (a 👍 taken back: -1; never below zero). */
export function count(file: SignalsFile, what: Counted, by = 1): SignalsFile {
  // A day written before a count was added has none of it yet: zero.
  const counts = { ...file.current.counts, [what]: Math.max(0, (file.current.counts[what] ?? 0) + by) };
  return { ...file, current: { ...file.current, counts } };
}

/** Salted, so that the day's list says nothing of who spoke to anyone who reads the workspace after. */
export function heardHash(salt: string, inboxId: string): string {
  return createHash("sha256").update(`${salt}\n${inboxId}`).digest("hex");
}

/** Someone spoke to it: counted once a day. */
export function heard(file: SignalsFile, inboxId: string): SignalsFile {
  const h = heardHash(file.salt, inboxId);
  if (file.heard.includes(h)) return file;
  const heardNow = [...file.heard, h];
  return {
    ...file,
    heard: heardNow,
    current: { ...file.current, counts: { ...file.current.counts, people: heardNow.length } },
  };
}

/**
 * The pseudonym of `inboxId` on `day` for `release`'s template:
 * HMAC-SHA256 under the pool hosts' key (`key`), so one person is one
 * pseudonym that day in every agent of the template on those hosts, another
 * the next day, and nothing lineage (which never holds the key) can match
 * to an inbox. None without a key, and none for the template's creator.
 */
export function personOf(
  key: Uint8Array | undefined,
  release: Release,
  day: string,
  inboxId: string,
): string | undefined {
  if (!key || inboxId === release.creatorId) return undefined;
  return createHmac("sha256", key).update(`${release.templateId}\n${day}\n${inboxId}`).digest("hex");
}

/**
 * The person key when the host is given none: one per process, so one host's
 * agents (the pool's, when it has one host) count a person once; hosts with
 * different keys count them once each (docs/signals.md, "Per person").
 */
export const PROCESS_PERSON_KEY: Uint8Array = randomBytes(32);

/**
 * The hosts' person key as SIGNALS_PERSON_KEY gives it: hex, 32 bytes or
 * more (a shorter key is a guessable one); unset: none, the process's own.
 */
export function personKeyOf(hex: string | undefined): Uint8Array | undefined {
  if (hex === undefined || hex === "") return undefined;
  if (!/^(?:[0-9a-f]{2}){32,}$/i.test(hex))
    throw new Error("SIGNALS_PERSON_KEY must be 32 bytes or more in hex (64 hex digits or more)");
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

const PERSON_COUNTS = ["answers", "thumbsDown", "corrections", "stopRequests", "toolCallsFailed"] as const;

/** `person`'s day changed by `change` (never below zero). */
function forPerson(file: SignalsFile, person: string, change: Partial<PersonDay>): SignalsFile {
  const persons = file.current.persons ?? {};
  const was: PersonDay = persons[person] ?? { answers: 0, thumbsDown: 0, corrections: 0 };
  const now = Object.fromEntries(
    PERSON_COUNTS.map((k) => [k, Math.max(0, (was[k] ?? 0) + (change[k] ?? 0))]),
  ) as Required<PersonDay>;
  return { ...file, current: { ...file.current, persons: { ...persons, [person]: now } } };
}

/** It answered (message `messageId`) a text of `person` (a pseudonym; absent: no person, as an outsider). */
export function answered(file: SignalsFile, messageId: string, person: string | undefined): SignalsFile {
  const counted = count(file, "answers");
  if (person === undefined) return counted;
  const answers = { ...(file.answered ?? {}), [heardHash(file.salt, messageId)]: person };
  return { ...forPerson(counted, person, { answers: 1 }), answered: answers };
}

/** `person` corrected one of its answers. */
export function corrected(file: SignalsFile, person: string): SignalsFile {
  return forPerson(file, person, { corrections: 1 });
}

/** A turn stopped while it thought, by `person` (a pseudonym; absent: no person's, as the creator's). */
export function stopped(file: SignalsFile, person: string | undefined): SignalsFile {
  const counted = count(file, "stopRequests");
  return person === undefined ? counted : forPerson(counted, person, { stopRequests: 1 });
}

/** A tool call that failed in a turn answering `person` (a pseudonym; absent: no person's, as an outsider's). */
export function toolFailed(file: SignalsFile, person: string | undefined): SignalsFile {
  const counted = count(file, "toolCallsFailed");
  return person === undefined ? counted : forPerson(counted, person, { toolCallsFailed: 1 });
}

/**
 * `inboxId` added (1) or took back (-1) a 👍 (`up`) or 👎 (`down`) on the
 * agent's message `messageId`: counted once per person, message and signal
 * in a day, whatever the emoji (👍 and ❤️ are one up) and however often it
 * is sent; taking back counts down only what was counted today (yesterday's
 * count is sent as it was).
 */
export function reacted(
  file: SignalsFile,
  r: { inboxId: string; messageId: string; signal: "up" | "down" },
  by: 1 | -1,
  /** `inboxId`'s pseudonym of the day: their 👎 on an answer of today's to them counts per person too. */
  person?: string,
): SignalsFile {
  const h = heardHash(file.salt, `${r.inboxId}\n${r.messageId}\n${r.signal}`);
  const had = file.reactions ?? [];
  const counts = by === 1 ? !had.includes(h) : had.includes(h);
  if (!counts) return file;
  const reactions = by === 1 ? [...had, h] : had.filter((x) => x !== h);
  const next = { ...count(file, r.signal === "up" ? "thumbsUp" : "thumbsDown", by), reactions };
  // Once ever, on the answer's day: only today's answers are known here, and the day's set goes with the day.
  const theirs = person !== undefined && file.answered?.[heardHash(file.salt, r.messageId)] === person;
  return r.signal === "down" && theirs ? forPerson(next, person, { thumbsDown: by }) : next;
}

/** What may be sent: the ended days, then today so far; never the hashes or their salt. */
export function reports(file: SignalsFile): SentDay[] {
  return [...file.finished, file.current].map(({ day, templateId, version, counts, persons }) => ({
    day,
    templateId,
    version,
    // Only what is counted: a file written before a field was dropped (the pin) keeps it until its day ends,
    // and one written before a count was added (pauses, stops) has none of it: zero.
    counts: { people: counts.people, ...Object.fromEntries(COUNTED.map((k) => [k, counts[k] ?? 0])) } as DayCounts,
    persons: Object.entries(persons ?? {})
      .map(([person, p]) => ({ person, ...p }))
      .sort((a, b) => a.person.localeCompare(b.person)),
  }));
}

/** Ended days sent (and acknowledged): no longer kept. */
export function sent(
  file: SignalsFile,
  days: readonly Pick<DayReport, "day" | "templateId" | "version">[],
): SignalsFile {
  const done = new Set(days.map((d) => `${d.day}/${d.templateId}/${d.version}`));
  return { ...file, finished: file.finished.filter((d) => !done.has(`${d.day}/${d.templateId}/${d.version}`)) };
}

/** Its counts in its workspace (signals.json), counted one event at a time, in order; read on first use. */
export class Signals {
  private file: SignalsFile | undefined;
  private loaded = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ws: Workspace,
    /** The version it runs; none before a claim (nothing is counted then). */
    private readonly release: () => Release | undefined,
    private readonly now: () => number = Date.now,
    /** The pool hosts' person key (personOf); absent: no day counts per person. */
    private readonly personKey?: Uint8Array,
  ) {}

  count(what: Counted, by = 1): void {
    this.change((f) => count(f, what, by));
  }

  heard(inboxId: string): void {
    this.change((f) => heard(f, inboxId));
  }

  /** It answered `inboxId`'s text with message `messageId` (`inboxId` absent: no person's, as an outsider's). */
  answered(messageId: string, inboxId: string | undefined): void {
    this.change((f, day, release) => answered(f, messageId, inboxId && this.person(release, day, inboxId)));
  }

  /** A 👍 or 👎 on its message added or taken back: once per person, message and signal a day (reacted()). */
  reacted(r: { inboxId: string; messageId: string; signal: "up" | "down" }, by: 1 | -1): void {
    this.change((f, day, release) => reacted(f, r, by, this.person(release, day, r.inboxId)));
  }

  /** A person's text it took in (conversation/carry-out.ts): they spoke to it, and perhaps corrected it. */
  spoke(inboxId: string, correcting: boolean): void {
    this.change((f, day, release) => {
      if (!correcting) return heard(f, inboxId);
      const person = this.person(release, day, inboxId);
      const counted = count(heard(f, inboxId), "corrections");
      return person === undefined ? counted : corrected(counted, person);
    });
  }

  /** `inboxId` stopped a turn while it thought (conversation/carry-out.ts stop). */
  stopped(inboxId: string | undefined): void {
    this.change((f, day, release) => stopped(f, inboxId ? this.person(release, day, inboxId) : undefined));
  }

  /**
   * What the tool gate tells (tools/gate/gate.ts): an approval asked or declined, counted in the day (its owner
   * is lineage's to count once); a call that failed, also per person: `inboxId`, whose text the turn answers.
   */
  toolSignal(what: "approvalsAsked" | "approvalsDeclined" | "toolCallsFailed", inboxId?: string): void {
    if (what !== "toolCallsFailed") this.count(what);
    else this.change((f, day, release) => toolFailed(f, inboxId ? this.person(release, day, inboxId) : undefined));
  }

  private person(release: Release, day: string, inboxId: string): string | undefined {
    return personOf(this.personKey, release, day, inboxId);
  }

  /** The days to send (reports()), rolled over to today first; none before a claim. */
  async reports(): Promise<SentDay[]> {
    const release = this.release();
    const at = this.now();
    return this.run(async () => {
      await this.read();
      return release ? reports(this.rolled(release, at)) : [];
    });
  }

  /** Ended days the service acknowledged. */
  async sent(days: readonly Pick<DayReport, "day" | "templateId" | "version">[]): Promise<void> {
    this.change((f) => sent(f, days));
    await this.queue;
  }

  /** signals.json as written once the events so far are (tests, a stop). */
  async settled(): Promise<SignalsFile | undefined> {
    return this.run(async () => {
      await this.read();
      return this.file;
    });
  }

  private run<T>(job: () => T | Promise<T>): Promise<T> {
    const next = this.queue.then(job);
    // Counts are not worth failing a turn for: a step that fails leaves the queue going.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<void> {
    if (this.loaded) return;
    this.file = await this.ws.readJson<SignalsFile>(FILES.signals);
    this.loaded = true;
  }

  /** A new day or version gets a new salt: yesterday's hashes cannot be matched against today's. */
  private rolled(release: Release, at: number): SignalsFile {
    return rollOver(this.file, utcDay(at), release, randomBytes(16).toString("hex"));
  }

  /** The event as it happens: its version and time taken now, counted in its turn. */
  private change(step: (f: SignalsFile, day: string, release: Release) => SignalsFile): void {
    const release = this.release();
    if (!release) return;
    const at = this.now();
    void this.run(async () => {
      await this.read();
      this.file = step(this.rolled(release, at), utcDay(at), release);
      await this.ws.writeJson(FILES.signals, this.file);
    }).catch(() => undefined);
  }
}

/** A day to send, signed by the agent (ReportVersionSignals): what its host carries to the lineage service. */
export interface SignedDay {
  report: SentDay;
  instanceId: string;
  inboxId: string;
  signature: Signature;
}

/** The days with anything counted, each signed by the agent's own wallet for the pool `poolId`. */
export function signDays(
  days: readonly SentDay[],
  agent: { instanceId: string; inboxId: string; wallet: TypedDataSigner; poolId: string },
): Promise<SignedDay[]> {
  return Promise.all(
    days
      .filter((d) => counted(d.counts))
      .map(async (report) => ({
        report,
        instanceId: agent.instanceId,
        inboxId: agent.inboxId,
        signature: await signVersionSignals(
          agent.wallet,
          { ...report, instanceId: agent.instanceId, inboxId: agent.inboxId },
          undefined,
          agent.poolId,
        ),
      })),
  );
}
