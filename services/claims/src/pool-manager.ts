/**
 * The warm pool: keeps `target` instances idle on the instance hosts, checks
 * their health against what each host reports, and replaces the ones that
 * crashed or died (docs/claims.md, "Warm pool").
 *
 * One pass (`reconcile`), run every `intervalMs`:
 *  1. health: each host's ListInstances against our rows on that host:
 *     an idle or starting instance the host no longer runs, or reports
 *     crashed/dead, is marked crashed; a claimed one too (logged: its owner's
 *     agent is down; restarting claimed instances is the host's job);
 *     versions the host reports applied that are newer than ours are
 *     recorded (instruction sync's lost answers), and a claimed instance
 *     back from a crash or an unreachable host has its pending update made due;
 *     The idle instances of a host that does not answer are set aside as
 *     crashed (claims skip them), and idle again if it comes back running them;
 *  2. replace: crashed instances that were idle, and dead ones (rolled-back
 *     claims) the host still runs, are stopped with their workspace destroyed
 *     and left dead; their wallet indexes are never reused. Instances of ours
 *     that a host runs under another address than recorded (it restarted on
 *     a new port) move with it; ones we have no row for are stopped, kept;
 *     An idle instance on a host an operator drains (`instance_hosts`,
 *     hosts-cli.ts) is dead and stopped the same way, and replaced elsewhere;
 *     claimed agents on it stay where they are (docs/scaling.md, "Draining");
 *  3. fill: new instances until `target` are idle or starting, each a row
 *     (`starting`, wallet index from the sequence), StartInstance on the
 *     host with the most room (fewest instances for its size, as its
 *     ListInstances says; not a draining or unreachable one), then `idle`
 *     with its inbox.
 * Every state change is a guarded update (`where state in (...)`): a claim
 * that takes an idle instance in the meantime wins, the pass skips it.
 *
 * Replicas (docs/scaling.md): every claims replica runs a manager, and a pass
 * runs under the `pool-manager` lease (leases.ts), so two never overlap: each
 * pass sees what the last did, whichever replica ran it, and the pool is
 * filled to its target once, not once per replica. The lease is renewed while
 * the pass runs and given up at its end; a replica killed mid-pass lets it
 * lapse after `leaseSeconds`, and the next replica to look takes over.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  createServiceClient,
  randomId,
  type ClientCredentials,
  type Logger,
  type ServiceClient,
} from "@convos-pool/kit";
import type { InstanceStateName } from "./entities.js";
import {
  adoptInstances,
  drainingHosts,
  knownInstanceIds,
  markIdle,
  orphanInstances,
  parkIdle,
  registerInstance,
  setState,
} from "./instances.js";
import { acquireLease, releaseLease, renewLease } from "./leases.js";
import { makeDue, recordHostVersions } from "./sync-sql.js";

export interface HostedInstance {
  instanceId: string;
  inboxId: string;
  state: InstanceState;
  /** The template version it has applied (0 before its first configure). */
  /** The key of the release it has applied (its template's version, then its bases'). */
  appliedKey: number[];
}

/** What a host runs, and how many it may (0: it did not say). */
export interface HostListing {
  instances: HostedInstance[];
  maxInstances: number;
}

/** What the pool asks of an instance host (InstanceHostService). */
export interface InstanceHost {
  readonly url: string;
  start(instanceId: string, walletIndex: number): Promise<{ inboxId: string }>;
  stop(instanceId: string, destroy: boolean): Promise<void>;
  list(): Promise<HostListing>;
}

/** A host that does not say its size (ListInstancesResponse.max_instances 0) is taken to hold the instance host's default. */
export const DEFAULT_HOST_CAPACITY = 1000;

/** The lease a pass runs under (leases.ts). */
export const POOL_LEASE = "pool-manager";

export class GrpcInstanceHost implements InstanceHost {
  private readonly c: ServiceClient<typeof InstanceHostService>;

  constructor(
    readonly url: string,
    credentials: ClientCredentials,
    private readonly timeoutMs = 60_000,
  ) {
    this.c = createServiceClient(InstanceHostService, url, credentials);
  }

  async start(instanceId: string, walletIndex: number) {
    const res = await this.c.client.startInstance({ instanceId, walletIndex }, { timeoutMs: this.timeoutMs });
    return { inboxId: res.inboxId };
  }

