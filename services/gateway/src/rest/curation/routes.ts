// The REST paths of a store people can trust (docs/rest.md, "The store's
// curation"; docs/store.md): reports, delisting and review, the featured
// list, the curation log, release notes and diffs. Each is an RPC of the
// StoreCurationService or TemplateService forwarder, as on the Connect face.

import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ReportState,
  type CurationLogEntry,
  type TemplateReport,
} from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import type { ReleaseNote } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { ToolGrant } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TEMPLATE_ERRORS, badRequest, renaming, restField, type RestErrorMapping } from "../core/errors.js";
import {
  nextCursor,
  query,
  queryBool,
  queryPage,
  signedChange,
  type Handler,
  type RestRequest,
  type Route,
} from "../core/request.js";
import { templatesPage, withTemplate } from "../templates/json.js";
import { signatureOf } from "../core/signature-json.js";

const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : null);

const REPORT_STATES = {
  [ReportState.UNSPECIFIED]: "",
  [ReportState.OPEN]: "open",
  [ReportState.UPHELD]: "upheld",
  [ReportState.DISMISSED]: "dismissed",
};

function reportToJson(r: TemplateReport) {
  return {
    template_id: r.templateId,
    reporter_id: r.reporterId,
    reason: r.reason,
    state: REPORT_STATES[r.state],
    reported_at: iso(r.reportedAt),
    resolved_by: r.resolvedBy || null,
    resolved_at: iso(r.resolvedAt),
  };
}

function logEntryToJson(e: CurationLogEntry) {
  return {
    id: String(e.id),
    at: iso(e.at),
    actor_id: e.actorId,
    action: e.action,
    template_id: e.templateId,
    fields: JSON.parse(e.fieldsJson) as unknown,
    signature: {
      signature: e.signature?.signature ?? "",
      issued_at: Number(e.signature?.issuedAt ?? 0n),
      nonce: e.signature?.nonce ?? "",
    },
  };
}

const noteToJson = (n: ReleaseNote) => ({
  version: Number(n.version),
  change_summary: n.changeSummary,
  release_notes: n.releaseNotes,
  released_at: iso(n.releasedAt),
});

/** A version in the query (`from`, `to`): 400 naming it. */
function queryVersion(q: Map<string, string>, key: string): bigint {
  const v = q.get(key);
  if (v === undefined) throw badRequest(key, "is required: a version number");
  if (!/^[1-9][0-9]{0,9}$/.test(v)) throw badRequest(key, "must be a version number, 1 or more");
  return BigInt(v);
}

/**
 * An operator's signed action on the path's template: `{operator_id, <text
 * field>, signature}`. A field left out goes on empty: whether it may be is
 * the service's to judge, with the template id, all at once (one contract
 * for both faces).
 */
async function operatorBody(r: RestRequest, text: "reason" | "note") {
  query(r, []);
  const body = await r.body(["operator_id", text, "signature"]);
  return {
    operatorId: body.string("operator_id", ""),
    templateId: r.id,
    text: body.string(text, ""),
    signature: signatureOf(body),
  };
}

const report: Handler = async (r, { curation }) => {
  query(r, []);
  const body = await r.body(["reason"]);
  const res = await curation.reportTemplate({ templateId: r.id, reason: body.string("reason", "") }, r.call);
  if (!res.report) throw new Error("templates service answered without the report");
  return { status: 201, body: reportToJson(res.report) };
};

/** On the listings filtered by `?template=`, the RPC's `template_id` is that parameter. */
const BY_TEMPLATE_QUERY: RestErrorMapping = { field: renaming({ template_id: "template" }, restField) };

const listReports: Handler = async (r, { curation }) => {
  const q = query(r, ["template", "all", "limit", "cursor"]);
  const res = await curation.listReports(
    {
      templateId: q.get("template") ?? "",
      includeResolved: queryBool(q, "all"),
      ...queryPage(q),
    },
    r.call,
  );
  return { status: 200, body: { reports: res.reports.map(reportToJson), next_cursor: nextCursor(res.nextPageToken) } };
};

