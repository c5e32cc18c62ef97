// RolloutWatchService (rollout_watch_service.proto; internal, the templates
// service's): how a live rollout's two versions do, and whether to halt it
// (docs/rollouts.md, "It watches and stops itself"). The figures are
// lineage's own: the agents' signed day counts and what the claims feed
// recorded of them (sql.ts), counted by rollout.ts, judged by kit's test.
// Counts only: no agent, member or conversation is named in the answer.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { RolloutSignalFiguresSchema, RolloutWatchSchema } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import type { RolloutWatchService } from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import { ROLLOUT_SIGNAL_NAMES } from "@convos-pool/kit/content";
import { MIN_CONVERSATIONS } from "./figures.js";
import { checkWatchRequest } from "./policy.js";
import { SIGNAL_WORDS, conversationsOn, watchRollout } from "./rollout.js";
import { agentsThatRan, removedSoon, templateDays } from "./sql.js";

export interface RolloutWatchDeps {
  em: EntityManager;
  now?: (() => Date) | undefined;
}

export function createRolloutWatchService(deps: RolloutWatchDeps): ServiceImpl<typeof RolloutWatchService> {
  const now = deps.now ?? (() => new Date());
  return {
    async watchRollout(req) {
      const at = now();
      const asked = checkWatchRequest(req, at.getTime());
      const today = at.toISOString().slice(0, 10);
      const versions = [asked.candidate, asked.baseline];
      const em = deps.em.fork();
      const reports = (await templateDays(em, asked.templateId, asked.fromDay, today)).filter((r) =>
        versions.includes(r.version),
      );
      const ran = await agentsThatRan(em, asked.templateId, versions, asked.fromDay, today);
      const sides = conversationsOn(ran, { candidate: asked.candidate, baseline: asked.baseline }, today);
      const figures = watchRollout(
        {
          reports,
          ran,
          removals: await removedSoon(em, asked.templateId, versions, asked.fromDay),
        },
        { candidate: asked.candidate, baseline: asked.baseline },
        asked.bounds,
        asked.falseAlarm,
        MIN_CONVERSATIONS,
      );
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
        }),
        halt: figures.haltedOn !== undefined,
      };
    },
  };
}
