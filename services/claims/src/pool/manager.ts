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
 *     and left dead; their wallet indexes are never reused. Once every host
 *     was listed, what a host runs that is not recorded there is settled
 *     (policy.ts `strangerStep`): ours recorded on an address no configured
 *     host has (it restarted on a new port) move with it; ours recorded on a
 *     lost host are the host mover's; a copy of an agent its recorded host
 *     runs is destroyed; ones we have no row for are stopped, kept;
 *     An idle instance on a host an operator drains (`instance_hosts`,
 *     host-commands.ts) is dead and stopped the same way, and replaced elsewhere;
 *     claimed agents on it stay where they are (docs/scaling.md, "Draining");
 *     A host lost for good (lost-hosts.ts: marked by an operator, or here once
 *     it has not answered for `lostAfterSeconds`) is treated as draining, and
 *     what it runs that we placed elsewhere (its agents moved by the host
 *     mover, host-mover.ts) is stopped and destroyed there, never adopted;
 *  3. fill: new instances until `target` are idle or starting, each a row
 *     (`starting`, wallet index from the sequence), StartInstance on the
 *     host with the most free places (fewest instances for its size, as its
 *     ListInstances says; not a draining or unreachable one), then `idle`
 *     with its inbox (fill.ts).
 * Every state change is a guarded update (`where state in (...)`): a claim
 * that takes an idle instance in the meantime wins, the pass skips it. What
 * each row becomes, and where new instances go, is decided pure
 * (policy.ts); a pass applies it.
 *
 * Replicas (docs/scaling.md): every claims replica runs a manager, and a pass
 * runs under the `pool-manager` lease (leases.ts), so two never overlap: each
 * pass sees what the last did, whichever replica ran it, and the pool is
 * filled to its target once, not once per replica. The lease is renewed while
 * the pass runs and given up at its end; a replica killed mid-pass lets it
 * lapse after `leaseSeconds`, and the next replica to look takes over.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { randomId } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import type { HostedInstance, HostRuntime, InstanceHost } from "../hosts/instance-host.js";
import {
  adoptInstances,
  markIdle,
  orphanInstances,
  parkIdle,
  recordConversationNames,
  recordedHosts,
  setState,
} from "./sql.js";
import { fillPool } from "./fill.js";
import { acquireLease, releaseLease, renewLease } from "./leases.js";
import { DEFAULT_HOST_LOST_AFTER_SECONDS, hostMarks, hostSeen, markLostIfSilent } from "./lost-hosts.js";
import {
  DEFAULT_HOST_CAPACITY,
  decideRow,
  type HostView,
  type PoolRow,
  type RowAction,
  strangerStep,
} from "./policy.js";
import { makeDue, recordHostVersions } from "../sync/sql.js";
import { RepeatedPass } from "./repeated-pass.js";

// The host client, where the server and the tests import it from.
export { GrpcInstanceHost } from "../hosts/instance-host.js";

/** The lease a pass runs under (leases.ts). */
export const POOL_LEASE = "pool-manager";

export interface PoolManagerOptions {
  em: EntityManager;
  hosts: InstanceHost[];
  /** How many instances to keep idle (or starting). */
  target: number;
  log: Logger;
  /** Time between passes; default 5 s. */
  intervalMs?: number | undefined;
  /** Instances started at once per pass; default 8. */
  startConcurrency?: number | undefined;
  /**
   * A `starting` row older than this (its manager died mid-start, since a
   * start takes a second or two) is idle if its host runs it idle, else
   * dead; default 30 s. Until then it counts toward the target.
   */
  stuckStartingSeconds?: number | undefined;
  /** Called when a pass made instruction-sync work due (instances reachable again). */
  onSyncDue?: () => void;
  /**
   * How long the pass's lease lasts unrenewed: how soon another replica
   * takes over from one killed mid-pass; default 15 s, renewed every third of it.
   */
  leaseSeconds?: number | undefined;
  /**
   * A host that has not answered for this long is lost for good
   * (HOST_LOST_AFTER_SECONDS; lost-hosts.ts); 0: never by itself, only an
   * operator marks it. Default DEFAULT_HOST_LOST_AFTER_SECONDS.
   */
  lostAfterSeconds?: number | undefined;
  /** Called when a pass marked a host lost (the host mover starts at once). */
  onHostLost?: (url: string) => void;
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
  /** Hosts this pass marked lost for good (silent for `lostAfterSeconds`). */
  lostHosts: string[];
}

interface Row extends PoolRow {
  id: string;
}

/** What a pass gathers as it goes from host to host. */
interface Pass {
  report: PassReport;
  /** Claimed instances back (recovered, moved, or on a host that answers again): their pending updates become due. */
  back: string[];
  /** How many instances each host that answered runs, as the fill counts them. */
  counts: Map<string, number>;
  /** Each answering host's size. */
  capacity: Map<string, number>;
  /** What each answering host's agents run on. */
  runtime: Map<string, HostRuntime>;
  /** What each answering host runs, by instance id. */
  listed: Map<string, Set<string>>;
  /** What each answering host runs that is none of its live rows: settled once every host was listed. */
  strangers: { host: InstanceHost; ids: string[]; lost: boolean }[];
}

