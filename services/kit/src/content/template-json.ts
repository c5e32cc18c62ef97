// Template content and patches given as JSON (a creator's file, the web
// app's JSON view): read into the REST JSON form with the optional fields
// filled the way the server fills them, so that the hash the creator signs
// is the hash the templates service computes. Errors name where and which field.
import {
  DEFAULT_MODEL,
  type BaseJson,
  type ModelJson,
  type RuntimeName,
  type TemplateContentJson,
  type TemplatePatchJson,
  type ToolJson,
} from "./template.js";
import { readSoulJson, type SoulJson } from "./soul.js";
import type { ConnectionJson } from "./connections.js";
import { ROUTINE_FIELDS, type RoutineJson } from "./routines.js";
import { isToolKindName, TOOL_KIND_NAMES, type ToolKindName } from "./tool-values.js";
import { NOT_A_TRUST_LEVEL, isTrustLevelName, type TrustLevelName } from "./trust.js";

export const CONTENT_FIELDS = [
  "agent_name",
  "instructions",
  "model",
  "tools",
  "description",
  "category",
  "tags",
  "clone_directive",
  "max_trust_level",
  "soul",
  "base",
  "avatar",
  "runtime",
  "conversation_starters",
  "connections",
  "routines",
] as const;

/**
 * Fields of a whole template (the output of `pool get`) that are not content:
 * skipped, so a fetched template can be edited and sent back as it is.
 */
export const TEMPLATE_METADATA_FIELDS = [
  "id",
  "creator_id",
  "visibility",
  "status",
  "version",
  "content_version",
  "usage_count",
  "recent_owners",
  "featured",
  "delisting",
  "created_at",
  "updated_at",
] as const;

const TOOL_FIELDS = ["id", "name", "provisioning", "description", "prompt", "required", "kind"] as const;
const MODEL_FIELDS = ["default", "allow_override"] as const;
const BASE_FIELDS = ["template_id", "creator_id", "version"] as const;
const CONNECTION_FIELDS = ["kind", "capabilities", "reason"] as const;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What is wrong with a content or patch given as JSON: where (a file, "JSON"), the field, and why. */
export class ContentJsonError extends Error {
  constructor(
    readonly where: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(field ? `${where}: ${field}: ${detail}` : `${where}: ${detail}`);
    this.name = "ContentJsonError";
  }
}

function fail(where: string, field: string, message: string): never {
  throw new ContentJsonError(where, field, message);
}

function checkKeys(
  where: string,
  prefix: string,
  obj: Json,
  allowed: readonly string[],
  ignored: readonly string[] = [],
): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k) && !ignored.includes(k)) {
      fail(where, prefix ? `${prefix}.${k}` : k, `unknown field (expected ${allowed.join(", ")})`);
    }
  }
}

function str(where: string, field: string, v: unknown, fallback?: string): string {
  if (v === undefined && fallback !== undefined) return fallback;
  if (v === undefined) fail(where, field, "is required");
  if (typeof v !== "string") fail(where, field, "must be a string");
  return v;
}

function bool(where: string, field: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") fail(where, field, "must be true or false");
  return v;
}

/** As the gateway reads it: `default` is required, a missing `allow_override` is true (the schema default's). */
function fillModel(where: string, field: string, v: unknown): ModelJson {
  if (!isObject(v)) fail(where, field, 'must be an object such as {"default": "gpt-oss-20b", "allow_override": true}');
  checkKeys(where, field, v, MODEL_FIELDS);
  return {
    default: str(where, `${field}.default`, v.default),
    allow_override: bool(where, `${field}.allow_override`, v.allow_override, DEFAULT_MODEL.allow_override),
  };
}

/** `version` left out (or 0): it follows the base. */
function fillBase(where: string, field: string, v: unknown): BaseJson {
  if (!isObject(v)) fail(where, field, 'must be an object such as {"template_id": "tmpl_…", "creator_id": "…"}');
  checkKeys(where, field, v, BASE_FIELDS);
  const version = v.version;
  if (version !== undefined && (typeof version !== "number" || !Number.isSafeInteger(version) || version < 0)) {
    fail(where, `${field}.version`, "must be a content version of the base, or left out to follow it");
  }
  return {
    template_id: str(where, `${field}.template_id`, v.template_id),
    creator_id: str(where, `${field}.creator_id`, v.creator_id),
    ...(version ? { version } : {}),
  };
}

function provisioning(where: string, field: string, v: unknown): ToolJson["provisioning"] {
  if (v !== "pool" && v !== "user") fail(where, field, v === undefined ? "is required" : 'must be "pool" or "user"');
  return v;
}

