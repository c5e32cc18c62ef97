/**
 * Instruction sync's fan-out (docs/claims.md, "Instruction sync"): delivers
 * each template's held release to every claimed, unpinned instance below it
 * (or, inside a rollout's share, the rollout's candidate: its target,
 * db/targets.ts),
 * per host rather than per agent: the due agents of one host and template go
 * in one InstanceHostService.UpdateTemplates call (`batchSize` at most), which
 * the host decodes and checks once and each agent applies itself, answering
 * one by one; `concurrency` calls at a time. A host that predates the batch
 * call (UNIMPLEMENTED) gets one InstanceService.UpdateTemplate per agent, as
 * before, and so does every host with `batchSize` 1.
 *
 * All state is in the database (sql.ts), so nothing is lost to a
 * restart: a scan every second (and on every kick: a push, an unpin, a
 * delivery slot freed) picks the due rows, which a process that died
 * mid-fan-out left due. Per instance, also within a batch: provision the pool tools the release
 * declares (with its bases') that the instance lacks (release-tools.ts), send the release and
 * its bases' unchanged with every declared pool tool's credentials, record
 * the applied key and model, then release the tools no longer declared. The
 * pool is a courier: the instance checks each creator's signature, never the pool.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ToolCredential } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { compareReleaseKeys } from "@convos-pool/kit/content";
import { forEachLimited, type Logger } from "@convos-pool/kit/server";
import type { PoolTools } from "../tools/provisioning.js";
import { ReleaseTools, SyncFailure } from "./release-tools.js";
import { decodeRelease, type Release } from "../templates/release.js";
import {
  predatesBatchCalls,
  type BatchUpdateAnswer,
  type InstanceRef,
  type InstanceRuntime,
} from "../hosts/runtime.js";
import {
  dueInstances,
  loadRelease,
  loadRolloutRelease,
  recordApplied,
  recordFailures,
  returnDue,
  type Applied,
  type DueInstance,
} from "./sql.js";

export interface SyncWorkerOptions {
  em: EntityManager;
  runtime: InstanceRuntime;
  /** Pool tools: provisioned and released through it alone. */
  tools: PoolTools;
  /**
   * Numbers and mailboxes a new version may bring without a grant (the
   * pool's blanket allowance); any other is the operators' to allow at a
   * claim, never added by an update (docs/limits.md). Default none.
   */
  withoutGrant?: readonly string[] | undefined;
  log: Logger;
  /** Calls in flight at most (a host's batch is one call); default 64. */
  concurrency?: number | undefined;
  /** Agents of one host in one call at most; default 250. 1: one UpdateTemplate call per agent. */
  batchSize?: number | undefined;
  /** Time between due scans; default 1 s. */
  scanIntervalMs?: number | undefined;
}

/** An agent of a delivery, with its pool tools' credentials. */
interface Target {
  due: DueInstance;
  instance: InstanceRef;
  tools: ToolCredential[];
}

const MAX_REASON = 500;
/** How long a host that answered UNIMPLEMENTED to a batch gets one call per agent before it is asked again. */
const PER_AGENT_MS = 10 * 60_000;
/** Agents of a batch whose tools are read (and provisioned) at once. */
const TOOLS_CONCURRENCY = 8;

/** The reason stored in `sync_error`: the instance's (or our) message, bounded. */
function reasonOf(err: unknown): string {
  if (err instanceof SyncFailure) return err.message.slice(0, MAX_REASON);
  const e = ConnectError.from(err);
  const code = Code[e.code]?.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase() ?? "unknown";
  // A transport failure's message names internal addresses: owners and creators read this.
  if (e.code === Code.Unavailable || e.code === Code.DeadlineExceeded) {
    return `the instance did not answer (${code}); the update is delivered when it is back`;
  }
  return `the instance did not apply the update (${code}: ${e.rawMessage})`.slice(0, MAX_REASON);
}

