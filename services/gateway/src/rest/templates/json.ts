// Templates in their REST JSON form (docs/rest.md) and REST bodies as the
// request messages of TemplateService.

import { create } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Provisioning, TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  ReviewState,
  TemplateContentSchema,
  TemplateStatus,
  Visibility,
  type Template,
  type TemplateRatings,
  type TemplateContent,
  type TemplateDelisting,
  type TemplateVersion,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  TemplatePatchSchema,
  type ResolvedTemplate,
  type TemplatePatch,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  CONTENT_FIELDS,
  DEFAULT_MODEL,
  contentFromJson,
  parseTrustLevel,
  contentToJson,
  readSoulJson,
  soulFromJson,
  type ModelJson,
  type BaseJson,
  type ConnectionJson,
  type SoulJson,
  type TemplateContentJson,
  type ToolJson,
  type ToolKindName,
  type RuntimeName,
  type TrustLevelName,
} from "@convos-pool/kit/content";
import { badRequest, readAll, type Violations } from "../core/errors.js";
import { etag, nextCursor, type RestResponse } from "../core/request.js";
import type { JsonObject } from "../core/json.js";

export type TemplateJson = { id: string; creator_id: string } & TemplateContentJson & {
    visibility: "public" | "private";
    status: "active" | "archived";
    version: number;
    content_version: number;
    usage_count: number;
    recent_owners: number;
    featured: boolean;
    /** Its owners' ratings, present from 3 on (docs/store.md, "Ratings"). */
    ratings?: RatingsJson;
    /** Present while delisted (its creator's and the operators' reads). */
    delisting?: DelistingJson;
    created_at: string | null;
    updated_at: string | null;
  };

export interface RatingsJson {
  average: number;
  count: number;
  score: number;
}

export const ratingsToJson = (r: TemplateRatings): RatingsJson => ({
  average: r.average,
  count: Number(r.count),
  score: r.score,
});

export interface DelistingJson {
  reason: string;
  operator_id: string;
  delisted_at: string | null;
  review: {
    state: "none" | "requested" | "declined";
    message: string;
    version: number;
    requested_at: string | null;
    note: string;
  };
}

export interface TemplateVersionJson {
  template_id: string;
  version: number;
  snapshot: TemplateJson | null;
  changed_by: string;
  changed_at: string | null;
  change_summary: string;
  release_notes: string;
}

/** GET /api/pool/templates/{id}/versions: a page of the template's history, newest first. */
export interface TemplateVersionsPageJson {
  versions: TemplateVersionJson[];
  next_cursor: string | null;
}

const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : null);

export function templateToJson(t: Template): TemplateJson {
  return {
    id: t.id,
    creator_id: t.creatorId,
    ...contentToJson(t.content ?? create(TemplateContentSchema)),
    visibility: t.visibility === Visibility.PUBLIC ? "public" : "private",
    status: t.status === TemplateStatus.ARCHIVED ? "archived" : "active",
    version: Number(t.version),
    content_version: Number(t.contentVersion),
    usage_count: Number(t.usageCount),
    recent_owners: Number(t.recentOwners),
    featured: t.featured,
    ...(t.ratings ? { ratings: ratingsToJson(t.ratings) } : {}),
    ...(t.delisting ? { delisting: delistingToJson(t.delisting) } : {}),
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
  };
}

const REVIEW_STATES = {
  [ReviewState.UNSPECIFIED]: "none",
  [ReviewState.REQUESTED]: "requested",
  [ReviewState.DECLINED]: "declined",
} as const;

export function delistingToJson(d: TemplateDelisting): DelistingJson {
  return {
    reason: d.reason,
    operator_id: d.operatorId,
    delisted_at: iso(d.delistedAt),
    review: {
      state: REVIEW_STATES[d.reviewState] ?? "none",
      message: d.reviewMessage,
      version: Number(d.reviewVersion),
      requested_at: iso(d.reviewRequestedAt),
      note: d.reviewNote,
    },
  };
}

export function versionToJson(v: TemplateVersion): TemplateVersionJson {
  return {
    template_id: v.templateId,
    version: Number(v.version),
    snapshot: v.snapshot ? templateToJson(v.snapshot) : null,
    changed_by: v.changedBy,
    changed_at: iso(v.changedAt),
    change_summary: v.changeSummary,
    release_notes: v.releaseNotes,
  };
}

// ---------------------------------------------------------------- request bodies
//
// REST's own reading of a content or a patch is its shape: JSON types and
// field names, which no RPC message can carry wrong. Each fault of it is
// kept (the Violations given), not thrown at the first, and the field read
// as its zero, so that the route can name it beside what the templates
// service's own check (the kit's createViolations, updateViolations,
// patchViolations) finds in the rest. Words and limits are the service's:
// a provisioning, kind, trust level or runtime no value names goes on as a
// value the service refuses, naming the field.

