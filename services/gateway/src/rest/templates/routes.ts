// The REST paths of templates (docs/rest.md, "Paths"): the store and a
// creator's list (listing.ts), one template, its changes (create, PUT, PATCH, visibility,
// archive or delete, rollback) and its history. Each is a TemplateService
// RPC of the forwarder, as on the Connect face; its errors name the body's
// fields (TEMPLATE_ERRORS).

import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  changeViolations,
  createViolations,
  patchViolations,
  updateViolations,
  type FieldViolationInfo,
} from "@convos-pool/kit/content";
import { TEMPLATE_ERRORS, Violations, fieldNames } from "../core/errors.js";
import {
  BASE,
  ifMatch,
  nextCursor,
  query,
  queryBool,
  queryPage,
  signedChange,
  type Handler,
  type RestRequest,
  type Route,
} from "../core/request.js";
import type { JsonObject } from "../core/json.js";
import { signatureOf } from "../core/signature-json.js";
import { LIST_QUERY, listTemplates } from "./listing.js";
import {
  CONTENT_FIELDS,
  contentFromBody,
  patchFromBody,
  resolvedToJson,
  versionToJson,
  withTemplate,
  type TemplateVersionsPageJson,
} from "./json.js";

const VISIBILITIES = new Map([
  ["public", Visibility.PUBLIC],
  ["private", Visibility.PRIVATE],
]);

/** A content change that takes the pool's wallet away from agents is signed with this set (docs/templates.md). */
const ACKNOWLEDGE = "acknowledge_wallet_removal";

/** CreateTemplate's fields in REST's words: the content's at the top of the body. */
const CREATE_NAMES = fieldNames({ creator_id: "creator_id", content: "", signature: "signature" });

/** Whether the body sends any content field: none at all is no content, which the service names (`body`). */
const sendsContent = (body: JsonObject) => CONTENT_FIELDS.some((f) => body.has(f));

/**
 * A new template. A content REST cannot read in part (a word it has no
 * value for, a field of the wrong type) is named field by field, with the
 * service's check of the rest (the creator, the content as read, the model
 * among those the pool serves, which ListModels says), and the service is
 * not asked to create it.
 */
const createTemplate: Handler = async (r, { templates }) => {
  const body = await r.body(["creator_id", ...CONTENT_FIELDS, "signature"]);
  const check = new Violations();
  // Left out: "", which the service names with the rest.
  const creatorId = check.read(() => body.string("creator_id", "")) ?? "";
  const sent = sendsContent(body);
  const content = sent ? check.read(() => contentFromBody(body, check)) : undefined;
  const req = { creatorId, ...(content ? { content } : {}), signature: check.read(() => signatureOf(body)) };
  if (check.any()) {
    const { models } = await templates.listModels({}, r.call);
    const read = content !== undefined || !sent;
    check.doneWith(CREATE_NAMES, () => unlessUnread(createViolations(req, models), "content", read));
  }
  const res = await templates.createTemplate(req, r.call);
  const out = withTemplate(201, res.template);
  out.headers = { ...out.headers, location: `${BASE}/templates/${encodeURIComponent(res.template?.id ?? "")}` };
  return out;
};

const getTemplate: Handler = async (r, { templates }) => {
  const resolve = queryBool(query(r, ["resolve"]), "resolve");
  const res = await templates.getTemplate({ templateId: r.id, resolve }, r.call);
  const out = withTemplate(200, res.template);
  if (res.resolved) out.body = { ...(out.body as object), resolved: resolvedToJson(res.resolved) };
  return out;
};

/** A change's fields in REST's words: the content's or patch's at the top of the body, the version as If-Match. */
const changeNames = (message: "content" | "patch") =>
  fieldNames({
    template_id: "template_id",
    expected_version: "If-Match",
    [message]: "",
    signature: "signature",
    release_notes: "release_notes",
    acknowledge_wallet_removal: ACKNOWLEDGE,
  });
const UPDATE_NAMES = changeNames("content");
const PATCH_NAMES = changeNames("patch");

/**
 * What a PUT and a PATCH read, in the order they always have: If-Match, the
 * content or patch (`read`), then the signature, release notes and the
 * wallet's acknowledgement, each fault of REST's own kept in `check`.
 */
function changeOf<T>(r: RestRequest, body: JsonObject, check: Violations, read: () => T) {
  const expectedVersion = check.read(() => ifMatch(r)) ?? 0n;
  const message = check.read(read);
  return {
    message,
    change: {
      templateId: r.id,
      expectedVersion,
      signature: check.read(() => signatureOf(body)),
      releaseNotes: check.read(() => body.string("release_notes", "")) ?? "",
      acknowledgeWalletRemoval: check.read(() => body.boolean(ACKNOWLEDGE, false)) ?? false,
    },
  };
}

/** The service's violations but of `message`, when REST could not read it: its fault is REST's own, named there. */
const unlessUnread = (violations: FieldViolationInfo[], message: string, read: boolean) =>
  read ? violations : violations.filter((v) => v.field !== message && !v.field.startsWith(`${message}.`));

/**
 * A full update. A content REST cannot read in part (a word it has no value
 * for, a field of the wrong type) is named field by field, with the
 * service's check of the rest (the content as read, the template, If-Match,
 * release notes), and the service is not asked; one with a field it may not
 * have is named there alone, beside the rest.
 */
