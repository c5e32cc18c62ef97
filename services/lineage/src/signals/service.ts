// VersionSignalService: instance hosts report each agent's daily counts for
// the version it runs (docs/signals.md). A host carries them; only the
// agent's own wallet signs them (ReportVersionSignals over every field,
// checked against the agent's inbox as the claims feed gave it, through the
// resolver: the XMTP network in production). A report is refused unless its
// agent is live, of the template it names, and ran the version it names
// that day (as the claims feed says, where it says). Its nonce is spent in the
// transaction that stores it, so an old report cannot be played again over
// a newer one. Logs carry ids and the day, never counts of a person.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  SignalFiguresSchema,
  VersionComparisonSchema,
  VersionDayRatesSchema,
  VersionLifecycleSchema,
  VersionDaySignalsSchema,
  type VersionComparison,
  type VersionLifecycle,
  type VersionDaySignals,
  type VersionSignalInsightsService,
  type VersionSignalService,
} from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import {
  TEMPLATE_ID_PATTERN,
  invalidArgument,
  notFound,
  unauthenticated,
  nonceUsed,
  permissionDenied,
  refuseViolations,
} from "@convos-pool/kit/content";
import { callerInboxId, type Logger } from "@convos-pool/kit/server";
import { versionSignalsFields, type SignatureVerifier, type VersionSignalsToSign } from "@convos-pool/kit/signing";
import { consumeNonce } from "@convos-pool/kit/service";
import { checkInstanceId } from "../lineage/checks.js";
import { compareVersionDays, defaultVersions, type VersionRates } from "./compare.js";
import { type Lifecycle, versionLifecycles } from "./lifecycle.js";
import { MIN_CONVERSATIONS, creatorView, type VersionDay } from "./figures.js";
import { checkReport, compareVersionsViolations, dayRange, ranVersion } from "./policy.js";
import { ownsLiveAgentOf, reportingAgent, templateDays, upsertSignals, versionHistory } from "./sql.js";
import type { TemplateLookup } from "../lineage/service.js";

export interface VersionSignalDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  log: Logger;
}

export function createVersionSignalService(deps: VersionSignalDeps): ServiceImpl<typeof VersionSignalService> {
  return {
    async reportSignals(req) {
      checkInstanceId(req.instanceId);
      const report: VersionSignalsToSign = checkReport(req);
      const agent = await reportingAgent(deps.em.fork(), req.instanceId);
      if (!agent?.live) throw new ConnectError(`instance_id: no live instance ${req.instanceId}`, Code.NotFound);
      if (agent.templateId !== req.templateId)
        throw invalidArgument("template_id", `instance ${req.instanceId} is not an agent of ${req.templateId}`);
      if (!ranVersion(await versionHistory(deps.em.fork(), req.instanceId), req.version, req.day))
        throw invalidArgument("version", `instance ${req.instanceId} did not run version ${req.version} on ${req.day}`);
      // Lineage learns an agent's inbox from the claims feed; without it nobody's signature can be checked.
      if (!agent.inboxId) throw permissionDenied(`the inbox of instance ${req.instanceId} is not known here`);
      if (agent.inboxId !== req.inboxId)
        throw permissionDenied(`inbox_id: not the inbox of instance ${req.instanceId}`);
      const verified = await deps.verifier.verify(
        "ReportVersionSignals",
        versionSignalsFields(report),
        req.agentSignature,
      );
      const replaced = await deps.em.fork().transactional(async (tx) => {
        if (!(await consumeNonce(tx, { nonce: verified.nonce, inboxId: req.inboxId, purpose: "ReportVersionSignals" })))
          throw nonceUsed("agent_signature.nonce");
        return upsertSignals(tx, { ...report, instanceId: req.instanceId });
      });
      deps.log.info("signals reported", {
        instanceId: req.instanceId,
        templateId: req.templateId,
        version: req.version,
        day: req.day,
        replaced,
      });
      return { replaced };
    },
  };
}

