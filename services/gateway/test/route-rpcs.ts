/**
 * TEST HELPER. The RPC behind each REST route (docs/rest.md, "One contract,
 * every face"), by the route's method and path under /api/pool: what the
 * contract tests hold each route to. A route one handler serves as two RPCs,
 * by a query parameter, names both, each with the query that picks it.
 * The tests hold this table to the gateway's route table (every route named,
 * nothing else) and to the forwarded services (every RPC with a route, but
 * the ones NO_ROUTE names and says why).
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { AddressBookService } from "@convos-pool/gen/convos/pool/v1/address_book_service_pb.js";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { PatternInsightsService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { TemplateRatingService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { RolloutService } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import { VersionSignalInsightsService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";

/** One RPC of a route, and what REST carries of its request otherwise than field by field. */
export interface RouteRpc {
  rpc: DescMethod;
  /** The query parameters that pick this RPC when the route serves two. */
  picks?: Readonly<Record<string, string>>;
  /** Fields the route sets itself, by their proto name (PUT and DELETE of /featured/:id are featured true and false). */
  sets?: Readonly<Record<string, unknown>>;
  /**
   * Message fields REST always sends, empty when the body has none of
   * theirs: the service reads a message left out and an empty one alike
   * (its defaults), so both faces get one.
   */
  always?: readonly string[];
  /** Fields read from the query though the route takes a body (a POST's page). */
  inQuery?: readonly string[];
  /** Values no REST call can carry, and why: left out of the comparison. */
  cannotCarry?: { why: string; holds: (req: Readonly<Record<string, unknown>>) => boolean };
}

const T = TemplateService.method;
const R = RolloutService.method;
const C = ClaimService.method;
const L = LineageService.method;
const S = StoreCurationService.method;
const G = TemplateRatingService.method;
const M = AgentMemoryService.method;
const P = PatternInsightsService.method;

/** The gateway's own routes (SessionService): no forwarded RPC behind them. */
export const NOT_FORWARDED = ["GET /signing-domain", "POST /sessions", "DELETE /sessions"];

