// Template content and patches given as JSON (a creator's file, the web
// app's JSON view): read into the REST JSON form with the optional fields
// filled the way the server fills them, so that the hash the creator signs
// is the hash the templates service computes. Errors name where and every
// field of the wrong shape at once, as the gateway's REST face reads a body.
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
import type { FieldViolationInfo } from "./errors.js";

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

/**
 * What is wrong with a content or patch given as JSON: where (a file,
 * "JSON") and each field with why, all at once (`violations`); `field` and
 * `detail` are the first's.
 */
export class ContentJsonError extends Error {
  readonly field: string;
  readonly detail: string;

  constructor(
    readonly where: string,
    readonly violations: readonly FieldViolationInfo[],
  ) {
    const said = violations.map((v) => (v.field ? `${v.field}: ${v.description}` : v.description));
    super(`${where}: ${said.join("; ")}`);
    this.name = "ContentJsonError";
    this.field = violations[0]?.field ?? "";
    this.detail = violations[0]?.description ?? "";
  }
}

/**
 * One file read: each fault kept with its field (the reading goes on, the
 * field read as its zero), thrown together by `done` as one ContentJsonError.
 */
class Faults {
  readonly list: FieldViolationInfo[] = [];

  constructor(readonly where: string) {}

  add(field: string, description: string): void {
    this.list.push({ field, description });
  }

  done<T>(out: T): T {
    if (this.list.length > 0) throw new ContentJsonError(this.where, this.list);
    return out;
  }
}

function checkKeys(f: Faults, prefix: string, obj: Json, allowed: readonly string[], ignored: readonly string[] = []) {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k) && !ignored.includes(k)) {
      f.add(prefix ? `${prefix}.${k}` : k, `unknown field (expected ${allowed.join(", ")})`);
    }
  }
}

function str(f: Faults, field: string, v: unknown, fallback?: string): string {
  if (v === undefined && fallback !== undefined) return fallback;
  if (v === undefined) f.add(field, "is required");
  else if (typeof v !== "string") f.add(field, "must be a string");
  else return v;
  return "";
}

function bool(f: Faults, field: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v === "boolean") return v;
  f.add(field, "must be true or false");
  return fallback;
}

/** As the gateway reads it: `default` is required, a missing `allow_override` is true (the schema default's). */
function fillModel(f: Faults, field: string, v: unknown): ModelJson {
  if (!isObject(v)) {
    f.add(field, 'must be an object such as {"default": "gpt-oss-20b", "allow_override": true}');
    return { ...DEFAULT_MODEL };
  }
  checkKeys(f, field, v, MODEL_FIELDS);
  return {
    default: str(f, `${field}.default`, v.default),
    allow_override: bool(f, `${field}.allow_override`, v.allow_override, DEFAULT_MODEL.allow_override),
  };
}

/** `version` left out (or 0): it follows the base. */
function fillBase(f: Faults, field: string, v: unknown): BaseJson {
  if (!isObject(v)) {
    f.add(field, 'must be an object such as {"template_id": "tmpl_…", "creator_id": "…"}');
    return { template_id: "", creator_id: "" };
  }
  checkKeys(f, field, v, BASE_FIELDS);
  const template_id = str(f, `${field}.template_id`, v.template_id);
  const creator_id = str(f, `${field}.creator_id`, v.creator_id);
  const version = v.version;
  if (version !== undefined && (typeof version !== "number" || !Number.isSafeInteger(version) || version < 0)) {
    f.add(`${field}.version`, "must be a content version of the base, or left out to follow it");
    return { template_id, creator_id };
  }
  return { template_id, creator_id, ...(version ? { version } : {}) };
}

function provisioning(f: Faults, field: string, v: unknown): ToolJson["provisioning"] {
  if (v === "pool" || v === "user") return v;
  f.add(field, v === undefined ? "is required" : 'must be "pool" or "user"');
  return "user";
}

/** Left out when absent or empty, as the server hashes it. */
function toolKindOf(f: Faults, field: string, v: unknown): { kind?: ToolKindName } {
  if (v === undefined || v === "") return {};
  if (isToolKindName(v)) return { kind: v };
  f.add(field, `must be one of ${TOOL_KIND_NAMES.map((n) => `"${n}"`).join(", ")}`);
  return {};
}

/** The items of a list, each read by `each` (an item that is no object named, and skipped). */
function objectsOf<T>(
  f: Faults,
  field: string,
  v: unknown,
  what: string,
  example: string,
  each: (o: Json, at: string) => T,
) {
  if (!Array.isArray(v)) {
    f.add(field, `must be a list of ${what}`);
    return [];
  }
  return v.flatMap((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (isObject(item)) return [each(item, at)];
    f.add(at, `must be an object${example}`);
    return [];
  });
}