/** The content fields of a body: the kit's list, shared with the CLI's and the web app's content files. */
export { CONTENT_FIELDS };
const MODEL_FIELDS = ["default", "allow_override"] as const;
const TOOL_FIELDS = ["id", "name", "provisioning", "description", "prompt", "required", "kind"] as const;
const CONNECTION_FIELDS = ["kind", "capabilities", "reason"] as const;

/** Whether a body sets any content field: one that sets none sends no content, which the service names (`body`). */
export const hasContent = (body: JsonObject): boolean => CONTENT_FIELDS.some((f) => body.has(f));

function modelFrom(o: JsonObject): ModelJson {
  return { default: o.string("default"), allow_override: o.boolean("allow_override", DEFAULT_MODEL.allow_override) };
}

function toolFrom(o: JsonObject): ToolJson {
  return {
    id: o.string("id"),
    name: o.string("name", ""),
    // A word no provisioning names goes on as none (toProvisioning), for the service to name.
    provisioning: o.string("provisioning") as ToolJson["provisioning"],
    description: o.string("description", ""),
    prompt: o.string("prompt", ""),
    required: o.boolean("required", false),
    // Absent or "": unspecified, left out of the JSON the creator's hash covers; another word, a kind the service refuses.
    ...(o.has("kind") && o.string("kind") !== "" ? { kind: o.string("kind") as ToolKindName } : {}),
  };
}

const modelOf = (body: JsonObject) => {
  const m = body.object("model", MODEL_FIELDS);
  return m && modelFrom(m);
};
const toolsOf = (body: JsonObject) => body.objects("tools", TOOL_FIELDS)?.map(toolFrom);
/** Its shape here; its kinds, capabilities and limits are the templates service's, which names the field. */
const connectionsOf = (body: JsonObject): ConnectionJson[] | undefined =>
  body.objects("connections", CONNECTION_FIELDS)?.map((o) => ({
    kind: o.string("kind"),
    capabilities: o.strings("capabilities") ?? [],
    reason: o.string("reason", ""),
  }));
/** `version` left out (or 0): the template follows its base; any other whole number goes on, its range the service's. */
const baseOf = (body: JsonObject): BaseJson | undefined => {
  const b = body.object("base", ["template_id", "creator_id", "version"]);
  if (!b) return undefined;
  const version = b.integer("version", Number.MIN_SAFE_INTEGER, 0);
  return { template_id: b.string("template_id"), creator_id: b.string("creator_id"), ...(version ? { version } : {}) };
};

/** Its shape here (400 naming the field); its limits are the templates service's. `{}` when it sets nothing. */
const soulOf = (body: JsonObject): SoulJson | undefined =>
  body.has("soul")
    ? readSoulJson(body.raw("soul"), body.field("soul"), (field, message) => {
        throw badRequest(field, message);
      })
    : undefined;

/** A tool's provisioning as sent: a word other than "pool" or "user" is none, which the service refuses. */
function toProvisioning(tools: readonly ToolJson[], proto: TemplateContent["tools"]): void {
  tools.forEach((t, i) => {
    const p = proto[i];
    if (p && t.provisioning !== "pool" && t.provisioning !== "user") p.provisioning = Provisioning.UNSPECIFIED;
  });
}

/**
 * A full content (create, PUT), omitted optional fields at their defaults.
 * This JSON, defaults included, is what the creator's contentHash covers.
 * `agent_name` and `instructions` left out are empty, which the service
 * names; a field of the wrong shape is kept in `check` and read as empty.
 */
