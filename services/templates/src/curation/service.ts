// StoreCurationService (docs/store.md): reports by anyone signed in; the
// operators' signed actions (delist, relist, decline a review, dismiss
// reports, feature), each checked against POOL_OPERATORS, its nonce spent and
// its signature logged in one transaction with the change, under the
// template row's lock; the creator's signed request for review.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  alreadyExists,
  conflict,
  failedPrecondition,
  nonceUsed,
  notFound,
  permissionDenied,
  refuseViolations,
  unauthenticated,
  violationsOf,
} from "@convos-pool/kit/content";
import { callerInboxId, pageSize } from "@convos-pool/kit/server";
import type { OperationFields, SignatureVerifier, SignedOperation } from "@convos-pool/kit/signing";
import { consumeNonce } from "@convos-pool/kit/service";
import {
  declineReview,
  delist,
  fileReport,
  listDelisted,
  listFeatured,
  listLog,
  listReports,
  relist,
  requestReview,
  resolveReports,
  setFeatured,
} from "./sql.js";
import { delistingsOf } from "../catalog/standing.js";
import { withStandings } from "../ratings/sql.js";
import { TemplateRow, type TemplateRowType } from "../db/entities.js";
import { listedToProto, rowToProto } from "../catalog/proto.js";
import { logAction, signedTemplateActs } from "../catalog/act.js";
import { checkGrantRequest, grantFields, listGrants, putGrant } from "../catalog/grants.js";
import { checkInboxId, checkTemplateId } from "../catalog/checks.js";
import { operatorActViolations, reportTemplateViolations, requestReviewViolations, TEXT_RULES } from "./policy.js";

export interface CurationDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  /** The operators' inbox ids (POOL_OPERATORS). */
  operators: ReadonlySet<string>;
  now?: () => Date;
}

interface OperatorRequest {
  operatorId: string;
  templateId: string;
  signature?: Signature | undefined;
}