/** Left out when absent or empty, as the server hashes it. */
function toolKindOf(where: string, field: string, v: unknown): { kind?: ToolKindName } {
  if (v === undefined || v === "") return {};
  if (!isToolKindName(v)) fail(where, field, `must be one of ${TOOL_KIND_NAMES.map((n) => `"${n}"`).join(", ")}`);
  return { kind: v };
}

/** `id` and `provisioning` are required; name, description, prompt default to "", required to false. */
function fillTools(where: string, field: string, v: unknown): ToolJson[] {
  if (!Array.isArray(v)) fail(where, field, "must be a list of tools");
  return v.map((t, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(t)) fail(where, f, "must be an object");
    checkKeys(where, f, t, TOOL_FIELDS);
    return {
      id: str(where, `${f}.id`, t.id),
      name: str(where, `${f}.name`, t.name, ""),
      provisioning: provisioning(where, `${f}.provisioning`, t.provisioning),
      description: str(where, `${f}.description`, t.description, ""),
      prompt: str(where, `${f}.prompt`, t.prompt, ""),
      required: bool(where, `${f}.required`, t.required, false),
      ...toolKindOf(where, `${f}.kind`, t.kind),
    };
  });
}

/** "L1" to "L4", or "" for none (L2): left out of a content, removing it in a patch. */
function trustLevel(where: string, field: string, v: unknown): TrustLevelName | "" {
  if (v === "") return "";
  if (!isTrustLevelName(v)) fail(where, field, NOT_A_TRUST_LEVEL);
  return v;
}

/** Left out when absent or empty, as the server hashes it. */
function maxTrustLevel(where: string, v: unknown): { max_trust_level?: TrustLevelName } {
  const level = v === undefined ? "" : trustLevel(where, "max_trust_level", v);
  return level ? { max_trust_level: level } : {};
}

/** Shape-checked and compacted as the server hashes it; `{}` when it sets nothing. */
const fillSoul = (where: string, v: unknown) =>
  readSoulJson(v, "soul", (field, message) => fail(where, field, message));

/** Left out when absent or empty, as the server hashes it. */
function soulOf(where: string, v: unknown): { soul?: SoulJson } {
  const soul = v === undefined ? {} : fillSoul(where, v);
  return Object.keys(soul).length > 0 ? { soul } : {};
}

function fillTags(where: string, field: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((t) => typeof t !== "string")) fail(where, field, "must be a list of strings");
  return [...(v as string[])];
}

/** Left out when absent or empty, as the server hashes it. */
function startersOf(where: string, v: unknown): { conversation_starters?: string[] } {
  const starters = v === undefined ? [] : fillTags(where, "conversation_starters", v);
  return starters.length > 0 ? { conversation_starters: starters } : {};
}

/** `kind` is required; `capabilities` default to `[]` and `reason` to "", which the server refuses by name. */
function fillConnections(where: string, field: string, v: unknown): ConnectionJson[] {
  if (!Array.isArray(v)) fail(where, field, "must be a list of connections");
  return v.map((c, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(c)) fail(where, f, 'must be an object such as {"kind": "calendar", "capabilities": ["read"], …}');
    checkKeys(where, f, c, CONNECTION_FIELDS);
    return {
      kind: str(where, `${f}.kind`, c.kind),
      capabilities: c.capabilities === undefined ? [] : fillTags(where, `${f}.capabilities`, c.capabilities),
      reason: str(where, `${f}.reason`, c.reason, ""),
    };
  });
}

/** Left out when absent or empty, as the server hashes it. */
function connectionsOf(where: string, v: unknown): { connections?: ConnectionJson[] } {
  const connections = v === undefined ? [] : fillConnections(where, "connections", v);
  return connections.length > 0 ? { connections } : {};
}

/** Every field a string, `id`, `rrule` and `time` required; name and instruction default to "", which the server refuses by name. */
function fillRoutines(where: string, field: string, v: unknown): RoutineJson[] {
  if (!Array.isArray(v)) fail(where, field, "must be a list of routines");
  return v.map((r, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(r))
      fail(where, f, 'must be an object such as {"id": "weekly-plan", "rrule": "FREQ=WEEKLY;BYDAY=MO", …}');
    checkKeys(where, f, r, ROUTINE_FIELDS);
    return {
      id: str(where, `${f}.id`, r.id),
      name: str(where, `${f}.name`, r.name, ""),
      rrule: str(where, `${f}.rrule`, r.rrule),
      time: str(where, `${f}.time`, r.time),
      instruction: str(where, `${f}.instruction`, r.instruction, ""),
    };
  });
}

/** Left out when absent or empty, as the server hashes it. */
function routinesOf(where: string, v: unknown): { routines?: RoutineJson[] } {
  const routines = v === undefined ? [] : fillRoutines(where, "routines", v);
  return routines.length > 0 ? { routines } : {};
}

