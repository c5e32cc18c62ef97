// RolloutWatchService (rollout_watch_service.proto; internal, the templates
// service's): how a live rollout's two versions do, and whether to halt it
// (docs/rollouts.md, "It watches and stops itself"). The figures are
// lineage's own: the agents' signed day counts and what the claims feed
// recorded of them (sql.ts), counted by rollout.ts, judged by kit's test.
// The template's days of any version from REAL_USE_LOOKBACK_DAYS before the
// rollout are read too: an agent's real use may predate it. Counts only: no
// agent, member or conversation is named in the answer.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  RolloutPauseCheck,
  RolloutSignalFiguresSchema,
  RolloutWatchSchema,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import type { RolloutWatchService } from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import { type PauseReason, ROLLOUT_SIGNAL_NAMES, SHARE_BUCKETS } from "@convos-pool/kit/content";
import { MIN_CONVERSATIONS } from "./figures.js";
import { checkWatchRequest } from "./policy.js";
import { DEFAULT_WATCH_RULES, SIGNAL_WORDS, type WatchRules, conversationsOn, watchRollout } from "./rollout.js";
import { agentsThatRan, removedSoon, templateDays } from "./sql.js";

/** Each check of the verdict as the contract names it. */
const PAUSE_CHECKS: Record<PauseReason, RolloutPauseCheck> = {
  split: RolloutPauseCheck.SPLIT,
  signal: RolloutPauseCheck.SIGNAL,
  watched: RolloutPauseCheck.WATCHED,
};

/** How far before a rollout's first day an agent's days with people count toward its real use. */
export const REAL_USE_LOOKBACK_DAYS = 28;

const dayBefore = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

export interface RolloutWatchDeps {
  em: EntityManager;
  now?: (() => Date) | undefined;
  /** Who counts and how much is enough; unset: the pool's (rollout.ts DEFAULT_WATCH_RULES). */
  rules?: Partial<WatchRules> | undefined;
}

export function createRolloutWatchService(deps: RolloutWatchDeps): ServiceImpl<typeof RolloutWatchService> {
  const now = deps.now ?? (() => new Date());
  const rules = { ...DEFAULT_WATCH_RULES, ...deps.rules };
  return {
    async watchRollout(req) {
      const at = now();
      const asked = checkWatchRequest(req, at.getTime());
      const today = at.toISOString().slice(0, 10);
      const versions = [asked.candidate, asked.baseline];
      const em = deps.em.fork();
      const history = await templateDays(em, asked.templateId, dayBefore(asked.fromDay, REAL_USE_LOOKBACK_DAYS), today);
      const reports = history.filter((r) => r.day >= asked.fromDay && versions.includes(r.version));
      const ran = await agentsThatRan(em, asked.templateId, versions, asked.fromDay, today);
      const figures = watchRollout(
        {
          reports,
          ran,
          removals: await removedSoon(em, asked.templateId, versions, asked.fromDay),
          history,
        },
        { candidate: asked.candidate, baseline: asked.baseline },
        asked.bounds,
        asked.falseAlarm,
        {
          creatorId: asked.creatorId,
          share: asked.share === undefined ? undefined : asked.share / SHARE_BUCKETS,
          today,
          min: MIN_CONVERSATIONS,
          rules,
        },
      );
      // The conversations the creator reads beside the figures: every live agent's, real use or not.
      const sides = conversationsOn(ran, { candidate: asked.candidate, baseline: asked.baseline }, today);
      return {
        watch: create(RolloutWatchSchema, {
          daysCounted: figures.daysCounted,
          threshold: figures.threshold,
          signals: figures.signals.map((s) =>
            create(RolloutSignalFiguresSchema, {
              signal: ROLLOUT_SIGNAL_NAMES[s.signal],
              candidateEvents: s.candidate.events,
              candidateExposure: s.candidate.exposure,
              baselineEvents: s.baseline.events,
              baselineExposure: s.baseline.exposure,
              evidence: s.evidence,
            }),
          ),
          checkedAt: timestampFromDate(at),
          haltedOn: figures.haltedOn ? SIGNAL_WORDS[figures.haltedOn] : "",
          candidateConversations: sides.candidate,
          baselineConversations: sides.baseline,
          pausedOn: figures.pausedOn ?? "",
          pauseCheck: figures.pauseCheck ? PAUSE_CHECKS[figures.pauseCheck] : RolloutPauseCheck.UNSPECIFIED,
          candidateSample: figures.sample.candidate,
          baselineSample: figures.sample.baseline,
          minSample: rules.minSample.conversations,
        }),
        halt: figures.haltedOn !== undefined,
        pause: figures.pausedOn !== undefined,
      };
    },
  };
}