export class SyncWorker {
  private readonly concurrency: number;
  private readonly batchSize: number;
  /** Due rows queued at most: enough to keep every slot busy, and to fill batches, until the next scan. */
  private readonly maxQueued: number;
  /** Hosts that do not take batches (UNIMPLEMENTED), until when. */
  private readonly perAgentHosts = new Map<string, number>();
  private readonly releaseTools: ReleaseTools;
  private readonly releases = new Map<string, Release>();
  /** Rollouts' candidates by template: the newest seen (keys only move forward, across rollouts too). */
  private readonly candidates = new Map<string, Release>();
  /** Instances with a delivery queued or in flight: never two at once for one instance. */
  private readonly busy = new Set<string>();
  /**
   * Deliveries finished since the current scan began: its read of the due rows
   * may predate what they recorded (applied, or failed with a backoff).
   */
  private readonly finishedSinceScan = new Set<string>();
  private queue: DueInstance[] = [];
  private active = 0;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** Applied versions waiting to be recorded: one query for all that finish together. */
  private toRecord: { done: Applied[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushQueued = false;

  constructor(private readonly opts: SyncWorkerOptions) {
    this.concurrency = opts.concurrency ?? 64;
    this.batchSize = Math.max(1, opts.batchSize ?? 250);
    this.maxQueued = this.concurrency * 16 + (this.batchSize > 1 ? this.batchSize * 16 : 0);
    this.releaseTools = new ReleaseTools(opts.em, opts.tools, opts.withoutGrant ?? []);
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.opts.scanIntervalMs ?? 1_000);
    this.timer.unref();
    this.kick();
  }

  /** Stops scanning, drops what is queued (still due in the database) and waits for deliveries in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const r of this.queue) this.busy.delete(r.id);
    // Taken from the database (sql.ts dueInstances) but not begun: due again now, not when their lease lapses.
    await returnDue(
      this.opts.em.fork(),
      this.queue.map((r) => r.id),
    ).catch((err: unknown) =>
      this.opts.log.warn("queued deliveries not given back; due when their lease lapses", { err }),
    );
    this.queue = [];
    await this.scanning?.catch(() => {});
    while (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** A newer release is held, or a rollout's candidate kept (a push): deliveries from now on send it. */
  offer(release: Release, opts: { rollout?: boolean } = {}): void {
    const cache = opts.rollout ? this.candidates : this.releases;
    const held = cache.get(release.templateId);
    if (!held || compareReleaseKeys(held.key, release.key) < 0) cache.set(release.templateId, release);
  }

  /** Resolves once a scan begun after this call is over and no delivery is in flight (tests). */
  async settled(): Promise<void> {
    await this.noScanRunning();
    this.kick();
    while (this.scanning || this.active > 0) {
      if (this.scanning) await this.scanning;
      else await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Resolves once no scan runs. A function of its own, so that settled() does not take `scanning` as still empty after kick() starts one. */
  private async noScanRunning(): Promise<void> {
    while (this.scanning) await this.scanning;
  }

  /** Scans for due work now (coalesced with a scan in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scan()
      .catch((err: unknown) => this.opts.log.warn("sync scan failed", { err }))
      .finally(() => {
        this.scanning = undefined;
        if (this.rescan) {
          this.rescan = false;
          this.kick();
        }
      });
  }

  private async scan(): Promise<void> {
    const free = this.maxQueued - this.queue.length;
    if (free <= 0) return;
    this.finishedSinceScan.clear();
    const due = await dueInstances(this.opts.em.fork(), free, [...this.busy]);
    if (this.stopped)
      return returnDue(
        this.opts.em.fork(),
        due.map((r) => r.id),
      );
    for (const r of due) {
      if (this.busy.has(r.id) || this.finishedSinceScan.has(r.id)) continue;
      this.busy.add(r.id);
      this.queue.push(r);
    }
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency) {
      const taken = this.takeBatch();
      if (!taken) break;
      const { batch, oneByOne } = taken;
      this.active++;
      void this.deliver(batch, oneByOne)
        .catch((err: unknown) =>
          this.opts.log.error("sync delivery failed unexpectedly", {
            instanceIds: batch.map((r) => r.id).join(","),
            err,
          }),
        )
        .finally(() => {
          this.active--;
          for (const r of batch) {
            this.busy.delete(r.id);
            this.finishedSinceScan.add(r.id);
          }
          if (this.active === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
          if (this.queue.length < Math.max(this.concurrency, this.batchSize)) this.kick();
          this.pump();
        });
    }
  }

  /** Whether deliveries to this host go in batches. */
  private batches(hostUrl: string): boolean {
    if (this.batchSize <= 1) return false;
    const until = this.perAgentHosts.get(hostUrl);
    if (until === undefined) return true;
    if (until > Date.now()) return false;
    this.perAgentHosts.delete(hostUrl);
    return true;
  }

  /**
   * The first queued delivery and, when its host takes batches, the others
   * queued for its host, template and target (held or rollout), in order;
   * else the first alone, one by one (one UpdateTemplate per agent).
   */
  private takeBatch(): { batch: [DueInstance, ...DueInstance[]]; oneByOne: boolean } | undefined {
    const first = this.queue.shift();
    if (!first) return undefined;
    if (!this.batches(first.hostUrl)) return { batch: [first], oneByOne: true };
    const batch: [DueInstance, ...DueInstance[]] = [first];
    const rest: DueInstance[] = [];
    for (const r of this.queue) {
      if (
        batch.length < this.batchSize &&
        r.hostUrl === first.hostUrl &&
        r.templateId === first.templateId &&
        r.rollout === first.rollout
      )
        batch.push(r);
      else rest.push(r);
    }
    this.queue = rest;
    return { batch, oneByOne: false };
  }

  /** Records applied versions: one query for all that finish together, across deliveries. */
  private record(done: Applied[]): Promise<void> {
    if (done.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.toRecord.push({ done, resolve, reject });
      if (this.flushQueued) return;
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        const batch = this.toRecord.splice(0);
        recordApplied(
          this.opts.em.fork(),
          batch.flatMap((b) => b.done),
        ).then(
          () => {
            for (const b of batch) b.resolve();
          },
          (err: unknown) => {
            for (const b of batch) b.reject(err);
          },
        );
      });
    });
  }