export interface VersionSignalInsightsDeps {
  em: EntityManager;
  templates: TemplateLookup;
}

function toProto(d: VersionDay): VersionDaySignals {
  return create(VersionDaySignalsSchema, {
    version: d.version,
    day: d.day,
    agents: d.agents,
    owners: d.owners,
    shown: d.figures !== undefined,
    ...(d.figures ? { figures: create(SignalFiguresSchema, d.figures) } : {}),
  });
}

function lifecycleToProto({ version: _, ...counts }: Lifecycle): VersionLifecycle {
  return create(VersionLifecycleSchema, counts);
}

function comparisonToProto(v: VersionRates, lifecycle: Lifecycle | undefined): VersionComparison {
  return create(VersionComparisonSchema, {
    version: v.version,
    daysRan: v.daysRan,
    daysShown: v.daysShown,
    answers: v.answers,
    ...(v.per100 ? { per100Answers: create(SignalFiguresSchema, v.per100) } : {}),
    days: v.days.map((d) =>
      create(VersionDayRatesSchema, {
        day: d.day,
        agents: d.agents,
        owners: d.owners,
        shown: d.shown,
        answers: d.answers,
        ...(d.per100 ? { per100Answers: create(SignalFiguresSchema, d.per100) } : {}),
      }),
    ),
    ...(lifecycle ? { lifecycle: lifecycleToProto(lifecycle) } : {}),
  });
}

/** VersionSignalInsightsService: a creator reads their template's figures (figures.ts), anyone else NOT_FOUND. */
export function createVersionSignalInsightsService(
  deps: VersionSignalInsightsDeps,
): ServiceImpl<typeof VersionSignalInsightsService> {
  return {
    async getVersionSignals(req, ctx) {
      if (!TEMPLATE_ID_PATTERN.test(req.templateId)) throw invalidArgument("template_id", "must be a template id");
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to read a template's signals");
      const template = await deps.templates.get(req.templateId);
      if (!template || template.creatorId !== caller) throw notFound(`template ${req.templateId}`);
      const { from, to } = dayRange(req.fromDay, req.toDay);
      const view = creatorView(await templateDays(deps.em.fork(), req.templateId, from, to), template.creatorId);
      return {
        days: view.days.map(toProto),
        ownDays: view.ownDays.map(toProto),
        minConversations: MIN_CONVERSATIONS,
      };
    },
    /**
     * The template's creator gets others' agents and, apart, their own; an
     * owner of a live agent of it only others' (what everyone is shown);
     * anyone else NOT_FOUND, as for a missing template.
     */
    async compareVersions(req, ctx) {
      refuseViolations(compareVersionsViolations(req));
      const asked = [...req.versions];
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to compare a template's versions");
      const template = await deps.templates.get(req.templateId);
      if (!template) throw notFound(`template ${req.templateId}`);
      const isCreator = template.creatorId === caller;
      if (!isCreator && !(await ownsLiveAgentOf(deps.em.fork(), req.templateId, caller)))
        throw notFound(`template ${req.templateId}`);
      const { from, to } = dayRange(req.fromDay, req.toDay);
      const view = creatorView(await templateDays(deps.em.fork(), req.templateId, from, to), template.creatorId);
      // Asked for none: the two newest that reported, among the agents this caller may see.
      const versions =
        asked.length > 0 ? asked : defaultVersions(isCreator ? [...view.days, ...view.ownDays] : view.days);
      const life = await versionLifecycles(deps.em.fork(), req.templateId, versions, template.creatorId);
      return {
        versions: compareVersionDays(view.days, versions).map((v, i) => comparisonToProto(v, life.versions[i])),
        ownVersions: isCreator
          ? compareVersionDays(view.ownDays, versions).map((v, i) => comparisonToProto(v, life.ownVersions[i]))
          : [],
        minConversations: MIN_CONVERSATIONS,
      };
    },
  };
}