export const ROUTE_RPCS: Readonly<Record<string, readonly RouteRpc[]>> = {
  "GET /models": [{ rpc: T.listModels }],
  "GET /templates": [
    { rpc: T.browseStore, picks: { visibility: "public" } },
    { rpc: T.listCreatorTemplates, picks: { creator: "" } },
  ],
  "POST /templates": [{ rpc: T.createTemplate }],
  "GET /templates/:id": [{ rpc: T.getTemplate }],
  "PUT /templates/:id": [{ rpc: T.updateTemplate }],
  "PATCH /templates/:id": [{ rpc: T.patchTemplate, always: ["patch"] }],
  "DELETE /templates/:id": [{ rpc: T.archiveTemplate }, { rpc: T.deleteTemplate, picks: { permanent: "true" } }],
  "PATCH /templates/:id/visibility": [{ rpc: T.setTemplateVisibility }],
  "GET /templates/:id/versions": [{ rpc: T.listTemplateVersions }],
  "POST /templates/:id/rollback": [{ rpc: T.rollbackTemplate }],
  "GET /templates/:id/diff": [{ rpc: T.diffTemplateVersions }],
  "GET /templates/:id/notes": [{ rpc: T.listReleaseNotes }],
  "GET /templates/:id/rollouts": [{ rpc: R.listRollouts }],
  "POST /templates/:id/rollouts": [{ rpc: R.startRollout, always: ["bounds"] }],
  "GET /templates/:id/rollouts/:rollout_id": [{ rpc: R.getRollout }],
  "POST /templates/:id/rollouts/:rollout_id/steps": [{ rpc: R.stepRollout }],
  "GET /templates/:id/instances": [{ rpc: C.listTemplateInstances }],
  "GET /agents": [{ rpc: C.listOwnerAgents }],
  "GET /agents/:id": [{ rpc: C.getInstance }],
  "PUT /agents/:id/pin": [{ rpc: C.setInstancePin }],
  "DELETE /agents/:id": [{ rpc: C.removeAgent }],
  "POST /agents/:id/transfer": [{ rpc: C.transferAgent }],
  "DELETE /agents/:id/transfer": [{ rpc: C.withdrawTransfer }],
  "POST /agents/:id/accept": [{ rpc: C.acceptAgent }],
  "PUT /agents/:id/trust": [{ rpc: C.setTrustLevel }],
  "PUT /agents/:id/permissions": [{ rpc: C.setPermissions, always: ["permissions"] }],
  // The agent's own participation: no conversation (the path's one is the next route's).
  "PUT /agents/:id/participation": [
    { rpc: C.setParticipation, always: ["participation"], sets: { conversation_id: "" } },
  ],
  "POST /agents/:id/conversations": [{ rpc: C.addToConversation }],
  "DELETE /agents/:id/conversations/:conversation_id": [{ rpc: C.removeFromConversation }],
  "PUT /agents/:id/conversations/:conversation_id/participation": [
    { rpc: C.setParticipation, always: ["participation"] },
  ],
  "GET /agents/:id/activity": [
    {
      rpc: C.listAgentActivity,
      cannotCarry: {
        why: "the log without details: the owner's signed read of it whole is POST …/activity/list",
        holds: (req) => req.ownerSignature !== undefined,
      },
    },
  ],
  "POST /agents/:id/activity/list": [{ rpc: C.listAgentActivity, inQuery: ["page_size", "page_token"] }],
  "POST /agents/:id/withdraw": [{ rpc: C.withdrawFunds }],
  "POST /claim": [{ rpc: C.claim }],
  "GET /claims/:id": [{ rpc: C.getClaimProgress }],
  "DELETE /claims/:id": [{ rpc: C.cancelClaim }],
  "GET /agents/:id/lineage": [{ rpc: L.getLineage }],
  "GET /templates/:id/dashboard": [{ rpc: L.getTemplateDashboard }],
  "GET /lineage": [{ rpc: L.listOwnerLineage }],
  "POST /templates/:id/reports": [{ rpc: S.reportTemplate }],
  "GET /reports": [{ rpc: S.listReports }],
  "POST /templates/:id/reports/dismiss": [{ rpc: S.dismissReports }],
  "PUT /templates/:id/delisting": [{ rpc: S.delistTemplate }],
  "DELETE /templates/:id/delisting": [{ rpc: S.relistTemplate }],
  "POST /templates/:id/review": [{ rpc: S.requestReview }],
  "POST /templates/:id/review/decline": [{ rpc: S.declineReview }],
  "GET /delistings": [{ rpc: S.listDelistings }],
  "PUT /featured/:id": [{ rpc: S.setFeatured, sets: { featured: true } }],
  "DELETE /featured/:id": [{ rpc: S.setFeatured, sets: { featured: false } }],
  "GET /featured": [{ rpc: S.listFeatured }],
  "GET /curation-log": [{ rpc: S.listCurationLog }],
  "PUT /tool-grants": [{ rpc: S.setToolGrant }],
  "GET /tool-grants": [{ rpc: S.listToolGrants }],
  "GET /review-reports": [{ rpc: S.listReviewReports }],
  "POST /templates/:id/reviews/remove": [{ rpc: S.removeReview }],
  "GET /templates/:id/reviews": [{ rpc: G.listReviews }],
  "GET /templates/:id/rating": [{ rpc: G.getMyRating }],
  "PUT /templates/:id/rating": [{ rpc: G.rateTemplate }],
  "POST /templates/:id/reviews/answer": [{ rpc: G.answerReview }],
  "POST /templates/:id/reviews/report": [{ rpc: G.reportReview }],
  "POST /agents/:id/memory/export": [{ rpc: M.exportMemory }],
  "GET /agents/:id/memory/key": [{ rpc: M.getMemoryKey }],
  "POST /agents/:id/memory/import": [{ rpc: M.importMemory }],
  "POST /agents/:id/memory/list": [{ rpc: M.listMemory }],
  "POST /agents/:id/memory/forget": [{ rpc: M.forgetMemory }],
  "POST /agents/:id/memory/share": [{ rpc: M.shareMemory }],
  "PUT /agents/:id/pattern-sharing": [{ rpc: M.setPatternSharing }],
  "GET /agents/:id/address-book": [{ rpc: AddressBookService.method.listContacts }],
  "POST /agents/:id/address-book": [{ rpc: AddressBookService.method.saveContact }],
  "DELETE /agents/:id/address-book": [{ rpc: AddressBookService.method.removeContacts }],
  "GET /agents/:id/approvals": [{ rpc: ApprovalService.method.listApprovals }],
  "POST /agents/:id/approvals": [{ rpc: ApprovalService.method.answerApproval }],
  "GET /agents/:id/schedules": [{ rpc: ScheduleService.method.listSchedules }],
  "POST /agents/:id/schedules/pause": [{ rpc: ScheduleService.method.pauseSchedule }],
  "POST /agents/:id/schedules/resume": [{ rpc: ScheduleService.method.resumeSchedule }],
  "POST /agents/:id/schedules/move": [{ rpc: ScheduleService.method.moveSchedule }],
  "DELETE /agents/:id/schedules": [{ rpc: ScheduleService.method.cancelSchedule }],
  "GET /patterns/health": [{ rpc: P.getPatternPoolHealth }],
  "GET /templates/:id/patterns": [{ rpc: P.listTemplatePatterns }],
  "PUT /templates/:id/pattern-hold": [{ rpc: P.setPatternHold }],
  "GET /templates/:id/patterns/held": [{ rpc: P.listHeldPatterns }],
  "POST /templates/:id/patterns/review": [{ rpc: P.reviewPattern }],
  "GET /templates/:id/signals": [
    {
      rpc: VersionSignalInsightsService.method.compareVersions,
      cannotCarry: {
        why: "the versions are one query parameter, split at commas and trimmed: a version empty, with a comma or blank at its ends has no REST form",
        holds: (req) =>
          ((req.versions as string[] | undefined) ?? []).some((v) => v === "" || v.includes(",") || v.trim() !== v),
      },
    },
  ],
};

/**
 * The forwarded RPCs no REST route serves, by `Service.Method`, each with
 * why: Connect is their one face, for the web app. A new forwarded RPC
 * needs a route or a line here.
 */
export const NO_ROUTE: Readonly<Record<string, string>> = {
  "ClaimService.TryDraft": "the Studio's test chat: a draft that is no template yet, private, over Connect only",
  "ClaimService.GetAgentFunds": "the agent page's money section, over Connect only; REST's GET /agents/:id has none",
  "VersionSignalInsightsService.GetVersionSignals":
    "a template's figures per day, read by the web app over Connect only; REST has the versions compared",
  "ConfirmationService.AskConfirmation": "a confirmation in Convos, asked by the web app over Connect only",
  "ConfirmationService.GetConfirmation": "a confirmation in Convos, read by the web app over Connect only",
};
