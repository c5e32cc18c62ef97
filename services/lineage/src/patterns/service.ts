// PatternPoolService: instance hosts offer, find and adopt learned patterns on
// behalf of the agents they run (docs/patterns.md). Any host may speak for
// any live agent; what it cannot choose is the interest, which comes from the
// agent's template here, never from the request. A lesson reaches agents only
// with the quorum (agents that lived a while and answered other people on
// enough days, by their own signed counts, of enough distinct owners under
// enough templates of enough creators, offered it) and, for a template whose
// creator holds lessons, the creator's approval. Logs carry ids, counts and reasons, never a lesson's text.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { PatternPoolService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { failedPrecondition, invalidArgument, normalizePatternText, scanPattern } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import {
  checkPatternIds,
  checkPatternText,
  interestSimilarity,
  interestsOf,
  lessonHash,
  minSimilarity,
  patternTtlSeconds,
  queryPageSize,
  type Quorum,
} from "./policy.js";
import {
  countRefusal,
  holdOf,
  offerPattern,
  patternToProto,
  queryCandidates,
  recordAdoptions,
  withdrawnAdoptions,
} from "./sql.js";
import { checkInstanceId } from "../lineage/checks.js";
import { getNode, type Node } from "../lineage/sql.js";
import type { TemplateLookup } from "../lineage/service.js";

export interface PatternPoolDeps {
  em: EntityManager;
  templates: TemplateLookup;
  log: Logger;
  quorum: Quorum;
}

/** The agent (its id checked already), when it is live: an ended or unknown one is NOT_FOUND, whoever asks. */
async function liveAgent(em: EntityManager, instanceId: string): Promise<Node> {
  const node = await getNode(em.fork(), instanceId);
  if (!node || node.endedAt !== null)
    throw new ConnectError(`instance_id: no live instance ${instanceId}`, Code.NotFound);
  return node;
}

/** The agent's template's creator and interest; an agent whose template is gone or has neither category nor tags has none to share. */
async function templateOf(deps: PatternPoolDeps, node: Node): Promise<{ creatorId: string; interests: string[] }> {
  const template = await deps.templates.get(node.templateId);
  if (!template) throw failedPrecondition(`the template of instance ${node.instanceId} no longer exists`);
  return { creatorId: template.creatorId, interests: interestsOf(template) };
}

export function createPatternPoolService(deps: PatternPoolDeps): ServiceImpl<typeof PatternPoolService> {
  return {
    async publishPattern(req) {
      checkInstanceId(req.instanceId);
      checkPatternText(req.text);
      const ttlSeconds = patternTtlSeconds(req.ttlSeconds);
      const node = await liveAgent(deps.em, req.instanceId);
      const scan = scanPattern(req.text);
      if (!scan.ok) {
        await countRefusal(deps.em.fork(), node.templateId, scan.reason);
        deps.log.info("pattern refused", {
          instanceId: node.instanceId,
          templateId: node.templateId,
          reason: scan.reason,
          length: req.text.length,
        });
        throw invalidArgument(
          "text",
          `refused: ${scan.reason} (${scan.detail}); a pattern is a lesson for agents of other people`,
        );
      }
      const { creatorId, interests } = await templateOf(deps, node);
      if (interests.length === 0) {
        throw failedPrecondition(
          `the template of instance ${node.instanceId} has no category or tags: a pattern would reach no one`,
        );
      }
      const text = normalizePatternText(req.text);
      const { pattern, created } = await offerPattern(
        deps.em.fork(),
        {
          instanceId: node.instanceId,
          ownerId: node.ownerId,
          templateId: node.templateId,
          creatorId,
          interests,
          text,
          textHash: lessonHash(text),
          ttlSeconds,
        },
        deps.quorum,
      );
      deps.log.info("pattern offered", {
        patternId: pattern.pattern_id,
        instanceId: node.instanceId,
        templateId: node.templateId,
        created,
        owners: pattern.owner_count,
        templates: pattern.template_count,
        creators: pattern.creator_count,
      });
      return { pattern: patternToProto(pattern, deps.quorum), created };
    },

    async queryPatterns(req) {
      checkInstanceId(req.instanceId);
      const threshold = minSimilarity(req.minSimilarity);
      const limit = queryPageSize(req.pageSize);
      const node = await liveAgent(deps.em, req.instanceId);
      const { interests } = await templateOf(deps, node);
      const em = deps.em.fork();
      const asker = {
        instanceId: node.instanceId,
        templateId: node.templateId,
        hold: await holdOf(em, node.templateId),
      };
      const [candidates, withdrawnPatternIds] = await Promise.all([
        queryCandidates(em, asker, interests, deps.quorum),
        withdrawnAdoptions(em.fork(), asker, deps.quorum),
      ]);
      const patterns = candidates
        .map((row) => ({
          row,
          similarity: interestSimilarity(interests, row.interests),
          offered: Number(row.offered_count),
        }))
        .filter((c) => c.similarity >= threshold)
        .sort(
          (a, b) =>
            b.similarity - a.similarity || b.offered - a.offered || a.row.pattern_id.localeCompare(b.row.pattern_id),
        )
        .slice(0, limit)
        .map((c) => patternToProto(c.row, deps.quorum, c.similarity));
      return { patterns, withdrawnPatternIds };
    },

    async recordAdoptions(req) {
      checkInstanceId(req.instanceId);
      checkPatternIds(req.patternIds);
      const node = await liveAgent(deps.em, req.instanceId);
      const recorded = await recordAdoptions(deps.em.fork(), node.instanceId, req.patternIds);
      deps.log.info("patterns adopted", { instanceId: node.instanceId, recorded });
      return { recorded };
    },
  };
}
