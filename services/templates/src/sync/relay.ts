import { ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { createServiceClient, type ClientCredentials, type Logger } from "@convos-pool/kit/server";
import { acknowledgeOutboxRow, deferOutboxRow, returnOutboxRow, takeDueOutboxRows, type OutboxRow } from "./outbox.js";
import { releaseWithBases } from "../release/bases.js";
import { liveRollout, rolloutPushOf } from "../catalog/rollout.js";

export interface SyncRelayOptions {
  em: EntityManager;
  /** The claims service, which serves TemplateSyncService. */
  claimsUrl: string;
  credentials: ClientCredentials;
  log: Logger;
  /** How often due rows are looked for without a kick; default 1 s. */
  intervalMs?: number;
  /** Pushes in flight at once; default 16. */
  concurrency?: number;
  /** Delay after the first failure, doubling per failure up to maxMs; default 1 s to 60 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** Default 10 s. */
  callTimeoutMs?: number;
}

export interface SyncRelay {
  /** Look for due rows now (after a committed content change). */
  kick(): void;
  /** Stops: aborts pushes in flight (their rows stay for the next start) and waits for them. */
  close(): Promise<void>;
}

/**
 * Hands every outbox row's content version to the claims service
 * (TemplateSyncService.PushTemplateVersion) as the creator signed it, until
 * acknowledged. Runs at start, on kick() and on a timer. A row is taken
 * (leased, outbox.ts) before it is pushed, so relays of several templates
 * replicas each push different rows; one push per template at a time here,
 * and a row is deleted only if its version did not move while it was in
 * flight. A newer version enqueued during a push may leave from another
 * replica before the older one is answered: the claims service keeps the
 * newest release it was handed (keys only move forward), so order across
 * replicas does not matter.
 */
export function startSyncRelay(opts: SyncRelayOptions): SyncRelay {
  const log = opts.log;
  const concurrency = opts.concurrency ?? 16;
  const backoff = opts.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
  const timeoutMs = opts.callTimeoutMs ?? 10_000;
  const claims = createServiceClient(TemplateSyncService, opts.claimsUrl, opts.credentials);
  const aborter = new AbortController();
  const inFlight = new Map<string, Promise<void>>();
  let scanning: Promise<void> | undefined;
  let rescan = false;
  let closed = false;

  /** True when the row was acknowledged. */
  async function push(row: OutboxRow): Promise<boolean> {
    const em = opts.em.fork();
    try {
      // With its bases as they are now: a later state than the one enqueued is only newer.
      const release = await releaseWithBases(em, row.templateId, row.version);
      // Template deleted meanwhile (its outbox row went with it): nothing left to deliver.
      if (!release) return true;
      // The candidate of a live rollout goes with its share; once it ended, to every instance (docs/rollouts.md).
      // A step enqueues the same version again, with a new revision: the step is read here, as it now stands.
      const live = await liveRollout(em, row.templateId);
      const rollout = live?.candidateVersion === row.version ? rolloutPushOf(live) : undefined;
      const res = await claims.client.pushTemplateVersion(
        { ...release, ...(rollout ? { rollout } : {}) },
        { timeoutMs, signal: aborter.signal },
      );
      await acknowledgeOutboxRow(em, row);
      log.debug("template version handed to claims", {
        templateId: row.templateId,
        version: row.version,
        held: Number(res.version),
        instances: res.instances,
      });
      return true;
    } catch (err) {
      if (closed) {
        // Stopped mid-push: the row is due again at once, for another replica or the next start.
        await returnOutboxRow(em, row).catch(() => {});
        return false;
      }
      const error = ConnectError.from(err).message;
      log.warn("template sync push failed; will retry", {
        templateId: row.templateId,
        version: row.version,
        attempt: row.attempts + 1,
        error,
      });
      await deferOutboxRow(em, row, error, backoff).catch((e: unknown) =>
        log.warn("template sync: recording a failed push failed", { err: e }),
      );
      return false;
    }
  }

  async function scan(): Promise<void> {
    if (inFlight.size >= concurrency) return;
    // Exactly as many as there are free slots, none of a template in flight here: every row taken is pushed now.
    const rows = await takeDueOutboxRows(opts.em.fork(), concurrency - inFlight.size, [...inFlight.keys()]);
    for (const row of rows) {
      if (closed) {
        await returnOutboxRow(opts.em.fork(), row).catch(() => {});
        continue;
      }
      const sent = push(row).then((acknowledged) => {
        inFlight.delete(row.templateId);
        // A slot is free, and a newer version of this template may be waiting.
        // After a failure the timer comes back instead, so a failing store cannot spin.
        if (acknowledged) kick();
      });
      inFlight.set(row.templateId, sent);
    }
  }

  function kick(): void {
    if (closed) return;
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = scan()
      .catch((err: unknown) => log.warn("template sync: reading the outbox failed", { err }))
      .finally(() => {
        scanning = undefined;
        if (rescan) {
          rescan = false;
          kick();
        }
      });
  }

  const timer = setInterval(kick, opts.intervalMs ?? 1_000);
  timer.unref();
  kick();

  return {
    kick,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      aborter.abort();
      await scanning;
      await Promise.all(inFlight.values());
      claims.close();
    },
  };
}