  /** The newest held release of a template (or its rollout's candidate), at least at `key`. */
  private async release(templateId: string, key: number[], rollout: boolean): Promise<Release> {
    const cached = (rollout ? this.candidates : this.releases).get(templateId);
    if (cached && compareReleaseKeys(cached.key, key) >= 0) return cached;
    const em = this.opts.em.fork();
    const candidate = rollout ? await loadRolloutRelease(em, templateId) : undefined;
    // A rollout that ended since the scan: the held release, which its agents follow now.
    const row = candidate ?? (await loadRelease(em, templateId));
    if (!row) throw new Error(`no release held for template ${templateId}`);
    const loaded = decodeRelease(row.release, row.bases);
    this.offer(loaded, { rollout: candidate !== undefined });
    // The one held now: this, or a newer one a push brought meanwhile.
    return (candidate ? this.candidates : this.releases).get(templateId) ?? loaded;
  }

  /**
   * One release to due agents of one host and template: each agent's pool
   * tools first (ReleaseTools.credentials); then one InstanceHostService.UpdateTemplates
   * call for them all, or one UpdateTemplate each (`oneByOne`); then each
   * agent's answer recorded (applied, or a failure with its own reason and
   * backoff), all of the delivery's in two queries; then the tools no
   * longer declared are released. A failed agent is retried alone, later,
   * with its backoff.
   */
  private async deliver(batch: [DueInstance, ...DueInstance[]], oneByOne: boolean): Promise<void> {
    const { em, runtime, log } = this.opts;
    const [first] = batch;
    const newest = batch.reduce(
      (key, r) => (compareReleaseKeys(r.releaseKey, key) > 0 ? r.releaseKey : key),
      first.releaseKey,
    );
    const release = await this.release(first.templateId, newest, first.rollout);
    const failures: { instanceId: string; reason: string }[] = [];
    const fail = (due: DueInstance, err: unknown) => {
      const reason = reasonOf(err);
      failures.push({ instanceId: due.id, reason });
      log.warn("template update not delivered; retrying later", {
        instanceId: due.id,
        templateId: due.templateId,
        version: release.key.join("."),
        reason,
      });
    };
    const targets: Target[] = [];
    await forEachLimited(batch, TOOLS_CONCURRENCY, async (due) => {
      try {
        const tools =
          due.tools > 0 || release.poolTools.length > 0 ? await this.releaseTools.credentials(due.id, release) : [];
        targets.push({ due, instance: { id: due.id, hostUrl: due.hostUrl, inboxId: due.inboxId }, tools });
      } catch (err) {
        fail(due, err);
      }
    });
    let answers: BatchUpdateAnswer[] = [];
    try {
      answers = await this.send(release, first.hostUrl, targets, oneByOne);
    } catch (err) {
      for (const t of targets) fail(t.due, err);
    }
    const applied: Applied[] = [];
    await forEachLimited(answers, TOOLS_CONCURRENCY, async (answer, i) => {
      const target = targets[i];
      if (!target) throw new Error(`${answers.length} answers to ${targets.length} updates of ${first.hostUrl}`);
      const { due, instance } = target;
      let key: number[];
      let model = "";
      let trustLevel = 0;
      if ("applied" in answer) {
        ({ appliedKey: key, model, trustLevel } = answer.applied);
      } else {
        // Not newer than what it applied: our record is behind (an answer lost, or a newer release applied). Ask it.
        if (answer.error.code !== Code.FailedPrecondition) return fail(due, answer.error);
        try {
          key = (await runtime.health(instance)).appliedKey;
        } catch (err) {
          return fail(due, err);
        }
        if (compareReleaseKeys(key, release.key) < 0) return fail(due, answer.error);
      }
      applied.push({
        instanceId: due.id,
        applied: key,
        model,
        releaseKey: release.key,
        defaultModel: release.defaultModel,
        trustLevel,
      });
    });
    await this.record(applied);
    await recordFailures(em.fork(), failures);
    log.debug("template update applied", {
      hostUrl: first.hostUrl,
      templateId: first.templateId,
      version: release.key.join("."),
      applied: applied.length,
      failed: failures.length,
    });
    const byId = new Map(batch.map((r) => [r.id, r]));
    for (const a of applied) {
      const due = byId.get(a.instanceId);
      if (compareReleaseKeys(a.applied, release.key) >= 0 && due && due.tools > 0)
        await this.releaseTools.releaseUndeclared(a.instanceId, release);
    }
  }