/** Its reviews' part is the ratings' (ratings/service.ts); the server joins the two. */
export function createStoreCurationService(
  deps: CurationDeps,
): Omit<ServiceImpl<typeof StoreCurationService>, "listReviewReports" | "removeReview"> {
  const now = deps.now ?? (() => new Date());

  /** The signed-in caller, who must be an operator. */
  function operatorCaller(ctx: HandlerContext): string {
    const caller = callerInboxId(ctx);
    if (caller === undefined) throw unauthenticated("sign in: this is for the pool's operators");
    if (!deps.operators.has(caller)) throw permissionDenied("only the pool's operators (POOL_OPERATORS) may do this");
    return caller;
  }

  async function templateView(id: string): Promise<Template> {
    const em = deps.em.fork();
    const row = await em.findOne(TemplateRow, { id });
    if (!row) throw notFound(`template ${id}`);
    const view = rowToProto(row);
    await withStandings(em, [view]);
    return view;
  }

  /** One signed curation action on a template (catalog/act.ts), kept in the curation log. */
  const signedAction = signedTemplateActs({ em: deps.em, verifier: deps.verifier, now }, () => true);

  /** An operator's action: its fields and `own` text well-formed (all named at once), `operator_id` one, and the signer. */
  function operatorAction<T>(
    req: OperatorRequest,
    own: () => unknown,
    action: SignedOperation,
    fields: OperationFields,
    apply: (tx: EntityManager, row: TemplateRowType, at: Date) => Promise<T>,
  ): Promise<T> {
    refuseViolations(operatorActViolations(req, own));
    if (!deps.operators.has(req.operatorId))
      throw permissionDenied(`operator_id: ${req.operatorId} is not one of the pool's operators`);
    return signedAction(req.operatorId, req.templateId, action, fields, req.signature, apply);
  }

  return {
    async reportTemplate(req, ctx) {
      const reporter = callerInboxId(ctx);
      if (reporter === undefined) throw unauthenticated("sign in to report a template");
      refuseViolations(reportTemplateViolations(req));
      const reason = req.reason.trim();
      const em = deps.em.fork();
      const row = await em.findOne(TemplateRow, { id: req.templateId });
      // What the reporter can see in the store; anything else does not exist for them.
      if (row?.visibility !== "public" || row.status !== "active") throw notFound(`template ${req.templateId}`);
      const report = await fileReport(em, { templateId: row.id, reporterId: reporter, reason, at: now() });
      if (!report)
        throw alreadyExists(`you already reported template ${row.id}, and operators have not closed that report yet`);
      return { report };
    },

    async listReports(req, ctx) {
      operatorCaller(ctx);
      if (req.templateId) checkTemplateId(req.templateId);
      return listReports(deps.em.fork(), {
        templateId: req.templateId,
        includeResolved: req.includeResolved,
        limit: pageSize(req.pageSize),
        pageToken: req.pageToken,
      });
    },

    async dismissReports(req) {
      const note = req.note.trim();
      const dismissed = await operatorAction(
        req,
        TEXT_RULES.dismiss(req.note),
        "DismissTemplateReports",
        { note },
        async (tx, row, at) => {
          const n = await resolveReports(tx, row.id, "dismissed", req.operatorId, at);
          if (n === 0) throw failedPrecondition(`template ${row.id} has no open reports`);
          return n;
        },
      );
      return { dismissed: BigInt(dismissed) };
    },

    async delistTemplate(req) {
      const reason = req.reason.trim();
      await operatorAction(req, TEXT_RULES.delist(req.reason), "DelistTemplate", { reason }, async (tx, row, at) => {
        if (!(await delist(tx, { templateId: row.id, reason, operatorId: req.operatorId, at }))) {
          throw failedPrecondition(`template ${row.id} is already delisted`);
        }
        await resolveReports(tx, row.id, "upheld", req.operatorId, at);
      });
      return { template: await templateView(req.templateId) };
    },

    async relistTemplate(req) {
      const note = req.note.trim();
      await operatorAction(req, TEXT_RULES.relist(req.note), "RelistTemplate", { note }, async (tx, row) => {
        if (!(await relist(tx, row.id))) throw failedPrecondition(`template ${row.id} is not delisted`);
      });
      return { template: await templateView(req.templateId) };
    },

    async requestReview(req) {
      refuseViolations(requestReviewViolations(req));
      const version = Number(req.expectedVersion);
      const message = req.message.trim();
      const row = await deps.em.fork().findOne(TemplateRow, { id: req.templateId });
      if (!row) throw notFound(`template ${req.templateId}`);
      await signedAction(
        row.creatorId,
        row.id,
        "RequestTemplateReview",
        { version: BigInt(version), message },
        req.signature,
        async (tx, locked, at) => {
          if (locked.version !== version) {
            throw conflict(
              `template ${row.id} is at version ${locked.version}, not ${version}: ask for a review of what it is now`,
            );
          }
          if (!(await requestReview(tx, { templateId: row.id, message, version, at }))) {
            throw failedPrecondition(`template ${row.id} is not delisted: there is nothing to review`);
          }
        },
      );
      return { template: await templateView(row.id) };
    },

    async declineReview(req) {
      const note = req.note.trim();
      await operatorAction(req, TEXT_RULES.decline(req.note), "DeclineTemplateReview", { note }, async (tx, row) => {
        if (!(await declineReview(tx, row.id, note)))
          throw failedPrecondition(`template ${row.id} has no review waiting`);
      });
      return { template: await templateView(req.templateId) };
    },

    async listDelistings(req, ctx) {
      operatorCaller(ctx);
      const em = deps.em.fork();
      const page = await listDelisted(em, {
        reviewRequestedOnly: req.reviewRequestedOnly,
        limit: pageSize(req.pageSize),
        pageToken: req.pageToken,
      });
      return { templates: await withStandings(em, page.rows.map(listedToProto)), nextPageToken: page.nextPageToken };
    },

    async setFeatured(req) {
      await operatorAction(req, TEXT_RULES.none(), "SetFeatured", { featured: req.featured }, async (tx, row, at) => {
        if (req.featured) {
          const listed =
            row.visibility === "public" && row.status === "active" && (await delistingsOf(tx, [row.id])).size === 0;
          if (!listed)
            throw failedPrecondition(
              `template ${row.id} is not in the store (private, archived or delisted): it cannot be featured`,
            );
        }
        await setFeatured(tx, { templateId: row.id, featured: req.featured, operatorId: req.operatorId, at });
      });
      return { template: await templateView(req.templateId) };
    },

    async listFeatured(req) {
      const em = deps.em.fork();
      const page = await listFeatured(em, { limit: pageSize(req.pageSize), pageToken: req.pageToken });
      return { templates: await withStandings(em, page.rows.map(listedToProto)), nextPageToken: page.nextPageToken };
    },

    async setToolGrant(req) {
      refuseViolations(
        violationsOf(
          () => checkInboxId(req.operatorId, "operator_id"),
          () => checkGrantRequest(req),
        ),
      );
      const g = checkGrantRequest(req);
      if (!deps.operators.has(req.operatorId))
        throw permissionDenied(`operator_id: ${req.operatorId} is not one of the pool's operators`);
      const fields = grantFields(g);
      const verified = await deps.verifier.verify(
        "SetToolGrant",
        { inboxId: req.operatorId, ...fields },
        req.signature,
      );
      const grant = await deps.em.fork().transactional(async (tx) => {
        if (g.templateId && !(await tx.findOne(TemplateRow, { id: g.templateId })))
          throw notFound(`template ${g.templateId}`);
        if (!(await consumeNonce(tx, { nonce: verified.nonce, inboxId: req.operatorId, purpose: "SetToolGrant" })))
          throw nonceUsed("signature.nonce");
        const at = now();
        const out = await putGrant(tx, g, req.operatorId, at);
        // A grant to a creator is logged with no template; its creatorId is in its fields.
        const { templateId, ...rest } = fields;
        await logAction(tx, {
          actorId: req.operatorId,
          action: "SetToolGrant",
          templateId,
          fields: rest,
          signature: verified.signature,
          at,
        });
        return out;
      });
      return grant ? { grant } : {};
    },

    async listToolGrants(req, ctx) {
      operatorCaller(ctx);
      return listGrants(deps.em.fork(), { limit: pageSize(req.pageSize), pageToken: req.pageToken });
    },

    async listCurationLog(req, ctx) {
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to read the curation log");
      if (req.templateId) checkTemplateId(req.templateId);
      const em = deps.em.fork();
      const operator = deps.operators.has(caller);
      if (!operator && req.templateId) {
        const row = await em.findOne(TemplateRow, { id: req.templateId });
        if (!row || row.creatorId !== caller) throw notFound(`curation log of template ${req.templateId}`);
      }
      return listLog(em, {
        templateId: req.templateId,
        ...(operator ? {} : { creatorId: caller }),
        limit: pageSize(req.pageSize),
        pageToken: req.pageToken,
      });
    },
  };
}
