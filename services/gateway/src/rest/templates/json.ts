// Templates in their REST JSON form (docs/rest.md) and REST bodies as the
// request messages of TemplateService.

import { create } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
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
  DEFAULT_MODEL,
  NOT_A_TRUST_LEVEL,
  TOOL_KIND_NAMES,
  contentFromJson,
  parseTrustLevel,
  contentToJson,
  readSoulJson,
  soulFromJson,
  type ModelJson,
  type BaseJson,
  type ConnectionJson,
  ROUTINE_FIELDS,
  type RoutineJson,
  type SoulJson,
  type TemplateContentJson,
  type ToolJson,
  type RuntimeName,
  type TrustLevelName,
} from "@convos-pool/kit/content";
import { badRequest } from "../core/errors.js";
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

/** The content fields of a body: the kit's list, shared with the CLI's and the web app's content files. */
export { CONTENT_FIELDS } from "@convos-pool/kit/content";
const MODEL_FIELDS = ["default", "allow_override"] as const;
const TOOL_FIELDS = ["id", "name", "provisioning", "description", "prompt", "required", "kind"] as const;
const CONNECTION_FIELDS = ["kind", "capabilities", "reason"] as const;

function modelFrom(o: JsonObject): ModelJson {
  return { default: o.string("default"), allow_override: o.boolean("allow_override", DEFAULT_MODEL.allow_override) };
}

function toolFrom(o: JsonObject): ToolJson {
  return {
    id: o.string("id"),
    name: o.string("name", ""),
    provisioning: o.oneOf("provisioning", ["pool", "user"] as const),
    description: o.string("description", ""),
    prompt: o.string("prompt", ""),
    required: o.boolean("required", false),
    // Absent or "": unspecified, left out of the JSON the creator's hash covers.
    ...(o.has("kind") && o.string("kind") !== "" ? { kind: o.oneOf("kind", TOOL_KIND_NAMES) } : {}),
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
/** Its shape here (a field a routine does not have: 400 naming it); its rules and limits are the templates service's. */
const routinesOf = (body: JsonObject): RoutineJson[] | undefined =>
  body.objects("routines", ROUTINE_FIELDS)?.map((o) => ({
    id: o.string("id"),
    name: o.string("name", ""),
    rrule: o.string("rrule"),
    time: o.string("time"),
    instruction: o.string("instruction", ""),
  }));
/** `version` left out (or 0): the template follows its base. */
const baseOf = (body: JsonObject): BaseJson | undefined => {
  const b = body.object("base", ["template_id", "creator_id", "version"]);
  if (!b) return undefined;
  const version = b.integer("version", 0, 0);
  return { template_id: b.string("template_id"), creator_id: b.string("creator_id"), ...(version ? { version } : {}) };
};

/** Its shape here (400 naming the field); its limits are the templates service's. `{}` when it sets nothing. */
const soulOf = (body: JsonObject): SoulJson | undefined =>
  body.has("soul")
    ? readSoulJson(body.raw("soul"), body.field("soul"), (field, message) => {
        throw badRequest(field, message);
      })
    : undefined;

/**
 * A full content (create, PUT), omitted optional fields at their defaults.
 * This JSON, defaults included, is what the creator's contentHash covers.
 */
export function contentFromBody(body: JsonObject): TemplateContent {
  const json: TemplateContentJson = {
    agent_name: body.string("agent_name"),
    instructions: body.string("instructions"),
    tools: toolsOf(body) ?? [],
    description: body.string("description", ""),
    category: body.string("category", ""),
    tags: body.strings("tags") ?? [],
  };
  // With a base, no model means the base's.
  const base = baseOf(body);
  const model = modelOf(body) ?? (base ? undefined : { ...DEFAULT_MODEL });
  if (model) json.model = model;
  if (base) json.base = base;
  const directive = body.string("clone_directive", "");
  if (directive) json.clone_directive = directive;
  // Checked by the templates service, which names the field; "" is none, as for the directive.
  const level = body.string("max_trust_level", "");
  if (level) json.max_trust_level = level as TrustLevelName;
  const soul = soulOf(body);
  if (soul && Object.keys(soul).length > 0) json.soul = soul;
  const avatar = body.string("avatar", "");
  if (avatar) json.avatar = avatar;
  // "pool" or "openclaw" (docs/openclaw.md); checked by the templates service, which names the field.
  const runtime = body.string("runtime", "");
  if (runtime) json.runtime = runtime as RuntimeName;
  const starters = body.strings("conversation_starters") ?? [];
  if (starters.length > 0) json.conversation_starters = starters;
  // Left out when empty, as content is hashed.
  const connections = connectionsOf(body) ?? [];
  if (connections.length > 0) json.connections = connections;
  const routines = routinesOf(body) ?? [];
  if (routines.length > 0) json.routines = routines;
  return contentFromJson(json);
}

/** The content fields a PATCH body sets; `tools: []`, `tags: []`, `connections: []` empty the lists. */
export function patchFromBody(body: JsonObject): TemplatePatch {
  if (body.has("base")) throw badRequest("base", "is changed by a full update (PUT), not by a patch");
  if (body.has("runtime")) throw badRequest("runtime", "is changed by a full update (PUT), not by a patch");
  const level = body.has("max_trust_level") ? body.string("max_trust_level") : undefined;
  const maxTrustLevel =
    level === undefined || level === "" ? (level === "" ? TrustLevel.UNSPECIFIED : undefined) : parseTrustLevel(level);
  if (level && maxTrustLevel === undefined) throw badRequest("max_trust_level", NOT_A_TRUST_LEVEL);
  const opt = (key: string) => (body.has(key) ? body.string(key) : undefined);
  const model = modelOf(body);
  const tools = toolsOf(body);
  const tags = body.strings("tags");
  const starters = body.strings("conversation_starters");
  const connections = connectionsOf(body);
  const routines = routinesOf(body);
  const soul = soulOf(body);
  return create(TemplatePatchSchema, {
    agentName: opt("agent_name"),
    instructions: opt("instructions"),
    model: model && asProto({ model }).model,
    tools: tools ? asProto({ tools }).tools : [],
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
    routines: routines ? asProto({ routines }).routines : [],
    clearRoutines: routines !== undefined && routines.length === 0,
    maxTrustLevel,
    // `{}` is an empty Soul, which removes it.
    soul: soul && soulFromJson(soul),
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