  /**
   * The release to the targets: one UpdateTemplates call, or one
   * UpdateTemplate per agent, in order. Their answers, in the targets'
   * order; throws what failed the whole batch call. A host that predates
   * UpdateTemplates gets one call per agent, as before, for a while.
   */
  private async send(
    release: Release,
    hostUrl: string,
    targets: Target[],
    oneByOne: boolean,
  ): Promise<BatchUpdateAnswer[]> {
    const { runtime, log } = this.opts;
    if (targets.length === 0) return [];
    if (!oneByOne) {
      try {
        return await runtime.updateTemplates(
          hostUrl,
          release.message,
          release.bases,
          targets.map(({ instance, tools }) => ({ instance, tools })),
        );
      } catch (err) {
        if (!predatesBatchCalls(err)) throw err;
        log.info("instance host takes no batched updates; one call per agent", { hostUrl });
        this.perAgentHosts.set(hostUrl, Date.now() + PER_AGENT_MS);
      }
    }
    const answers: BatchUpdateAnswer[] = [];
    for (const { instance, tools } of targets) {
      answers.push(
        await runtime.updateTemplate(instance, release.message, tools, release.bases).then(
          (applied) => ({ instanceId: instance.id, applied }),
          (err: unknown) => ({ instanceId: instance.id, error: ConnectError.from(err) }),
        ),
      );
    }
    return answers;
  }
}