  async stop(instanceId: string, destroy: boolean) {
    await this.c.client.stopInstance({ instanceId, destroy }, { timeoutMs: this.timeoutMs });
  }

  async list() {
    const res = await this.c.client.listInstances({}, { timeoutMs: 10_000 });
    return {
      instances: res.instances.map((i) => ({
        instanceId: i.instanceId,
        inboxId: i.inboxId,
        state: i.state,
        appliedKey: [i.appliedTemplateVersion, ...i.appliedBaseVersions].map(Number),
      })),
      maxInstances: res.maxInstances,
    };
  }

  close(): void {
    this.c.close();
  }
}

export interface PoolManagerOptions {
  em: EntityManager;
  hosts: InstanceHost[];
  /** How many instances to keep idle (or starting). */
  target: number;
  log: Logger;
  /** Time between passes; default 5 s. */
  intervalMs?: number;
  /** Instances started at once per pass; default 8. */
  startConcurrency?: number;
  /**
   * A `starting` row older than this (its manager died mid-start, since a
   * start takes a second or two) is idle if its host runs it idle, else
   * dead; default 30 s. Until then it counts toward the target.
   */
  stuckStartingSeconds?: number;
  /** Called when a pass made instruction-sync work due (instances reachable again). */
  onSyncDue?: () => void;
  /**
   * How long the pass's lease lasts unrenewed: how soon another replica
   * takes over from one killed mid-pass; default 15 s, renewed every third of it.
   */
  leaseSeconds?: number;
}

export interface PassReport {
  /** False when another replica held the lease: this pass did nothing. */
  ran: boolean;
  started: number;
  crashed: number;
  replaced: number;
  failedStarts: number;
  unreachableHosts: string[];
  /** Claimed instances back (from a crash or an unreachable host) whose pending template update became due. */
  syncDue: number;
  /** Idle instances stopped on draining hosts (replaced elsewhere by the fill). */
  drained: number;
}

interface Row {
  id: string;
  state: InstanceStateName;
  owned: boolean;
  stuck: boolean;
}

const GONE = new Set([InstanceState.CRASHED, InstanceState.DEAD]);

export class PoolManager {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PassReport> | undefined;
  private stopped = false;
  /** This replica, as the lease names it. */
  readonly holder = randomId("mgr");

  constructor(private readonly opts: PoolManagerOptions) {
    if (opts.hosts.length === 0) throw new Error("PoolManager: at least one instance host");
  }

  /** Runs a pass now and then every intervalMs. */
  start(): void {
    const tick = () => {
      void this.reconcile()
        .catch((err: unknown) => this.opts.log.warn("pool pass failed", { err }))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs ?? 5_000).unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }

  /** One pass; concurrent callers share the pass in progress. */
  reconcile(): Promise<PassReport> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<PassReport> {
    const { em, log } = this.opts;
    const report: PassReport = {
      ran: false,
      started: 0,
      crashed: 0,
      replaced: 0,
      failedStarts: 0,
      unreachableHosts: [],
      syncDue: 0,
      drained: 0,
    };
    const seconds = this.opts.leaseSeconds ?? 15;
    const held = await acquireLease(em.fork(), POOL_LEASE, this.holder, seconds);
    if (!held) return report; // another replica's pass is running
    report.ran = true;
    const renewer = setInterval(
      () => {
        renewLease(em.fork(), POOL_LEASE, this.holder, seconds).then(
          (still) =>
            !still && log.warn("the pool manager's lease lapsed during its pass; another replica may run one too"),
          (err: unknown) => log.warn("the pool manager's lease was not renewed", { err }),
        );
      },
      (seconds * 1000) / 3,
    );
    renewer.unref();
    // Hosts the last pass (on any replica) could not reach: their claimed instances are "back" when they answer.
    const unreachable = new Set(Array.isArray(held.memo.unreachable) ? (held.memo.unreachable as string[]) : []);
    try {
      await this.work(report, unreachable);
    } finally {
      clearInterval(renewer);
      await releaseLease(em.fork(), POOL_LEASE, this.holder, { unreachable: report.unreachableHosts }).catch(
        (err: unknown) => log.warn("the pool manager's lease was not given up; it lapses", { err }),
      );
    }
    if (report.started || report.crashed || report.replaced || report.failedStarts || report.syncDue || report.drained)
      log.info("pool pass", { ...report });
    return report;
  }