export function contentFromBody(body: JsonObject, check?: Violations): TemplateContent {
  return readAll(check, (c) => {
    const text = (key: string) => c.read(() => body.string(key, "")) ?? "";
    const tools = c.read(() => toolsOf(body)) ?? [];
    const json: TemplateContentJson = {
      agent_name: text("agent_name"),
      instructions: text("instructions"),
      tools,
      description: text("description"),
      category: text("category"),
      tags: c.read(() => body.strings("tags")) ?? [],
    };
    // With a base, no model means the base's.
    const base = c.read(() => baseOf(body));
    const model = c.read(() => modelOf(body)) ?? (base ? undefined : { ...DEFAULT_MODEL });
    if (model) json.model = model;
    if (base) json.base = base;
    const directive = text("clone_directive");
    if (directive) json.clone_directive = directive;
    // Checked by the templates service, which names the field; "" is none, as for the directive.
    const level = text("max_trust_level");
    if (level) json.max_trust_level = level as TrustLevelName;
    const soul = c.read(() => soulOf(body));
    if (soul && Object.keys(soul).length > 0) json.soul = soul;
    const avatar = text("avatar");
    if (avatar) json.avatar = avatar;
    // "pool" or "openclaw" (docs/openclaw.md); checked by the templates service, which names the field.
    const runtime = text("runtime");
    if (runtime) json.runtime = runtime as RuntimeName;
    const starters = c.read(() => body.strings("conversation_starters")) ?? [];
    if (starters.length > 0) json.conversation_starters = starters;
    // Left out when empty, as content is hashed.
    const connections = c.read(() => connectionsOf(body)) ?? [];
    if (connections.length > 0) json.connections = connections;
    const content = contentFromJson(json);
    toProvisioning(tools, content.tools);
    return content;
  });
}

/**
 * The content fields a PATCH body sets; `tools: []`, `tags: []`,
 * `connections: []` empty the lists. A field of the wrong shape is kept in
 * `check` and left unset; `base` and `runtime` are REST's to refuse (a
 * patch has no such field).
 */
export function patchFromBody(body: JsonObject, check?: Violations): TemplatePatch {
  return readAll(check, (c) => {
    if (body.has("base")) c.add({ field: "base", description: "is changed by a full update (PUT), not by a patch" });
    if (body.has("runtime"))
      c.add({ field: "runtime", description: "is changed by a full update (PUT), not by a patch" });
    const opt = (key: string) => (body.has(key) ? c.read(() => body.string(key)) : undefined);
    const level = opt("max_trust_level");
    // "" is none; a word no level names, a value no level is, which the service refuses naming the field.
    const maxTrustLevel =
      level === undefined
        ? undefined
        : level === ""
          ? TrustLevel.UNSPECIFIED
          : (parseTrustLevel(level) ?? (-1 as TrustLevel));
    const model = c.read(() => modelOf(body));
    const tools = c.read(() => toolsOf(body));
    const tags = c.read(() => body.strings("tags"));
    const starters = c.read(() => body.strings("conversation_starters"));
    const connections = c.read(() => connectionsOf(body));
    const soul = c.read(() => soulOf(body));
    const toolsProto = tools ? asProto({ tools }).tools : [];
    if (tools) toProvisioning(tools, toolsProto);
    return create(TemplatePatchSchema, {
      agentName: opt("agent_name"),
      instructions: opt("instructions"),
      model: model && asProto({ model }).model,
      tools: toolsProto,
      clearTools: tools !== undefined && tools.length === 0,
      description: opt("description"),
      category: opt("category"),
      tags: tags ?? [],
      clearTags: tags !== undefined && tags.length === 0,
      cloneDirective: opt("clone_directive"),
      avatar: opt("avatar"),
      // `[]` removes them, as for tags.
      conversationStarters: starters ?? [],
      clearConversationStarters: starters !== undefined && starters.length === 0,
      connections: connections ? asProto({ connections }).connections : [],
      clearConnections: connections !== undefined && connections.length === 0,
      maxTrustLevel,
      // `{}` is an empty Soul, which removes it.
      soul: soul && soulFromJson(soul),
    });
  });
}

/** Proto form of some content fields (the rest at their zero values). */
function asProto(part: Partial<TemplateContentJson>): TemplateContent {
  const zero = {
    agent_name: "",
    instructions: "",
    model: DEFAULT_MODEL,
    tools: [],
    description: "",
    category: "",
    tags: [],
  };
  return contentFromJson({ ...zero, ...part });
}

/** The resolved view (`?resolve=true`): what the template's agents run on, and the layers it came from. */
export function resolvedToJson(r: ResolvedTemplate): Record<string, unknown> {
  return {
    ...contentToJson(r.content ?? create(TemplateContentSchema)),
    layers: r.layers.map((l) => ({
      template_id: l.templateId,
      creator_id: l.creatorId,
      version: Number(l.version),
      agent_name: l.agentName,
      pinned: l.pinned,
    })),
    identity_md: r.identityMd,
  };
}

export function withTemplate(status: number, t: Template | undefined): RestResponse {
  if (!t) throw new Error("templates service answered without a template");
  return { status, body: templateToJson(t), headers: { etag: etag(t.version) } };
}

/** A page of templates, as the store and the curation lists answer it: `{templates, next_cursor}`. */
export const templatesPage = (res: { templates: Template[]; nextPageToken: string }) => ({
  templates: res.templates.map(templateToJson),
  next_cursor: nextCursor(res.nextPageToken),
});