/** Kicked when hosts just came up (npm start starts them after this service). */
export class PoolManager extends RepeatedPass<PassReport> {
  /** This replica, as the lease names it. */
  readonly holder = randomId("mgr");

  constructor(private readonly opts: PoolManagerOptions) {
    if (opts.hosts.length === 0) throw new Error("PoolManager: at least one instance host");
    super(opts, "pool pass failed");
  }

  /** One pass; concurrent callers share the pass in progress. */
  reconcile(): Promise<PassReport> {
    return this.runNow();
  }

  protected async pass(): Promise<PassReport> {
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
      lostHosts: [],
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
    if (
      report.started ||
      report.crashed ||
      report.replaced ||
      report.failedStarts ||
      report.syncDue ||
      report.drained ||
      report.lostHosts.length
    )
      log.info("pool pass", { ...report });
    return report;
  }

  private async work(report: PassReport, unreachable: Set<string>): Promise<void> {
    const { em, log } = this.opts;
    const pass: Pass = {
      report,
      back: [],
      counts: new Map(),
      capacity: new Map(),
      runtime: new Map(),
      listed: new Map(),
      strangers: [],
    };
    const marks = await hostMarks(em.fork());
    // A lost host is drained: no new instances there, its idle ones replaced.
    const closed = new Set([...marks.draining, ...marks.lost]);

    // 1 and 2: health and replacement, host by host.
    for (const host of this.opts.hosts) {
      await this.checkHost(
        host,
        pass,
        { draining: closed.has(host.url), wasUnreachable: unreachable.has(host.url) },
        marks.lost.has(host.url),
      );
    }
    for (const s of pass.strangers) await this.settleStrangers(s.host, pass, s.ids, s.lost, marks.lost);

    // Rows on an address no configured host has (a host that moved took its instances above):
    // nobody runs them. Known only once every host answered, since the one missing may hold them;
    // a lost host that does not answer holds nothing to adopt (its agents move, host-mover.ts).
    if (report.unreachableHosts.every((url) => marks.lost.has(url))) {
      const orphans = await orphanInstances(
        em.fork(),
        this.opts.hosts.map((h) => h.url),
      );
      for (const o of orphans) {
        if (o.state === "crashed") log.error("a claimed instance has no host", { instanceId: o.id });
        else report.replaced++;
      }
    }

    report.syncDue = await makeDue(em.fork(), pass.back);
    if (report.syncDue > 0) this.opts.onSyncDue?.();

    // 3: fill up to the target.
    await fillPool(this.opts, pass, closed, () => this.stopped);
  }

  /** One host's listing against our rows on it: each row's step (policy.ts), then what the host runs that is not ours. */
  private async checkHost(
    host: InstanceHost,
    pass: Pass,
    view: Omit<HostView, "onHost">,
    lost: boolean,
  ): Promise<void> {
    const { em, log } = this.opts;
    let listed: HostedInstance[];
    try {
      const listing = await host.list();
      listed = listing.instances;
      pass.capacity.set(host.url, listing.maxInstances || DEFAULT_HOST_CAPACITY);
      pass.runtime.set(host.url, listing.runtime ?? "pool");
    } catch (err) {
      // A host that does not answer keeps its instances as they are (it may be
      // restarting), but its idle ones are set aside (`crashed`) so that claims
      // take idle ones elsewhere and the fill replaces them; no new instances go there.
      pass.report.unreachableHosts.push(host.url);
      const parked = await parkIdle(em.fork(), host.url);
      log.warn("instance host unreachable", { host: host.url, idleSetAside: parked, err });
      const marked = await markLostIfSilent(
        em.fork(),
        host.url,
        this.opts.lostAfterSeconds ?? DEFAULT_HOST_LOST_AFTER_SECONDS,
      );
      if (marked) {
        pass.report.lostHosts.push(host.url);
        log.error("instance host lost for good: its claimed agents move to other hosts", {
          host: host.url,
          afterSeconds: this.opts.lostAfterSeconds ?? DEFAULT_HOST_LOST_AFTER_SECONDS,
          unmovable: marked.unmovable,
        });
        this.opts.onHostLost?.(host.url);
      }
      return;
    }
    await hostSeen(em.fork(), host.url);
    const hosted = new Map(listed.map((i) => [i.instanceId, i]));
    pass.counts.set(host.url, hosted.size);
    pass.listed.set(host.url, new Set(hosted.keys()));
    const rows = await em.fork().execute<Row[]>(
      `select id, state, owner_id is not null as owned,
         (state = 'starting' and updated_at < now() - make_interval(secs => ?)) as stuck
       from instances where host_url = ? and state <> 'dead'`,
      [this.opts.stuckStartingSeconds ?? 30, host.url],
    );
    const known = new Set<string>();
    for (const r of rows) {
      const onHost = hosted.get(r.id);
      const action = decideRow(r, { ...view, onHost: onHost?.state });
      if (await this.apply(r, action, host.url, onHost, pass)) known.add(r.id);
    }
    // Updates applied whose answer we never got (the instance reports a newer version than ours).
    await recordHostVersions(
      em.fork(),
      listed.filter((i) => known.has(i.instanceId)).map((i) => ({ instanceId: i.instanceId, applied: i.appliedKey })),
    );
    // Names of conversations, as the agents read them from their groups: an owner tells their agents apart by them.
    await recordConversationNames(
      em.fork(),
      listed
        .filter((i) => known.has(i.instanceId))
        .map((i) => ({ instanceId: i.instanceId, name: i.conversationName, others: i.conversationNames })),
    );
    const strangers = [...hosted.keys()].filter((id) => !known.has(id));
    if (strangers.length > 0) pass.strangers.push({ host, ids: strangers, lost });
  }

