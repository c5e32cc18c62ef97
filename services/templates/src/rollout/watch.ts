// The pool's watch over live rollouts (docs/rollouts.md, "It watches and
// stops itself"). Every `intervalMs` (10 minutes by default), for each
// running or paused rollout:
//
//   1. take it (`for update skip locked`, in a transaction of its own): a
//      rollout another replica is watching, or a creator is stepping, is
//      skipped this round;
//   2. ask the lineage service how its versions do (RolloutWatchService,
//      the release keys as agents report them, from the rollout's first UTC
//      day, with its bounds, its creator and the share they signed last);
//   3. keep the answer as the rollout's watch (Rollout.watch); commit. A
//      pause is kept there too (`paused_on`): the rollout stays where it
//      is, neither halted nor widened (policy.ts planStep) while it lasts;
//   4. on `halt`, halt it (fallback.ts haltRollout, a transaction of its own
//      under the template's lock that re-checks it is still live), the
//      reason in the creator's words (policy.ts haltReason).
//
// A lineage that does not answer is logged and asked again next round;
// nothing else changes. The transaction of 1 to 3 holds the rollout's row
// while lineage answers (at most `timeoutMs`): a creator's step waits that
// long at most.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  RolloutWatchService,
  type WatchRolloutRequestSchema,
  type WatchRolloutResponse,
} from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import { releaseKey } from "@convos-pool/kit/content";
import { createServiceClient, type Logger, type ServiceCredentials } from "@convos-pool/kit/server";
import { contentVersionAt } from "../catalog/rollout.js";
import { TemplateRow } from "../db/entities.js";
import { releaseWithBases } from "../release/bases.js";
import { haltRollout } from "./fallback.js";
import { haltReason } from "./policy.js";
import { boundsToProto, nextLiveRolloutLocked, recordWatch, watchJson } from "./sql.js";

/** How often the pool looks at each live rollout by default: ten minutes. */
export const DEFAULT_WATCH_INTERVAL_MS = 600_000;
/** How long lineage has to answer for one rollout. */
const DEFAULT_TIMEOUT_MS = 10_000;

/** Whom the watch asks: the lineage service (RolloutWatchService), or a test's stand-in. */
export interface RolloutWatchSource {
  watch(req: MessageInitShape<typeof WatchRolloutRequestSchema>, timeoutMs: number): Promise<WatchRolloutResponse>;
  close(): void;
}

/** Asks the lineage service at `lineageUrl`, presenting the templates service's credential. */
export function grpcRolloutWatch(lineageUrl: string, credentials: ServiceCredentials): RolloutWatchSource {
  const sc = createServiceClient(RolloutWatchService, lineageUrl, credentials);
  return {
    watch: (req, timeoutMs) => sc.client.watchRollout(req, { timeoutMs }),
    close: () => sc.close(),
  };
}

export interface RolloutWatchDeps {
  em: EntityManager;
  source: RolloutWatchSource;
  log: Logger;
  /** Default DEFAULT_WATCH_INTERVAL_MS. */
  intervalMs?: number | undefined;
  timeoutMs?: number | undefined;
  now?: (() => Date) | undefined;
  /** A halt's fallback committed (it is in the sync outbox): the relay's kick. */
  onContentChange?: (() => void) | undefined;
}

export interface RunningRolloutWatch {
  /** One round over every live rollout now (the timer's; tests call it). A round already under way is awaited instead. */
  round(): Promise<void>;
  /** Stops the timer and waits for a round under way. */
  close(): Promise<void>;
}

/**
 * The release key a version's agents report (kit releaseKey, joined by "."),
 * its bases as they resolve now: that of the content in effect at `version`,
 * since a publish or an unpublish makes a version that changes no content
 * (a rollout's baseline is often one: a template is published, then updated).
 */
async function reportedKey(em: EntityManager, templateId: string, version: number): Promise<string> {
  const release = await releaseWithBases(em, templateId, await contentVersionAt(em, templateId, version));
  if (!release) throw new Error(`template ${templateId} has no version ${version}`);
  return releaseKey(release.template, release.bases).join(".");
}

interface Watched {
  rolloutId: string;
  templateId: string;
  /** Set when lineage said halt: the reason. */
  halt?: string;
}

export function startRolloutWatch(deps: RolloutWatchDeps): RunningRolloutWatch {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  /** Steps 1 to 3 for the next live rollout after `afterId`; undefined when none is left to take. */
  async function watchNext(afterId: string): Promise<Watched | undefined> {
    return deps.em.fork().transactional(async (tx) => {
      const r = await nextLiveRolloutLocked(tx, afterId);
      if (!r) return undefined;
      const seen: Watched = { rolloutId: r.id, templateId: r.template_id };
      const template = await tx.findOne(TemplateRow, { id: r.template_id });
      let answer: WatchRolloutResponse;
      try {
        answer = await deps.source.watch(
          {
            templateId: r.template_id,
            creatorId: template?.creatorId ?? "",
            shareBasisPoints: r.share_basis_points,
            candidateVersion: await reportedKey(tx, r.template_id, r.candidate_version),
            baselineVersion: await reportedKey(tx, r.template_id, r.baseline_version),
            fromDay: new Date(r.started_at).toISOString().slice(0, 10),
            bounds: boundsToProto(r.bounds),
          },
          timeoutMs,
        );
      } catch (err) {
        deps.log.warn(
          "a rollout's watch got no answer (the lineage service, or its release keys): asked again next round",
          {
            rolloutId: r.id,
            templateId: r.template_id,
            err,
          },
        );
        return seen;
      }
      if (!answer.watch) return seen;
      await recordWatch(tx, r.id, watchJson(answer.watch));
      if (answer.pause && !answer.halt)
        deps.log.info("rollout paused by the pool's watch", { rolloutId: r.id, reason: answer.watch.pausedOn });
      if (answer.halt)
        seen.halt = haltReason(answer.watch, { candidate: r.candidate_version, baseline: r.baseline_version });
      return seen;
    });
  }

  /** Step 4: a rollout ended meanwhile (a creator's step, another replica's halt) is left as it is; a failure waits for the next round. */
  async function halt(w: Watched & { halt: string }): Promise<void> {
    try {
      await haltRollout(
        { em: deps.em, now: deps.now, onContentChange: deps.onContentChange },
        { templateId: w.templateId, rolloutId: w.rolloutId, reason: w.halt },
      );
      deps.log.info("rollout halted by the pool's watch", { rolloutId: w.rolloutId, templateId: w.templateId });
    } catch (err) {
      const code = err instanceof ConnectError ? err.code : undefined;
      if (code === Code.FailedPrecondition || code === Code.NotFound)
        deps.log.info("rollout ended before the watch could halt it", {
          rolloutId: w.rolloutId,
          templateId: w.templateId,
        });
      else
        deps.log.warn("halting a rollout failed: tried again next round", {
          rolloutId: w.rolloutId,
          templateId: w.templateId,
          err,
        });
    }
  }

  async function everyRollout(): Promise<void> {
    for (let after = ""; ; ) {
      const w = await watchNext(after);
      if (!w) return;
      after = w.rolloutId;
      if (w.halt !== undefined) await halt({ ...w, halt: w.halt });
    }
  }

  let current: Promise<void> | undefined;
  const round = () => {
    current ??= everyRollout().finally(() => {
      current = undefined;
    });
    return current;
  };
  const timer = setInterval(() => {
    void round().catch((err: unknown) => deps.log.warn("watching rollouts failed", { err }));
  }, deps.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS);
  timer.unref();
  return {
    round,
    async close() {
      clearInterval(timer);
      await current?.catch(() => undefined);
    },
  };
}