  private async work(report: PassReport, unreachable: Set<string>): Promise<void> {
    const { em, log } = this.opts;
    const back: string[] = [];
    const hostCounts = new Map<string, number>();
    const capacity = new Map<string, number>();
    const draining = await drainingHosts(em.fork());

    // 1 and 2: health and replacement, host by host.
    for (const host of this.opts.hosts) {
      let listed: HostedInstance[];
      try {
        const listing = await host.list();
        listed = listing.instances;
        capacity.set(host.url, listing.maxInstances || DEFAULT_HOST_CAPACITY);
      } catch (err) {
        // A host that does not answer keeps its instances as they are (it may be
        // restarting), but its idle ones are set aside (`crashed`) so that claims
        // take idle ones elsewhere and the fill replaces them; no new instances go there.
        report.unreachableHosts.push(host.url);
        const parked = await parkIdle(em.fork(), host.url);
        log.warn("instance host unreachable", { host: host.url, idleSetAside: parked, err });
        continue;
      }
      const hosted = new Map(listed.map((i) => [i.instanceId, i.state]));
      const wasUnreachable = unreachable.has(host.url);
      const drainingHere = draining.has(host.url);
      hostCounts.set(host.url, hosted.size);
      const rows = await em.fork().execute<Row[]>(
        `select id, state, owner_id is not null as owned,
           (state = 'starting' and updated_at < now() - make_interval(secs => ?)) as stuck
         from instances where host_url = ? and state <> 'dead'`,
        [this.opts.stuckStartingSeconds ?? 30, host.url],
      );
      const known = new Set<string>();
      for (const r of rows) {
        const onHost = hosted.get(r.id);
        const healthy = onHost !== undefined && !GONE.has(onHost);
        if (r.state === "idle" && healthy && drainingHere) {
          // Draining: not kept here. Dead (a claim that takes it first wins), then stopped with the
          // other dead ones the host runs, below; the fill starts its replacement elsewhere.
          if (await setState(em.fork(), r.id, ["idle"], "dead")) {
            report.drained++;
            continue;
          }
          known.add(r.id);
          continue;
        }
        if (r.state === "idle" || r.state === "claimed") {
          if (healthy) {
            known.add(r.id);
            if (r.state === "claimed" && wasUnreachable) back.push(r.id);
            continue;
          }
          if (!(await setState(em.fork(), r.id, [r.state], "crashed"))) {
            known.add(r.id); // a claim took it meanwhile
            continue;
          }
          report.crashed++;
          r.state = "crashed";
          if (r.owned) log.error("a claimed instance crashed", { instanceId: r.id, host: host.url });
          else log.warn("an idle instance crashed", { instanceId: r.id, host: host.url });
        }
        if (r.state === "crashed" && r.owned) {
          // The owner's agent: never replaced behind their back; back to claimed once its host runs it again.
          known.add(r.id);
          if (healthy && (await setState(em.fork(), r.id, ["crashed"], "claimed"))) {
            log.info("a claimed instance recovered", { instanceId: r.id });
            back.push(r.id);
          }
          continue;
        }
        if (r.state === "crashed" && onHost === InstanceState.IDLE) {
          // Set aside while its host did not answer, and idle there: back in the pool.
          if (await setState(em.fork(), r.id, ["crashed"], "idle")) known.add(r.id);
          continue;
        }
        if (r.state === "crashed") {
          // Replaced: dead for good (its wallet index is never reused); the fill below starts another.
          if (await setState(em.fork(), r.id, ["crashed"], "dead")) report.replaced++;
          continue;
        }
        if (r.state === "starting" && r.stuck) {
          // Its StartInstance's answer was lost (the manager died mid-start): the host says how it went.
          const started = listed.find((i) => i.instanceId === r.id);
          if (started && onHost === InstanceState.IDLE && (await markIdle(em.fork(), r.id, started.inboxId))) {
            log.info("a started instance whose start was not recorded is idle", { instanceId: r.id });
            known.add(r.id);
          } else {
            await setState(em.fork(), r.id, ["starting"], "dead");
          }
          continue;
        }
        known.add(r.id); // starting, claiming
      }
      // Updates applied whose answer we never got (the instance reports a newer version than ours).
      await recordHostVersions(
        em.fork(),
        listed.filter((i) => known.has(i.instanceId)).map((i) => ({ instanceId: i.instanceId, applied: i.appliedKey })),
      );
      // Ours, recorded on another address: the host moved (a restart on a new port). Its rows follow it.
      const strangers = [...hosted.keys()].filter((id) => !known.has(id));
      for (const moved of await adoptInstances(em.fork(), host.url, strangers)) {
        known.add(moved.id);
        if (moved.state === "claimed" || moved.state === "crashed") back.push(moved.id);
        log.info("an instance moved to another host address", {
          instanceId: moved.id,
          host: host.url,
          state: moved.state,
        });
      }
      // What the host runs that is not a live instance of ours is stopped: a dead one (rolled back,
      // replaced) with its workspace destroyed; one we have no row for is kept on disk, since it may
      // be someone's agent this database does not know (restored from an older backup, say).
      const ours = await knownInstanceIds(em.fork(), strangers);
      for (const id of strangers) {
        if (known.has(id)) continue;
        const destroy = ours.has(id);
        try {
          await host.stop(id, destroy);
          hostCounts.set(host.url, (hostCounts.get(host.url) ?? 1) - 1);
          if (!destroy)
            log.warn("stopped an instance this pool has no record of; its workspace is kept", {
              instanceId: id,
              host: host.url,
            });
        } catch (err) {
          log.warn("could not stop an instance", { instanceId: id, host: host.url, err });
        }
      }
    }

    // Rows on an address no configured host has (a host that moved took its instances above):
    // nobody runs them. Known only once every host answered, since the one missing may hold them.
    if (report.unreachableHosts.length === 0) {
      const orphans = await orphanInstances(
        em.fork(),
        this.opts.hosts.map((h) => h.url),
      );
      for (const o of orphans) {
        if (o.state === "crashed") log.error("a claimed instance has no host", { instanceId: o.id });
        else report.replaced++;
      }
    }

    report.syncDue = await makeDue(em.fork(), back);
    if (report.syncDue > 0) this.opts.onSyncDue?.();

    // 3: fill up to the target.
    const [{ n } = { n: 0 }] = await em
      .fork()
      .execute<{ n: number }[]>(`select count(*)::int as n from instances where state in ('idle', 'starting')`);
    let remaining = Math.max(0, this.opts.target - Number(n));
    // Where new instances may go: hosts that answered and are not draining.
    const open = this.opts.hosts.filter((h) => hostCounts.has(h.url) && !draining.has(h.url));
    const worker = async () => {
      while (remaining > 0 && !this.stopped) {
        const host = roomiest(open, hostCounts, capacity);
        if (!host) {
          log.warn("no instance host has room for another instance", { hosts: open.length, missing: remaining });
          remaining = 0;
          return;
        }
        remaining--;
        hostCounts.set(host.url, (hostCounts.get(host.url) ?? 0) + 1);
        if (await this.startOne(host)) report.started++;
        else report.failedStarts++;
      }
    };
    if (open.length > 0)
      await Promise.all(Array.from({ length: Math.min(remaining, this.opts.startConcurrency ?? 8) }, worker));
  }

  private async startOne(host: InstanceHost): Promise<boolean> {
    const { em, log } = this.opts;
    const { id, walletIndex } = await registerInstance(em.fork(), host.url);
    try {
      const { inboxId } = await host.start(id, walletIndex);
      if (await markIdle(em.fork(), id, inboxId)) return true;
    } catch (err) {
      log.warn("instance did not start", { instanceId: id, host: host.url, err });
    }
    await setState(em.fork(), id, ["starting"], "dead");
    await host.stop(id, true).catch(() => {});
    return false;
  }
}

/**
 * Placement: the host with the most room, as the share of its size it
 * runs (`count / capacity`: a host twice the size takes twice the
 * instances); none when every one is full. Ties go to the first listed.
 */
export function roomiest<H extends { url: string }>(
  hosts: H[],
  counts: Map<string, number>,
  capacity: Map<string, number>,
): H | undefined {
  let best: H | undefined;
  let bestLoad = Infinity;
  for (const h of hosts) {
    const size = capacity.get(h.url) ?? DEFAULT_HOST_CAPACITY;
    const count = counts.get(h.url) ?? 0;
    if (count >= size) continue;
    const load = count / size;
    if (load < bestLoad) {
      best = h;
      bestLoad = load;
    }
  }
  return best;
}