  /**
   * Applies a row's step: the guarded update with its log and count.
   * Whether the row is still one of the host's live instances of ours
   * (what the host runs that is not is stopped).
   */
  private async apply(
    r: Row,
    action: RowAction,
    hostUrl: string,
    onHost: HostedInstance | undefined,
    pass: Pass,
  ): Promise<boolean> {
    const { em, log } = this.opts;
    const { report } = pass;
    switch (action.kind) {
      case "keep":
        if (action.back) pass.back.push(r.id);
        return true;
      case "drain":
        // A claim that takes it first wins.
        if (!(await setState(em.fork(), r.id, ["idle"], "dead"))) return true;
        report.drained++;
        return false;
      case "crash":
        if (!(await setState(em.fork(), r.id, [r.state], "crashed"))) return true; // a claim took it meanwhile
        report.crashed++;
        if (r.owned) log.error("a claimed instance crashed", { instanceId: r.id, host: hostUrl });
        else log.warn("an idle instance crashed", { instanceId: r.id, host: hostUrl });
        return this.apply({ ...r, state: "crashed" }, action.next, hostUrl, onHost, pass);
      case "recover":
        if (await setState(em.fork(), r.id, ["crashed"], "claimed")) {
          log.info("a claimed instance recovered", { instanceId: r.id });
          pass.back.push(r.id);
        }
        return true;
      case "reidle":
        return setState(em.fork(), r.id, ["crashed"], "idle");
      case "replace":
        if (await setState(em.fork(), r.id, ["crashed"], "dead")) report.replaced++;
        return false;
      case "idleFromLostStart":
        // Its StartInstance's answer was lost (the manager died mid-start): the host says it went well.
        if (!onHost) throw new Error(`instance ${r.id}: decided idle from its host's listing, which lacks it`);
        if (await markIdle(em.fork(), r.id, onHost.inboxId)) {
          log.info("a started instance whose start was not recorded is idle", { instanceId: r.id });
          return true;
        }
        await setState(em.fork(), r.id, ["starting"], "dead");
        return false;
      case "abandonStart":
        await setState(em.fork(), r.id, ["starting"], "dead");
        return false;
    }
  }

  /**
   * What the host runs that is not a live instance of ours on it, each as
   * policy.ts `strangerStep` says, from where its row is and whether that
   * host (listed earlier in this pass) runs it. Ours, recorded on an address
   * no configured host has: the host moved (a restart on a new port), and its
   * rows follow it. Ours, recorded on a lost host: a move under way, left to
   * the host mover. A copy of an agent its recorded host runs, a dead one (rolled
   * back, replaced) and anything of ours on a lost host: stopped and destroyed.
   * One we have no row for is stopped and kept on disk, since it may be
   * someone's agent this database does not know (restored from an older
   * backup, say).
   */
  private async settleStrangers(
    host: InstanceHost,
    pass: Pass,
    strangers: string[],
    lost: boolean,
    lostHosts: ReadonlySet<string>,
  ): Promise<void> {
    const { em, log } = this.opts;
    const rows = await recordedHosts(em.fork(), strangers);
    const configured = new Set(this.opts.hosts.map((h) => h.url));
    const adopt: string[] = [];
    for (const id of strangers) {
      const row = rows.get(id);
      const step = strangerStep({
        row,
        hereLost: lost,
        recordedHere: row?.hostUrl === host.url,
        recordedConfigured: row !== undefined && configured.has(row.hostUrl),
        recordedLost: row !== undefined && lostHosts.has(row.hostUrl),
        recordedRuns: row && pass.listed.get(row.hostUrl)?.has(id),
      });
      if (step === "adopt") adopt.push(id);
      else if (step === "leave") {
        if (row && row.hostUrl !== host.url && !lostHosts.has(row.hostUrl))
          log.warn(
            "an instance of ours runs on a host other than its own, which does not say it runs it; left as it is",
            {
              instanceId: id,
              host: host.url,
              recordedOn: row?.hostUrl,
            },
          );
      } else {
        const destroy = step === "destroy";
        try {
          await host.stop(id, destroy);
          pass.counts.set(host.url, (pass.counts.get(host.url) ?? 1) - 1);
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
    for (const m of await adoptInstances(em.fork(), host.url, adopt)) {
      if (m.state === "claimed" || m.state === "crashed") pass.back.push(m.id);
      log.info("an instance moved to another host address", { instanceId: m.id, host: host.url, state: m.state });
    }
  }
}