const updateTemplate: Handler = async (r, { templates }) => {
  query(r, []);
  const body = await r.body([...CONTENT_FIELDS, "release_notes", ACKNOWLEDGE, "signature"]);
  const check = new Violations();
  const sent = sendsContent(body);
  const { change, message: content } = changeOf(r, body, check, () =>
    sent ? contentFromBody(body, check) : undefined,
  );
  const req = { ...change, ...(content ? { content } : {}) };
  check.doneWith(UPDATE_NAMES, () => unlessUnread(updateViolations(req), "content", content !== undefined || !sent));
  const res = await templates.updateTemplate(req, r.call);
  return withTemplate(200, res.template);
};

/**
 * A patch: as a full update, its fields read as the patch's. A patch whose
 * every field REST could not read sets none as read: the service's "sets no
 * field" is then not REST's to add, the body did send one.
 */
const patchTemplate: Handler = async (r, { templates }) => {
  query(r, []);
  const body = await r.body([...CONTENT_FIELDS, "release_notes", ACKNOWLEDGE, "signature"]);
  const check = new Violations();
  const sent = sendsContent(body);
  const { change, message: patch } = changeOf(r, body, check, () => patchFromBody(body, check));
  const req = { ...change, ...(patch ? { patch } : {}) };
  check.doneWith(PATCH_NAMES, () =>
    unlessUnread(patchViolations(req), "patch", patch !== undefined).filter((v) => !(sent && v.field === "patch")),
  );
  const res = await templates.patchTemplate(req, r.call);
  return withTemplate(200, res.template);
};

/** SetTemplateVisibility's fields in REST's words. */
const VISIBILITY_NAMES = fieldNames({
  template_id: "template_id",
  expected_version: "If-Match",
  visibility: "visibility",
  signature: "signature",
});

/**
 * Publish or unpublish: If-Match, `visibility` and `signature` read together.
 * A visibility that is not "public" or "private" (none, or another word) is
 * REST's own fault; the service's check of the rest (the template id and
 * version, all it checks beside the visibility) is named with it, and the
 * service is not asked.
 */
const setVisibility: Handler = async (r, { templates }) => {
  query(r, []);
  const body = await r.body(["visibility", "signature"]);
  const check = new Violations();
  const expectedVersion = check.read(() => ifMatch(r)) ?? 0n;
  const visibility = VISIBILITIES.get(check.read(() => body.oneOf("visibility", ["public", "private"] as const)) ?? "");
  const signature = check.read(() => signatureOf(body));
  const req = { templateId: r.id, expectedVersion, visibility: visibility ?? Visibility.UNSPECIFIED, signature };
  check.doneWith(VISIBILITY_NAMES, () => changeViolations(req));
  const res = await templates.setTemplateVisibility(req, r.call);
  return withTemplate(200, res.template);
};

/** Archive, or with ?permanent=true delete for good (204). */
const deleteTemplate: Handler = async (r, { templates }) => {
  const permanent = queryBool(query(r, ["permanent"]), "permanent");
  const expectedVersion = ifMatch(r);
  const body = await r.body(["signature"]);
  const req = { templateId: r.id, expectedVersion, signature: signatureOf(body) };
  if (permanent) {
    await templates.deleteTemplate(req, r.call);
    return { status: 204 };
  }
  const res = await templates.archiveTemplate(req, r.call);
  return withTemplate(200, res.template);
};

const listVersions: Handler = async (r, { templates }) => {
  const q = query(r, ["limit", "cursor"]);
  const res = await templates.listTemplateVersions({ templateId: r.id, ...queryPage(q) }, r.call);
  return {
    status: 200,
    body: {
      versions: res.versions.map(versionToJson),
      next_cursor: nextCursor(res.nextPageToken),
    } satisfies TemplateVersionsPageJson,
  };
};

const rollback: Handler = async (r, { templates }) => {
  const { expectedVersion, body } = await signedChange(r, ["target_version", "release_notes", ACKNOWLEDGE]);
  const res = await templates.rollbackTemplate(
    {
      templateId: r.id,
      expectedVersion,
      // Left out, 0: the service names it with the request's other faults.
      targetVersion: BigInt(body.integer("target_version", Number.MIN_SAFE_INTEGER, 0)),
      signature: signatureOf(body),
      releaseNotes: body.string("release_notes", ""),
      acknowledgeWalletRemoval: body.boolean(ACKNOWLEDGE, false),
    },
    r.call,
  );
  return withTemplate(200, res.template);
};

/** The models a template may name (POOL_MODELS; docs/templates.md, "Models"). */
const listModels: Handler = async (r, { templates }) => {
  query(r, []);
  const res = await templates.listModels({}, r.call);
  return { status: 200, body: { models: res.models } };
};

export const TEMPLATE_ROUTES: Route[] = [
  ["GET", "/models", listModels, TEMPLATE_ERRORS],
  ["GET", "/templates", listTemplates, LIST_QUERY],
  ["POST", "/templates", createTemplate, CREATE_NAMES],
  ["GET", "/templates/:id", getTemplate, TEMPLATE_ERRORS],
  ["PUT", "/templates/:id", updateTemplate, UPDATE_NAMES],
  ["PATCH", "/templates/:id", patchTemplate, PATCH_NAMES],
  ["DELETE", "/templates/:id", deleteTemplate, TEMPLATE_ERRORS],
  ["PATCH", "/templates/:id/visibility", setVisibility, VISIBILITY_NAMES],
  ["GET", "/templates/:id/versions", listVersions, TEMPLATE_ERRORS],
  ["POST", "/templates/:id/rollback", rollback, TEMPLATE_ERRORS],
];
