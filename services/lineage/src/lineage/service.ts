// LineageService (people, through the gateway) and LineageEventService (the
// claims service's feed). Who may read what (docs/lineage.md): an agent's
// lineage its owner or its template's creator; a template's dashboard its
// creator; an owner's list that owner. Anyone else is told a private thing
// does not exist, exactly as a missing one.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import type { LineageService, LineageNode } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { TemplateStatus, Visibility, type Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplateReleaseService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  INBOX_ID_PATTERN,
  TEMPLATE_ID_PATTERN,
  invalidArgument,
  notFound,
  permissionDenied,
  unauthenticated,
} from "@convos-pool/kit/content";
import { callerInboxId, pageSize, type ServiceClient } from "@convos-pool/kit/server";
import { checkInstanceId } from "./checks.js";
import { applyEvents } from "./events.js";
import { usageByDay, usageDays, usageWindow } from "./policy.js";
import {
  ancestors,
  descendants,
  getNode,
  nodeToProto,
  ownerAgents,
  templateDashboard,
  templateUsage,
  type Node,
} from "./sql.js";

/** Templates as the lineage service needs them: who created one, and whether it is public. */
export interface TemplateLookup {
  /** undefined when there is no such template. */
  get(templateId: string): Promise<Template | undefined>;
}

/** TemplateLookup over gRPC: TemplateReleaseService, with the lineage service's credential. */
export function grpcTemplateLookup(
  client: ServiceClient<typeof TemplateReleaseService>["client"],
  timeoutMs = 10_000,
): TemplateLookup {
  return {
    async get(templateId) {
      try {
        return (await client.getTemplateRelease({ templateId }, { timeoutMs })).template;
      } catch (err) {
        const e = ConnectError.from(err);
        if (e.code === Code.NotFound) return undefined;
        throw new ConnectError(`the template service did not answer (${e.rawMessage}); try again`, Code.Unavailable);
      }
    },
  };
}

const isPublic = (t: Template) => t.visibility === Visibility.PUBLIC && t.status === TemplateStatus.ACTIVE;

export interface LineageServiceDeps {
  em: EntityManager;
  templates: TemplateLookup;
}

function signedIn(caller: string | undefined, what: string): string {
  if (caller === undefined) throw unauthenticated(`sign in to read ${what}`);
  return caller;
}

export function createLineageService(deps: LineageServiceDeps): ServiceImpl<typeof LineageService> {
  return {
    async getLineage(req, ctx) {
      checkInstanceId(req.instanceId);
      const caller = signedIn(callerInboxId(ctx), "an agent's lineage");
      const em = deps.em.fork();
      const node = await getNode(em, req.instanceId);
      if (!node) throw notFound(`instance ${req.instanceId}`);
      // Whether the caller created a template: asked once per template, only when an agent of someone else needs it.
      const created = new Map<string, Promise<boolean>>();
      const createdByCaller = (templateId: string) => {
        let p = created.get(templateId);
        if (!p) {
          p = deps.templates.get(templateId).then((t) => t?.creatorId === caller);
          created.set(templateId, p);
        }
        return p;
      };
      if (node.ownerId !== caller && !(await createdByCaller(node.templateId)))
        throw notFound(`instance ${req.instanceId}`);
      const [up, down] = await Promise.all([
        ancestors(em.fork(), node.instanceId),
        descendants(em.fork(), node.instanceId),
      ]);
      // Other people's conversations are theirs: shown to each agent's owner and to its template's creator (as on the
      // dashboard). When the templates service cannot say, the owner still gets the lineage, without those conversations.
      const toProto = async (n: Node): Promise<LineageNode> =>
        nodeToProto(n, n.ownerId === caller || (await createdByCaller(n.templateId).catch(() => false)));
      return {
        instance: await toProto(node),
        ancestors: await Promise.all(up.map(toProto)),
        children: await Promise.all(down.filter((n) => n.parentInstanceId === node.instanceId).map(toProto)),
        descendants: await Promise.all(down.map(toProto)),
      };
    },

    async getTemplateDashboard(req, ctx) {
      if (!TEMPLATE_ID_PATTERN.test(req.templateId))
        throw invalidArgument("template_id", 'must be a template id such as "tmpl_" followed by 16 letters or digits');
      const days = usageDays(req.days);
      const caller = signedIn(callerInboxId(ctx), "a template's dashboard");
      const template = await deps.templates.get(req.templateId);
      if (!template || (!isPublic(template) && template.creatorId !== caller))
        throw notFound(`template ${req.templateId}`);
      if (template.creatorId !== caller) throw permissionDenied("only the template's creator reads its dashboard");
      const window = usageWindow(days, new Date());
      const [d, usage] = await Promise.all([
        templateDashboard(deps.em.fork(), template.id),
        templateUsage(deps.em.fork(), template.id, window[0]?.start ?? new Date(), days),
      ]);
      return {
        templateId: template.id,
        liveCount: BigInt(d.live),
        totalCount: BigInt(d.total),
        endedCount: BigInt(d.ended),
        cloneCount: BigInt(d.clones),
        liveCloneCount: BigInt(d.liveClones),
        maxDepth: d.maxDepth,
        owners: d.owners,
        usage: usageByDay(window, usage).map((u) => ({
          day: u.day,
          claims: BigInt(u.claims),
          activeAgents: BigInt(u.active),
        })),
      };
    },

    async listOwnerLineage(req, ctx) {
      if (!INBOX_ID_PATTERN.test(req.ownerId))
        throw invalidArgument("owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
      const limit = pageSize(req.pageSize);
      const caller = signedIn(callerInboxId(ctx), "your agents");
      if (caller !== req.ownerId) throw permissionDenied("only the owner lists their agents");
      const page = await ownerAgents(deps.em.fork(), req.ownerId, {
        includeEnded: req.includeEnded,
        limit,
        pageToken: req.pageToken,
      });
      return { agents: page.agents.map((n) => nodeToProto(n, true)), nextPageToken: page.nextPageToken };
    },
  };
}

export function createLineageEventService(em: EntityManager): ServiceImpl<typeof LineageEventService> {
  return {
    async recordLineageEvents(req) {
      return { applied: await applyEvents(em.fork(), req.events) };
    },
  };
}