/**
 * A full content from the REST JSON form: agent_name and instructions are
 * required; model, tools, description, category and tags take their
 * defaults; clone_directive, max_trust_level and soul are optional.
 * `where` names the source in error messages (the file name).
 */
export function fillContentJson(raw: unknown, where = "content"): TemplateContentJson {
  if (!isObject(raw)) fail(where, "", "must be a JSON object with the template's content fields");
  checkKeys(where, "", raw, CONTENT_FIELDS, TEMPLATE_METADATA_FIELDS);
  return {
    agent_name: str(where, "agent_name", raw.agent_name),
    instructions: str(where, "instructions", raw.instructions),
    // With a base, no model means the base's.
    ...(raw.model !== undefined
      ? { model: fillModel(where, "model", raw.model) }
      : raw.base === undefined
        ? { model: { ...DEFAULT_MODEL } }
        : {}),
    tools: raw.tools === undefined ? [] : fillTools(where, "tools", raw.tools),
    description: str(where, "description", raw.description, ""),
    category: str(where, "category", raw.category, ""),
    tags: raw.tags === undefined ? [] : fillTags(where, "tags", raw.tags),
    // Left out when empty, as the server hashes it.
    ...(str(where, "clone_directive", raw.clone_directive, "")
      ? { clone_directive: str(where, "clone_directive", raw.clone_directive) }
      : {}),
    ...maxTrustLevel(where, raw.max_trust_level),
    ...soulOf(where, raw.soul),
    ...(raw.base !== undefined ? { base: fillBase(where, "base", raw.base) } : {}),
    ...(str(where, "avatar", raw.avatar, "") ? { avatar: str(where, "avatar", raw.avatar) } : {}),
    ...(str(where, "runtime", raw.runtime, "") ? { runtime: str(where, "runtime", raw.runtime) as RuntimeName } : {}),
    ...startersOf(where, raw.conversation_starters),
    ...connectionsOf(where, raw.connections),
    ...routinesOf(where, raw.routines),
  };
}

/**
 * A patch: only the content fields present, each in the form the server's
 * patchToJson gives back (a model and every tool filled in; `[]` empties
 * tools or tags). At least one field must be set.
 */
export function fillPatchJson(raw: unknown, where = "patch"): TemplatePatchJson {
  if (!isObject(raw)) fail(where, "", "must be a JSON object with the content fields to change");
  checkKeys(where, "", raw, CONTENT_FIELDS, TEMPLATE_METADATA_FIELDS);
  for (const k of CONTENT_FIELDS) {
    if (raw[k] === null) fail(where, k, "must not be null: leave the field out to keep it");
  }
  if (raw.base !== undefined) fail(where, "base", "is changed by a full update (PUT), not by a patch");
  if (raw.runtime !== undefined) fail(where, "runtime", "is changed by a full update (PUT), not by a patch");
  const out: TemplatePatchJson = {};
  if (raw.agent_name !== undefined) out.agent_name = str(where, "agent_name", raw.agent_name);
  if (raw.instructions !== undefined) out.instructions = str(where, "instructions", raw.instructions);
  if (raw.model !== undefined) out.model = fillModel(where, "model", raw.model);
  if (raw.tools !== undefined) out.tools = fillTools(where, "tools", raw.tools);
  if (raw.description !== undefined) out.description = str(where, "description", raw.description);
  if (raw.category !== undefined) out.category = str(where, "category", raw.category);
  if (raw.tags !== undefined) out.tags = fillTags(where, "tags", raw.tags);
  if (raw.clone_directive !== undefined) out.clone_directive = str(where, "clone_directive", raw.clone_directive);
  if (raw.max_trust_level !== undefined)
    out.max_trust_level = trustLevel(where, "max_trust_level", raw.max_trust_level);
  // `{}` removes it.
  if (raw.soul !== undefined) out.soul = fillSoul(where, raw.soul);
  if (raw.avatar !== undefined) out.avatar = str(where, "avatar", raw.avatar);
  // `[]` removes them.
  if (raw.conversation_starters !== undefined)
    out.conversation_starters = fillTags(where, "conversation_starters", raw.conversation_starters);
  // `[]` removes them.
  if (raw.connections !== undefined) out.connections = fillConnections(where, "connections", raw.connections);
  // `[]` removes them.
  if (raw.routines !== undefined) out.routines = fillRoutines(where, "routines", raw.routines);
  if (Object.keys(out).length === 0) {
    fail(where, "", `sets no content field (${CONTENT_FIELDS.join(", ")})`);
  }
  return out;
}