/** `id` and `provisioning` are required; name, description, prompt default to "", required to false. */
function fillTools(f: Faults, field: string, v: unknown): ToolJson[] {
  return objectsOf(f, field, v, "tools", "", (t, at) => {
    checkKeys(f, at, t, TOOL_FIELDS);
    return {
      id: str(f, `${at}.id`, t.id),
      name: str(f, `${at}.name`, t.name, ""),
      provisioning: provisioning(f, `${at}.provisioning`, t.provisioning),
      description: str(f, `${at}.description`, t.description, ""),
      prompt: str(f, `${at}.prompt`, t.prompt, ""),
      required: bool(f, `${at}.required`, t.required, false),
      ...toolKindOf(f, `${at}.kind`, t.kind),
    };
  });
}

/** "L1" to "L4", or "" for none (L2): left out of a content, removing it in a patch. */
function trustLevel(f: Faults, field: string, v: unknown): TrustLevelName | "" {
  if (v === "" || isTrustLevelName(v)) return v;
  f.add(field, NOT_A_TRUST_LEVEL);
  return "";
}

/** Left out when absent or empty, as the server hashes it. */
function maxTrustLevel(f: Faults, v: unknown): { max_trust_level?: TrustLevelName } {
  const level = v === undefined ? "" : trustLevel(f, "max_trust_level", v);
  return level ? { max_trust_level: level } : {};
}

/** Thrown by a SOUL's reader at its first fault, kept as one. */
class SoulFault extends Error {}

/** Shape-checked and compacted as the server hashes it, named at its first fault; `{}` when it sets nothing. */
function fillSoul(f: Faults, v: unknown): SoulJson {
  try {
    return readSoulJson(v, "soul", (field, message) => {
      f.add(field, message);
      throw new SoulFault(message);
    });
  } catch (err) {
    if (err instanceof SoulFault) return {};
    throw err;
  }
}

/** Left out when absent or empty, as the server hashes it. */
function soulOf(f: Faults, v: unknown): { soul?: SoulJson } {
  const soul = v === undefined ? {} : fillSoul(f, v);
  return Object.keys(soul).length > 0 ? { soul } : {};
}

function fillTags(f: Faults, field: string, v: unknown): string[] {
  if (Array.isArray(v) && v.every((t) => typeof t === "string")) return [...v] as string[];
  f.add(field, "must be a list of strings");
  return [];
}

/** Left out when absent or empty, as the server hashes it. */
function startersOf(f: Faults, v: unknown): { conversation_starters?: string[] } {
  const starters = v === undefined ? [] : fillTags(f, "conversation_starters", v);
  return starters.length > 0 ? { conversation_starters: starters } : {};
}

/** `kind` is required; `capabilities` default to `[]` and `reason` to "", which the server refuses by name. */
function fillConnections(f: Faults, field: string, v: unknown): ConnectionJson[] {
  const example = ' such as {"kind": "calendar", "capabilities": ["read"], …}';
  return objectsOf(f, field, v, "connections", example, (c, at) => {
    checkKeys(f, at, c, CONNECTION_FIELDS);
    return {
      kind: str(f, `${at}.kind`, c.kind),
      capabilities: c.capabilities === undefined ? [] : fillTags(f, `${at}.capabilities`, c.capabilities),
      reason: str(f, `${at}.reason`, c.reason, ""),
    };
  });
}

/** Left out when absent or empty, as the server hashes it. */
function connectionsOf(f: Faults, v: unknown): { connections?: ConnectionJson[] } {
  const connections = v === undefined ? [] : fillConnections(f, "connections", v);
  return connections.length > 0 ? { connections } : {};
}

/** Every field a string, `id`, `rrule` and `time` required; name and instruction default to "", which the server refuses by name. */
function fillRoutines(f: Faults, field: string, v: unknown): RoutineJson[] {
  const example = ' such as {"id": "weekly-plan", "rrule": "FREQ=WEEKLY;BYDAY=MO", …}';
  return objectsOf(f, field, v, "routines", example, (r, at) => {
    checkKeys(f, at, r, ROUTINE_FIELDS);
    return {
      id: str(f, `${at}.id`, r.id),
      name: str(f, `${at}.name`, r.name, ""),
      rrule: str(f, `${at}.rrule`, r.rrule),
      time: str(f, `${at}.time`, r.time),
      instruction: str(f, `${at}.instruction`, r.instruction, ""),
    };
  });
}

/** Left out when absent or empty, as the server hashes it. */
function routinesOf(f: Faults, v: unknown): { routines?: RoutineJson[] } {
  const routines = v === undefined ? [] : fillRoutines(f, "routines", v);
  return routines.length > 0 ? { routines } : {};
}