const dismissReports: Handler = async (r, { curation }) => {
  const b = await operatorBody(r, "note");
  const res = await curation.dismissReports(
    { operatorId: b.operatorId, templateId: b.templateId, note: b.text, signature: b.signature },
    r.call,
  );
  return { status: 200, body: { dismissed: Number(res.dismissed) } };
};

const delist: Handler = async (r, { curation }) => {
  const b = await operatorBody(r, "reason");
  const res = await curation.delistTemplate(
    { operatorId: b.operatorId, templateId: b.templateId, reason: b.text, signature: b.signature },
    r.call,
  );
  return withTemplate(200, res.template);
};

const relist: Handler = async (r, { curation }) => {
  const b = await operatorBody(r, "note");
  const res = await curation.relistTemplate(
    { operatorId: b.operatorId, templateId: b.templateId, note: b.text, signature: b.signature },
    r.call,
  );
  return withTemplate(200, res.template);
};

/** The creator asks for a review of the version in If-Match: `{message, signature}` (RequestTemplateReview). */
const requestReview: Handler = async (r, { curation }) => {
  const { expectedVersion, body } = await signedChange(r, ["message"]);
  const res = await curation.requestReview(
    { templateId: r.id, expectedVersion, message: body.string("message", ""), signature: signatureOf(body) },
    r.call,
  );
  return withTemplate(200, res.template);
};

const declineReview: Handler = async (r, { curation }) => {
  const b = await operatorBody(r, "note");
  const res = await curation.declineReview(
    { operatorId: b.operatorId, templateId: b.templateId, note: b.text, signature: b.signature },
    r.call,
  );
  return withTemplate(200, res.template);
};

const listDelistings: Handler = async (r, { curation }) => {
  const q = query(r, ["review_requested", "limit", "cursor"]);
  const res = await curation.listDelistings(
    {
      reviewRequestedOnly: queryBool(q, "review_requested"),
      ...queryPage(q),
    },
    r.call,
  );
  return { status: 200, body: templatesPage(res) };
};

/** PUT features the path's template, DELETE takes it off: `{operator_id, signature}` (SetFeatured). */
const setFeatured =
  (featured: boolean): Handler =>
  async (r, { curation }) => {
    query(r, []);
    const body = await r.body(["operator_id", "signature"]);
    const res = await curation.setFeatured(
      { operatorId: body.string("operator_id", ""), templateId: r.id, featured, signature: signatureOf(body) },
      r.call,
    );
    return withTemplate(200, res.template);
  };

const listFeatured: Handler = async (r, { curation }) => {
  const q = query(r, ["limit", "cursor"]);
  const res = await curation.listFeatured({ ...queryPage(q) }, r.call);
  return { status: 200, body: templatesPage(res) };
};

const curationLog: Handler = async (r, { curation }) => {
  const q = query(r, ["template", "limit", "cursor"]);
  const res = await curation.listCurationLog({ templateId: q.get("template") ?? "", ...queryPage(q) }, r.call);
  return {
    status: 200,
    body: { entries: res.entries.map(logEntryToJson), next_cursor: nextCursor(res.nextPageToken) },
  };
};

const diff: Handler = async (r, { templates }) => {
  const q = query(r, ["from", "to"]);
  const res = await templates.diffTemplateVersions(
    { templateId: r.id, fromVersion: queryVersion(q, "from"), toVersion: queryVersion(q, "to") },
    r.call,
  );
  return {
    status: 200,
    body: {
      template_id: r.id,
      from_version: Number(res.fromVersion),
      to_version: Number(res.toVersion),
      changes: res.changes.map((c) => ({ field: c.field, from: c.from, to: c.to })),
      instructions_diff: res.instructionsDiff,
      notes: res.notes.map(noteToJson),
    },
  };
};

function grantToJson(g: ToolGrant) {
  return {
    template_id: g.templateId || null,
    creator_id: g.creatorId || null,
    tools: g.tools,
    fund_wei: g.fundWei,
    max_live_tools: g.maxLiveTools,
    operator_id: g.operatorId,
    granted_at: iso(g.grantedAt),
  };
}

