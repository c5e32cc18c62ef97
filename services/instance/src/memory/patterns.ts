// The agents' side of the pattern pool (docs/patterns.md, "Agents and the
// pattern pool"). With its owner's opt-in (memory/sharing.ts) an agent offers the
// training lessons it learned in its own conversation, and adopts lessons
// that agents of related templates offered, as training entries of its
// memory. Never personalization or credentials: only training entries are
// candidates, each is scanned here before it leaves (and again by the pool),
// and every adopted pattern is scanned here again before it enters memory,
// because an agent trusts the pool for nothing it runs on.
//
// One exchange per host, one timer for all its agents (a host runs up to
// 1,000): every cycle it walks the claimed agents, a few at a time. An agent
// is also taken up at once when it learns a lesson (offer) and when it is in
// its conversation (join, restart). Network calls never run inside a turn;
// only the short memory change does, between turns. What happened is kept
// in the workspace (patterns.json), so nothing is offered or adopted twice,
// and a failed call is simply tried again at the next cycle. Logs carry ids,
// counts and reasons, never a lesson's text.

import { createHash } from "node:crypto";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { PATTERN_REFUSAL_REASONS, fieldViolations, scanPattern } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Pattern, PatternPoolService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Memory, MemoryEntry, NewEntry } from "./store.js";
import { FILES, type Workspace } from "../platform/workspace.js";

export const DEFAULT_PATTERN_QUERY_INTERVAL_MS = 10 * 60_000;
/** Adopted lessons live in an agent's memory at most: the pool adds to what the agent learned, it does not drown it. */
export const MAX_ADOPTED_PATTERNS = 20;
/** Agents taken up at once by a host's exchange. */
const CONCURRENCY = 4;
const CALL_TIMEOUT_MS = 10_000;
/** PatternPoolService.RecordAdoptions takes at most this many ids a call. */
const MAX_ADOPTIONS_PER_REPORT = 50;

/** patterns.json: what an agent did with the pool. Lessons are keyed by a hash of their text, so a forgotten entry leaves no text behind. */
export interface PatternRecord {
  version: 1;
  /** Lessons offered and kept by the pool: lesson key → pattern id. */
  offered: Record<string, string>;
  /** Lessons not offered, refused by the scan here or by the pool: lesson key → reason. Never tried again. */
  withheld: Record<string, string>;
  /** Those refusals counted by reason ("personal_data", "secret", "injection", "link", "steering"). */
  refused: Record<string, number>;
  /** Patterns adopted: pattern id → its entry in memory ("" when the agent knew the lesson already) and when it expires. */
  adopted: Record<string, { entryId: string; expiresAt: string }>;
  /** Patterns the scan here refused to adopt: pattern id → reason. */
  rejected: Record<string, string>;
  /** Adoptions not yet reported to the pool (RecordAdoptions failed). */
  unreported: string[];
}

export function emptyRecord(): PatternRecord {
  return { version: 1, offered: {}, withheld: {}, refused: {}, adopted: {}, rejected: {}, unreported: [] };
}

export async function readRecord(ws: Workspace): Promise<PatternRecord> {
  return { ...emptyRecord(), ...(await ws.readJson<PatternRecord>(FILES.patterns)) };
}

/** Same lesson, same key: case, spacing and punctuation aside. */
export function lessonKey(text: string): string {
  const normalized = text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
  return createHash("sha256").update(normalized).digest("hex").slice(0, 32);
}

/**
 * The entries an agent may offer: training it learned in its own
 * conversation. Not what it inherited, imported or adopted (someone else's
 * lesson), and no feedback entry: a 👍, a 👎 or a correction is tied to one
 * of its answers and quotes it, a record of this conversation rather than a
 * lesson for other agents. What a correction teaches in general is a plain
 * entry beside it (memory/feedback.ts, correctionByRule), offered like any other.
 */
export function offerable(entries: readonly MemoryEntry[]): MemoryEntry[] {
  return entries.filter(
    (e) => e.kind === "training" && !e.inheritedFrom && !e.imported && !e.adoptedFrom && !e.feedback,
  );
}

export interface AdoptionPlan {
  /** New patterns to add to memory, most similar first, within the cap. */
  adopt: Expiring[];
  /** Entries to take out of memory: their pattern expired, the pool withdrew it, or the scan here refuses it now. */
  drop: string[];
  /** Of those, the patterns the pool withdrew (the template's creator rejected or holds them). */
  withdrawn: string[];
  /** Patterns the scan here refused (new ones, and adopted ones under older rules): id → reason. */
  rejected: Record<string, string>;
}