/** A text left out when absent or empty, as the server hashes it. */
function textOf<K extends string>(f: Faults, key: K, v: unknown): { [k in K]?: string } {
  const text = str(f, key, v, "");
  return (text ? { [key]: text } : {}) as { [k in K]?: string };
}

/**
 * A full content from the REST JSON form: agent_name and instructions are
 * required; model, tools, description, category and tags take their
 * defaults; clone_directive, max_trust_level and soul are optional.
 * `where` names the source in error messages (the file name). Every field
 * of the wrong shape is named at once.
 */
export function fillContentJson(raw: unknown, where = "content"): TemplateContentJson {
  const f = new Faults(where);
  if (!isObject(raw)) {
    f.add("", "must be a JSON object with the template's content fields");
    return f.done({} as TemplateContentJson);
  }
  checkKeys(f, "", raw, CONTENT_FIELDS, TEMPLATE_METADATA_FIELDS);
  return f.done({
    agent_name: str(f, "agent_name", raw.agent_name),
    instructions: str(f, "instructions", raw.instructions),
    // With a base, no model means the base's.
    ...(raw.model !== undefined
      ? { model: fillModel(f, "model", raw.model) }
      : raw.base === undefined
        ? { model: { ...DEFAULT_MODEL } }
        : {}),
    tools: raw.tools === undefined ? [] : fillTools(f, "tools", raw.tools),
    description: str(f, "description", raw.description, ""),
    category: str(f, "category", raw.category, ""),
    tags: raw.tags === undefined ? [] : fillTags(f, "tags", raw.tags),
    ...textOf(f, "clone_directive", raw.clone_directive),
    ...maxTrustLevel(f, raw.max_trust_level),
    ...soulOf(f, raw.soul),
    ...(raw.base !== undefined ? { base: fillBase(f, "base", raw.base) } : {}),
    ...textOf(f, "avatar", raw.avatar),
    ...(textOf(f, "runtime", raw.runtime) as { runtime?: RuntimeName }),
    ...startersOf(f, raw.conversation_starters),
    ...connectionsOf(f, raw.connections),
    ...routinesOf(f, raw.routines),
  });
}

/**
 * A patch: only the content fields present, each in the form the server's
 * patchToJson gives back (a model and every tool filled in; `[]` empties
 * tools or tags). At least one field must be set. Every field of the wrong
 * shape is named at once.
 */
export function fillPatchJson(raw: unknown, where = "patch"): TemplatePatchJson {
  const f = new Faults(where);
  if (!isObject(raw)) {
    f.add("", "must be a JSON object with the content fields to change");
    return f.done({});
  }
  checkKeys(f, "", raw, CONTENT_FIELDS, TEMPLATE_METADATA_FIELDS);
  const given = (k: string) => raw[k] !== undefined && raw[k] !== null;
  for (const k of CONTENT_FIELDS) {
    if (raw[k] === null) f.add(k, "must not be null: leave the field out to keep it");
  }
  if (given("base")) f.add("base", "is changed by a full update (PUT), not by a patch");
  if (given("runtime")) f.add("runtime", "is changed by a full update (PUT), not by a patch");
  const out: TemplatePatchJson = {};
  if (given("agent_name")) out.agent_name = str(f, "agent_name", raw.agent_name);
  if (given("instructions")) out.instructions = str(f, "instructions", raw.instructions);
  if (given("model")) out.model = fillModel(f, "model", raw.model);
  if (given("tools")) out.tools = fillTools(f, "tools", raw.tools);
  if (given("description")) out.description = str(f, "description", raw.description);
  if (given("category")) out.category = str(f, "category", raw.category);
  if (given("tags")) out.tags = fillTags(f, "tags", raw.tags);
  if (given("clone_directive")) out.clone_directive = str(f, "clone_directive", raw.clone_directive);
  if (given("max_trust_level")) out.max_trust_level = trustLevel(f, "max_trust_level", raw.max_trust_level);
  // `{}` removes it.
  if (given("soul")) out.soul = fillSoul(f, raw.soul);
  if (given("avatar")) out.avatar = str(f, "avatar", raw.avatar);
  // `[]` removes them.
  if (given("conversation_starters"))
    out.conversation_starters = fillTags(f, "conversation_starters", raw.conversation_starters);
  // `[]` removes them.
  if (given("connections")) out.connections = fillConnections(f, "connections", raw.connections);
  // `[]` removes them.
  if (given("routines")) out.routines = fillRoutines(f, "routines", raw.routines);
  // A patch whose fields are all wrong is named by them, not as one that sets nothing.
  if (Object.keys(out).length === 0 && f.list.length === 0) {
    f.add("", `sets no content field (${CONTENT_FIELDS.join(", ")})`);
  }
  return f.done(out);
}