/**
 * An operator lets the pool pay for numbers, mailboxes and wallet funding
 * under a template or a creator (SetToolGrant, docs/limits.md): `{operator_id,
 * template_id | creator_id, tools, fund_wei, max_live_tools, signature}`; no
 * tools and no funding takes it back (`{grant: null}`).
 */
const setToolGrant: Handler = async (r, { curation }) => {
  query(r, []);
  const body = await r.body([
    "operator_id",
    "template_id",
    "creator_id",
    "tools",
    "fund_wei",
    "max_live_tools",
    "signature",
  ]);
  const res = await curation.setToolGrant(
    {
      operatorId: body.string("operator_id", ""),
      templateId: body.string("template_id", ""),
      creatorId: body.string("creator_id", ""),
      tools: body.strings("tools") ?? [],
      fundWei: body.string("fund_wei", ""),
      maxLiveTools: body.int32("max_live_tools"),
      signature: signatureOf(body),
    },
    r.call,
  );
  return { status: 200, body: { grant: res.grant ? grantToJson(res.grant) : null } };
};

const listToolGrants: Handler = async (r, { curation }) => {
  const q = query(r, ["limit", "cursor"]);
  const res = await curation.listToolGrants({ ...queryPage(q) }, r.call);
  return { status: 200, body: { grants: res.grants.map(grantToJson), next_cursor: nextCursor(res.nextPageToken) } };
};

const releaseNotes: Handler = async (r, { templates }) => {
  const q = query(r, ["limit", "cursor"]);
  const res = await templates.listReleaseNotes({ templateId: r.id, ...queryPage(q) }, r.call);
  return { status: 200, body: { notes: res.notes.map(noteToJson), next_cursor: nextCursor(res.nextPageToken) } };
};

/** The reports' query: `?template=&all=` (the RPC's template_id, include_resolved). */
const REPORTS_QUERY: RestErrorMapping = {
  field: renaming({ template_id: "template", include_resolved: "all" }, restField),
};

/** The delistings' query: `?review_requested=` (the RPC's review_requested_only). */
const DELISTINGS_QUERY: RestErrorMapping = {
  field: renaming({ review_requested_only: "review_requested" }, restField),
};

/** The versions compared are `?from=&to=` (the RPC's from_version, to_version). */
const DIFF_ERRORS: RestErrorMapping = { field: renaming({ from_version: "from", to_version: "to" }, restField) };

export const CURATION_ROUTES: Route[] = [
  ["POST", "/templates/:id/reports", report, TEMPLATE_ERRORS],
  ["GET", "/reports", listReports, REPORTS_QUERY],
  ["POST", "/templates/:id/reports/dismiss", dismissReports, TEMPLATE_ERRORS],
  ["PUT", "/templates/:id/delisting", delist, TEMPLATE_ERRORS],
  ["DELETE", "/templates/:id/delisting", relist, TEMPLATE_ERRORS],
  ["POST", "/templates/:id/review", requestReview, TEMPLATE_ERRORS],
  ["POST", "/templates/:id/review/decline", declineReview, TEMPLATE_ERRORS],
  ["GET", "/delistings", listDelistings, DELISTINGS_QUERY],
  ["PUT", "/featured/:id", setFeatured(true), TEMPLATE_ERRORS],
  ["DELETE", "/featured/:id", setFeatured(false), TEMPLATE_ERRORS],
  ["GET", "/featured", listFeatured, TEMPLATE_ERRORS],
  ["GET", "/curation-log", curationLog, BY_TEMPLATE_QUERY],
  ["PUT", "/tool-grants", setToolGrant, TEMPLATE_ERRORS],
  ["GET", "/tool-grants", listToolGrants, TEMPLATE_ERRORS],
  ["GET", "/templates/:id/diff", diff, DIFF_ERRORS],
  ["GET", "/templates/:id/notes", releaseNotes, TEMPLATE_ERRORS],
];