/**
 * What a query's answer changes (pure; `record` is updated for renewals and
 * expiries): patterns already adopted get their new expiry, expired ones
 * leave memory, new ones pass the scan here and fill what the cap leaves.
 * A pattern adopted once is never adopted again, also when its owner deleted
 * the entry. A pattern the pool withdraws (the creator of the agent's
 * template rejected it, or holds lessons and has not approved it) leaves
 * memory, and may come back if the creator approves it.
 */
export function planAdoption(
  record: PatternRecord,
  entries: readonly MemoryEntry[],
  patterns: readonly Pattern[],
  now: number,
  cap = MAX_ADOPTED_PATTERNS,
  withdrawnIds: readonly string[] = [],
): AdoptionPlan {
  const inMemory = new Set(entries.map((e) => e.id));
  const drop: string[] = [];
  const withdrawn: string[] = [];
  for (const id of withdrawnIds) {
    const adopted = record.adopted[id];
    // One its owner deleted stays recorded: never adopted again.
    if (!adopted?.entryId || !inMemory.has(adopted.entryId)) continue;
    drop.push(adopted.entryId);
    withdrawn.push(id);
    delete record.adopted[id];
  }
  const rejected: Record<string, string> = {};
  // Adopted under older rules: what the scan refuses now leaves memory, and is never adopted again.
  for (const e of entries) {
    if (!e.adoptedFrom || drop.includes(e.id)) continue;
    const scan = scanPattern(e.text);
    if (scan.ok) continue;
    drop.push(e.id);
    rejected[e.adoptedFrom] = scan.reason;
    delete record.adopted[e.adoptedFrom];
  }
  for (const p of patterns) {
    const adopted = record.adopted[p.patternId];
    if (adopted && p.expiresAt) adopted.expiresAt = timestampIso(p.expiresAt);
  }
  for (const [id, a] of Object.entries(record.adopted)) {
    if (Date.parse(a.expiresAt) > now) continue;
    if (a.entryId && inMemory.has(a.entryId)) drop.push(a.entryId);
    delete record.adopted[id];
  }
  let live = Object.values(record.adopted).filter((a) => a.entryId && inMemory.has(a.entryId)).length;
  const adopt: Expiring[] = [];
  for (const p of patterns) {
    if (
      record.adopted[p.patternId] ||
      record.rejected[p.patternId] ||
      rejected[p.patternId] ||
      !expires(p) ||
      Date.parse(timestampIso(p.expiresAt)) <= now
    )
      continue;
    const scan = scanPattern(p.text);
    if (!scan.ok) {
      rejected[p.patternId] = scan.reason;
      continue;
    }
    if (live >= cap) continue;
    adopt.push(p);
    live++;
  }
  return { adopt, drop, withdrawn, rejected };
}

/** A pattern with its expiry: the pool sets one on every pattern, and one without is never adopted. */
type Expiring = Pattern & { expiresAt: Timestamp };
const expires = (p: Pattern): p is Expiring => p.expiresAt !== undefined;

function timestampIso(t: { seconds: bigint; nanos: number }): string {
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toISOString();
}

/**
 * Why the pool will never take a lesson: its INVALID_ARGUMENT on `text`,
 * "refused: <reason> (...)" for the scan's reasons, else the text itself is
 * not a lesson ("invalid"). undefined for any other error (tried again later).
 */
export function poolRefusal(err: ConnectError): string | undefined {
  if (err.code !== Code.InvalidArgument) return undefined;
  const text = fieldViolations(err).find((v) => v.field === "text");
  if (!text) return undefined;
  const reason = /^refused: ([a-z_]+)\b/.exec(text.description)?.[1];
  return reason && (PATTERN_REFUSAL_REASONS as readonly string[]).includes(reason) ? reason : "invalid";
}

/** What the exchange needs of an agent (Agent). */
export interface PatternAgent {
  readonly id: string;
  readonly ws: Workspace;
  readonly state: InstanceState;
  readonly memorySnapshot: Memory | undefined;
  /** Its owner's choice (memory/sharing.ts). */
  readonly sharing: { offer: boolean; adopt: boolean };
  /**
   * Runs `change` between turns on the memory of the claim as it is now
   * (nothing runs once that claim was released); memory.json is written when
   * it returns true. Resolves to whether it ran.
   */
  changeMemory(change: (memory: Memory) => Promise<boolean>): Promise<boolean>;
}

/** How an agent tells its host's exchange that something happened. */
export interface PatternHooks {
  /** It learned entries in its conversation: offer what may be offered. */
  learned(agent: PatternAgent, added: readonly MemoryEntry[]): void;
  /** It is in its conversation (joined, back after a restart), or its owner changed its sharing: offer and adopt now. */
  wake(agent: PatternAgent): void;
}

export interface PatternExchangeOptions {
  client: Client<typeof PatternPoolService>;
  /** The host's agents, walked at every cycle. */
  agents: () => Iterable<PatternAgent>;
  log: Logger;
  /** How often every claimed agent offers and queries; default 10 minutes. */
  queryIntervalMs?: number | undefined;
}

export class PatternExchange implements PatternHooks {
  private readonly timer: NodeJS.Timeout;
  /** Agents waiting to be taken up, and whether to query for them too (not only offer). */
  private readonly due = new Map<string, { agent: PatternAgent; adopt: boolean }>();
  private readonly active = new Set<string>();
  private readonly workers = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly opts: PatternExchangeOptions) {
    this.timer = setInterval(() => this.cycle(), opts.queryIntervalMs ?? DEFAULT_PATTERN_QUERY_INTERVAL_MS);
    this.timer.unref();
  }

  learned(agent: PatternAgent, added: readonly MemoryEntry[]): void {
    if (offerable(added).length > 0) this.schedule(agent, false);
  }

  wake(agent: PatternAgent): void {
    this.schedule(agent, true);
  }

  /** Every claimed agent, now (the timer's cycle; tests). */
  cycle(): void {
    for (const agent of this.opts.agents()) if (agent.state === InstanceState.CLAIMED) this.schedule(agent, true);
  }

  /** Resolves when no agent is waiting or being taken up (tests). */
  async idle(): Promise<void> {
    while (this.workers.size > 0) await Promise.all(this.workers);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.due.clear();
    await this.idle();
  }

  private schedule(agent: PatternAgent, adopt: boolean): void {
    if (this.closed) return;
    const waiting = this.due.get(agent.id);
    this.due.set(agent.id, { agent, adopt: adopt || (waiting?.adopt ?? false) });
    while (this.workers.size < CONCURRENCY && this.workers.size < this.due.size) {
      const worker: Promise<void> = this.work().finally(() => this.workers.delete(worker));
      this.workers.add(worker);
    }
  }

  /** Takes up waiting agents one after another; an agent already being taken up waits for the worker that has it. */
  private async work(): Promise<void> {
    for (;;) {
      let next: { agent: PatternAgent; adopt: boolean } | undefined;
      for (const d of this.due.values()) {
        if (this.active.has(d.agent.id)) continue;
        next = d;
        break;
      }
      if (!next || this.closed) return;
      const { agent, adopt } = next;
      this.due.delete(agent.id);
      this.active.add(agent.id);
      try {
        if (agent.state !== InstanceState.CLAIMED || !agent.memorySnapshot) continue;
        const sharing = agent.sharing;
        if (sharing.offer) await this.offer(agent);
        if (adopt) await this.adopt(agent, sharing.adopt);
      } catch (err) {
        this.opts.log.warn("pattern exchange failed for an agent; tried again at the next cycle", {
          instanceId: agent.id,
          err,
        });
      } finally {
        this.active.delete(agent.id);
      }
    }
  }

  /** Offers its new lessons, each scanned here first; stops at the first failed call (the next cycle goes on). */
  private async offer(agent: PatternAgent): Promise<void> {
    const record = await readRecord(agent.ws);
    const todo = offerable(agent.memorySnapshot?.entries ?? []).filter((e) => {
      const key = lessonKey(e.text);
      return !record.offered[key] && !record.withheld[key];
    });
    if (todo.length === 0) return;
    let offered = 0;
    const refused: Record<string, number> = {};
    const withhold = (key: string, reason: string) => {
      record.withheld[key] = reason;
      record.refused[reason] = (record.refused[reason] ?? 0) + 1;
      refused[reason] = (refused[reason] ?? 0) + 1;
    };
    for (const entry of todo) {
      const key = lessonKey(entry.text);
      const scan = scanPattern(entry.text);
      if (!scan.ok) {
        withhold(key, scan.reason);
        continue;
      }
      try {
        const res = await this.opts.client.publishPattern(
          { instanceId: agent.id, text: entry.text },
          { timeoutMs: CALL_TIMEOUT_MS },
        );
        record.offered[key] = res.pattern?.patternId ?? "";
        offered++;
      } catch (err) {
        const e = ConnectError.from(err);
        const reason = poolRefusal(e);
        if (reason) {
          withhold(key, reason);
          continue;
        }
        this.opts.log.warn("offering a lesson to the pattern pool failed; offered again at the next cycle", {
          instanceId: agent.id,
          code: Code[e.code],
        });
        break;
      }
    }
    if (offered === 0 && Object.keys(refused).length === 0) return;
    await this.save(agent, record);
    this.opts.log.info("lessons offered to the pattern pool", { instanceId: agent.id, offered, refused });
  }

  /**
   * Queries the pool and takes in what planAdoption allows, between turns.
   * With adopt off (never on, or turned off), what it adopted leaves memory:
   * the owner's opt-out covers lessons already taken in.
   */
  private async adopt(agent: PatternAgent, on: boolean): Promise<void> {
    const record = await readRecord(agent.ws);
    if (!on) {
      if (Object.keys(record.adopted).length === 0) return;
      const entryIds = Object.values(record.adopted).map((a) => a.entryId);
      let dropped = 0;
      await agent.changeMemory(async (memory) => {
        dropped = memory.remove(entryIds).length;
        record.adopted = {};
        record.unreported = [];
        await writeRecord(agent.ws, record);
        return dropped > 0;
      });
      this.opts.log.info("adopted patterns dropped: the owner turned adopting off", { instanceId: agent.id, dropped });
      return;
    }
    let patterns: Pattern[] = [];
    let withdrawnIds: string[] = [];
    try {
      const answer = await this.opts.client.queryPatterns({ instanceId: agent.id }, { timeoutMs: CALL_TIMEOUT_MS });
      patterns = answer.patterns;
      withdrawnIds = answer.withdrawnPatternIds;
    } catch (err) {
      // Expiry is known here: what expired leaves memory even while the pool does not answer.
      this.opts.log.warn("querying the pattern pool failed; queried again at the next cycle", {
        instanceId: agent.id,
        code: Code[ConnectError.from(err).code],
      });
    }
    let plan: AdoptionPlan | undefined;
    let adopted = 0;
    await agent.changeMemory(async (memory) => {
      const before = JSON.stringify(record);
      plan = planAdoption(record, memory.entries, patterns, Date.now(), MAX_ADOPTED_PATTERNS, withdrawnIds);
      const dropped = memory.remove(plan.drop).length;
      const added = memory.add(
        plan.adopt.map((p): NewEntry => ({ kind: "training", text: p.text, adoptedFrom: p.patternId })),
      );
      for (const p of plan.adopt) {
        const entry = added.find((a) => a.adoptedFrom === p.patternId);
        record.adopted[p.patternId] = { entryId: entry?.id ?? "", expiresAt: timestampIso(p.expiresAt) };
        if (entry) record.unreported.push(p.patternId);
      }
      Object.assign(record.rejected, plan.rejected);
      adopted = added.length;
      // Most cycles change nothing: 1,000 agents do not rewrite their record every 10 minutes.
      if (JSON.stringify(record) !== before) await writeRecord(agent.ws, record);
      return dropped > 0 || added.length > 0;
    });
    if (plan && (adopted > 0 || plan.drop.length > 0 || Object.keys(plan.rejected).length > 0)) {
      this.opts.log.info("patterns adopted", {
        instanceId: agent.id,
        offeredToIt: patterns.length,
        adopted,
        dropped: plan.drop.length,
        withdrawn: plan.withdrawn,
        rejected: Object.values(plan.rejected),
      });
    }
    if (record.unreported.length > 0) await this.report(agent, record);
  }

  /** Tells the pool what was adopted (its counts for the creators' dashboards); kept for the next cycle when it fails. */
  private async report(agent: PatternAgent, record: PatternRecord): Promise<void> {
    // The pool takes at most 50 ids a call; after failed cycles more can be waiting.
    const batch = [...new Set(record.unreported)].slice(0, MAX_ADOPTIONS_PER_REPORT);
    try {
      await this.opts.client.recordAdoptions(
        { instanceId: agent.id, patternIds: batch },
        { timeoutMs: CALL_TIMEOUT_MS },
      );
    } catch (err) {
      this.opts.log.warn("reporting adoptions to the pattern pool failed; reported again at the next cycle", {
        instanceId: agent.id,
        patterns: record.unreported.length,
        code: Code[ConnectError.from(err).code],
      });
      return;
    }
    record.unreported = record.unreported.filter((id) => !batch.includes(id));
    await this.save(agent, record);
  }

  /** Written between turns, so a Release (which deletes the file) is never undone by a late write. */
  private async save(agent: PatternAgent, record: PatternRecord): Promise<void> {
    await agent.changeMemory(async () => {
      await writeRecord(agent.ws, record);
      return false;
    });
  }
}

async function writeRecord(ws: Workspace, record: PatternRecord): Promise<void> {
  await ws.writeJson(FILES.patterns, record);
}
