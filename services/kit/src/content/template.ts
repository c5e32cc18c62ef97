import { create } from "@bufbuild/protobuf";
import { keccak256, stringToBytes, type Hex } from "viem";
import {
  AgentRuntime,
  ModelConfigSchema,
  Provisioning,
  ToolDeclarationSchema,
  TrustLevel,
  type ModelConfig,
  type ToolDeclaration,
} from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  TemplateBaseSchema,
  TemplateContentSchema,
  type TemplateBase,
  type TemplateContent,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplatePatch } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { checkAll, invalidArgument } from "./errors.js";
import { checkAvatar, checkConversationStarters, FACE_LIMITS } from "./face.js";
import { checkConnections, connectionFromJson, connectionToJson, type ConnectionJson } from "./connections.js";
import { checkRoutines, routineFromJson, routineToJson, type RoutineJson } from "./routines.js";
import { INBOX_ID_PATTERN, TEMPLATE_ID_PATTERN } from "./contract.js";
import { isEmptySoul, soulFromJson, soulToJson, validateSoul, type SoulJson } from "./soul.js";
import { isToolKindName, parseToolKind, TOOL_KIND_NAMES, toolKindName, type ToolKindName } from "./tool-values.js";
import { NOT_A_TRUST_LEVEL, isTrustLevelName, parseTrustLevel, trustLevelName, type TrustLevelName } from "./trust.js";

/**
 * A template's content in its JSON form: the REST body (snake_case,
 * provisioning "pool" / "user"), the snapshot stored with every
 * version, and the canonical form whose hash the creator signs.
 */
export interface ToolJson {
  id: string;
  name: string;
  provisioning: "pool" | "user";
  description: string;
  prompt: string;
  required: boolean;
  /** A user tool's kind (tool-values.ts); absent when unspecified, so content without one hashes as before. */
  kind?: ToolKindName;
}
export interface ModelJson {
  default: string;
  allow_override: boolean;
}
/** A base as the derived template's creator signs it; `version` absent: it follows the base. */
export interface BaseJson {
  template_id: string;
  creator_id: string;
  version?: number;
}
export interface TemplateContentJson {
  agent_name: string;
  instructions: string;
  /** Absent only with a base: the base's model then (docs/templates.md, "Base templates"). */
  model?: ModelJson;
  tools: ToolJson[];
  description: string;
  category: string;
  tags: string[];
  /**
   * The creator's default directive for a clone with context. Absent when
   * empty, so that content without one hashes as it did before the field
   * existed (every signature made before still checks out).
   */
  clone_directive?: string;
  /**
   * The highest trust level its agents may have. Absent when unspecified
   * (which means L2), for the same reason as clone_directive.
   */
  max_trust_level?: TrustLevelName;
  /** The structured identity (docs/templates.md, "SOUL"); absent when it sets nothing, for the same reason. */
  soul?: SoulJson;
  /** The template this one builds on; absent for none (so older content hashes as before). */
  base?: BaseJson;
  /** The agent's face in its Convos profile: an emoji or an https image URL; absent when empty (as clone_directive). */
  avatar?: string;
  /** What its agents run on (docs/openclaw.md); absent when unspecified (the pool's own), as clone_directive. */
  runtime?: RuntimeName;
  /** What a person might say first (face.ts); absent when empty, as clone_directive. */
  conversation_starters?: string[];
  /** The phone connections its agents use (connections.ts); absent when empty, as clone_directive. */
  connections?: ConnectionJson[];
  /** What its agents do on a schedule (routines.ts); absent when empty, as clone_directive. */
  routines?: RoutineJson[];
}

/** AgentRuntime by name, as content JSON and the REST API spell it. */
export const RUNTIME_NAMES = ["pool", "openclaw"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export function runtimeName(r: AgentRuntime): RuntimeName | undefined {
  return r === AgentRuntime.OPENCLAW ? "openclaw" : r === AgentRuntime.POOL ? "pool" : undefined;
}

/** The runtime of a name; a name that is none becomes a value that is none, which validation refuses. */
export function parseRuntime(name: string | undefined): AgentRuntime {
  if (!name) return AgentRuntime.UNSPECIFIED;
  return name === "openclaw" ? AgentRuntime.OPENCLAW : name === "pool" ? AgentRuntime.POOL : (-1 as AgentRuntime);
}

/** Whether content runs on OpenClaw (unspecified and POOL: the pool's own). */
export const runsOnOpenClaw = (c: { runtime: AgentRuntime }): boolean => c.runtime === AgentRuntime.OPENCLAW;
/** The fields a patch sets; `max_trust_level: ""` removes it, as `clone_directive: ""` does. */
export type TemplatePatchJson = Partial<Omit<TemplateContentJson, "max_trust_level">> & {
  max_trust_level?: TrustLevelName | "";
};

export const LIMITS = {
  agentName: 100,
  instructionsBytes: 256 * 1024,
  model: 200,
  tools: 32,
  toolName: 100,
  toolDescription: 1000,
  toolPrompt: 500,
  description: 2000,
  category: 40,
  tags: 20,
  tag: 40,
  cloneDirective: 4000,
  avatar: FACE_LIMITS.avatarUrl,
  /** A content change's release notes (checkReleaseNotes). */
  releaseNotes: 2000,
} as const;

/** The model a template gets when it names none. */
export const DEFAULT_MODEL: ModelJson = { default: "gpt-oss-20b", allow_override: true };

/** What the pool can provision itself (docs/tools.md): anything else must be user-provided. */
export const POOL_TOOL_IDS = ["sms", "email", "crypto"] as const;

const TOOL_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;
const CATEGORY = /^[a-z0-9][a-z0-9-]*$/;
const TAG = /^[a-z0-9][a-z0-9 -]*$/;

// ---------------------------------------------------------------- proto <-> JSON

/** An unknown value keeps a name that validation refuses, rather than turning into a valid one. */
function provisioningName(p: Provisioning): ToolJson["provisioning"] {
  if (p === Provisioning.POOL) return "pool";
  if (p === Provisioning.USER) return "user";
  return "unspecified" as ToolJson["provisioning"];
}

/** As provisioningName: an unknown level keeps a name that validation refuses. */
function maxTrustLevelName(level: TrustLevel): TrustLevelName {
  return trustLevelName(level) || (`unknown (${level})` as TrustLevelName);
}

export function toolToJson(t: ToolDeclaration): ToolJson {
  const kind = toolKindName(t.kind);
  return {
    id: t.id,
    name: t.name,
    provisioning: provisioningName(t.provisioning),
    description: t.description,
    prompt: t.prompt,
    required: t.required,
    ...(kind ? { kind } : {}),
  };
}

export function modelToJson(m: ModelConfig | undefined): ModelJson {
  return m ? { default: m.default, allow_override: m.allowOverride } : { ...DEFAULT_MODEL };
}

export function baseToJson(b: TemplateBase): BaseJson {
  return {
    template_id: b.templateId,
    creator_id: b.creatorId,
    ...(b.version !== 0n ? { version: Number(b.version) } : {}),
  };
}

const soulField = (soul: SoulJson | undefined) => (soul ? { soul } : {});

export function contentToJson(c: TemplateContent): TemplateContentJson {
  const runtime = runtimeName(c.runtime);
  return {
    agent_name: c.agentName,
    instructions: c.instructions,
    // Without a base an unset model is the default; with one, the base's.
    ...(c.model || !c.base ? { model: modelToJson(c.model) } : {}),
    tools: c.tools.map(toolToJson),
    description: c.description,
    category: c.category,
    tags: [...c.tags],
    ...(c.cloneDirective ? { clone_directive: c.cloneDirective } : {}),
    ...(c.maxTrustLevel !== TrustLevel.UNSPECIFIED ? { max_trust_level: maxTrustLevelName(c.maxTrustLevel) } : {}),
    ...soulField(soulToJson(c.soul)),
    ...(c.base ? { base: baseToJson(c.base) } : {}),
    ...(c.avatar ? { avatar: c.avatar } : {}),
    ...(runtime ? { runtime } : {}),
    ...(c.conversationStarters.length > 0 ? { conversation_starters: [...c.conversationStarters] } : {}),
    ...(c.connections.length > 0 ? { connections: c.connections.map(connectionToJson) } : {}),
    ...(c.routines.length > 0 ? { routines: c.routines.map(routineToJson) } : {}),
  };
}

export function contentFromJson(j: TemplateContentJson): TemplateContent {
  return create(TemplateContentSchema, {
    agentName: j.agent_name,
    instructions: j.instructions,
    model: j.model && create(ModelConfigSchema, { default: j.model.default, allowOverride: j.model.allow_override }),
    tools: j.tools.map((t) =>
      create(ToolDeclarationSchema, {
        id: t.id,
        name: t.name,
        // A word that is neither stays no provisioning, which validation refuses, rather than turning into "pool".
        provisioning:
          t.provisioning === "user"
            ? Provisioning.USER
            : t.provisioning === "pool"
              ? Provisioning.POOL
              : Provisioning.UNSPECIFIED,
        description: t.description,
        prompt: t.prompt,
        required: t.required,
        kind: parseToolKind(t.kind),
      }),
    ),
    description: j.description,
    category: j.category,
    tags: [...j.tags],
    cloneDirective: j.clone_directive ?? "",
    avatar: j.avatar ?? "",
    runtime: parseRuntime(j.runtime),
    conversationStarters: [...(j.conversation_starters ?? [])],
    connections: (j.connections ?? []).map(connectionFromJson),
    routines: (j.routines ?? []).map(routineFromJson),
    // A name that is no level becomes a value that is no level, which validation refuses, rather than "unspecified".
    maxTrustLevel: !j.max_trust_level
      ? TrustLevel.UNSPECIFIED
      : (parseTrustLevel(j.max_trust_level) ?? (-1 as TrustLevel)),
    soul: j.soul && soulFromJson(j.soul),
    base:
      j.base &&
      create(TemplateBaseSchema, {
        templateId: j.base.template_id,
        creatorId: j.base.creator_id,
        version: BigInt(j.base.version ?? 0),
      }),
  });
}

/** The fields a patch sets, in JSON form; absent fields are kept. */
export function patchToJson(p: TemplatePatch): TemplatePatchJson {
  const out: TemplatePatchJson = {};
  if (p.agentName !== undefined) out.agent_name = p.agentName;
  if (p.instructions !== undefined) out.instructions = p.instructions;
  if (p.model !== undefined) out.model = modelToJson(p.model);
  if (p.tools.length > 0 || p.clearTools) out.tools = p.tools.map(toolToJson);
  if (p.description !== undefined) out.description = p.description;
  if (p.category !== undefined) out.category = p.category;
  if (p.tags.length > 0 || p.clearTags) out.tags = [...p.tags];
  if (p.cloneDirective !== undefined) out.clone_directive = p.cloneDirective;
  if (p.avatar !== undefined) out.avatar = p.avatar;
  if (p.conversationStarters.length > 0 || p.clearConversationStarters)
    out.conversation_starters = [...p.conversationStarters];
  if (p.connections.length > 0 || p.clearConnections) out.connections = p.connections.map(connectionToJson);
  if (p.routines.length > 0 || p.clearRoutines) out.routines = p.routines.map(routineToJson);
  if (p.maxTrustLevel !== undefined)
    out.max_trust_level = p.maxTrustLevel === TrustLevel.UNSPECIFIED ? "" : maxTrustLevelName(p.maxTrustLevel);
  // An empty SOUL stays `{}` in a patch: it removes the one before.
  if (p.soul !== undefined) out.soul = soulToJson(p.soul) ?? {};
  return out;
}

/**
 * Seed 003's PATCH rule: scalar fields and whole lists (tools, tags, starters, connections, routines) replace.
 * An empty directive is no directive; an empty max_trust_level is none (L2);
 * an empty SOUL is none. A SOUL replaces the one before as a whole.
 */
export function applyPatch(base: TemplateContentJson, patch: TemplatePatchJson): TemplateContentJson {
  const { max_trust_level: level, ...rest } = { ...base, ...patch };
  const out: TemplateContentJson = level ? { ...rest, max_trust_level: level } : rest;
  if (!out.clone_directive) delete out.clone_directive;
  if (!out.avatar) delete out.avatar;
  if (out.conversation_starters?.length === 0) delete out.conversation_starters;
  if (out.connections?.length === 0) delete out.connections;
  if (out.routines?.length === 0) delete out.routines;
  if (isEmptySoul(out.soul)) delete out.soul;
  return out;
}

// ---------------------------------------------------------------- validation

const utf8 = new TextEncoder();
function utf8Bytes(s: string): number {
  return utf8.encode(s).length;
}

function checkText(field: string, value: string, max: number, opts: { required?: boolean } = {}): void {
  if (opts.required && value.trim().length === 0) throw invalidArgument(field, "is required");
  if ([...value].length > max) throw invalidArgument(field, `must be at most ${max} characters`);
}

function checkModel(field: string, m: ModelJson): void {
  if (m.default.length === 0) throw invalidArgument(`${field}.default`, "is required");
  if (m.default.length > LIMITS.model || !MODEL_ID.test(m.default)) {
    throw invalidArgument(
      `${field}.default`,
      `must be a model identifier such as "gpt-oss-20b" (at most ${LIMITS.model} characters)`,
    );
  }
}

/** Every fault of every tool named at once, each field once (docs/rest.md, "One contract, every face"). */
function checkTools(field: string, tools: ToolJson[]): void {
  checkAll(
    () => {
      if (tools.length > LIMITS.tools) throw invalidArgument(field, `at most ${LIMITS.tools} tools`);
    },
    ...tools.map((t, i) => () => checkTool(`${field}[${i}]`, t, tools.slice(0, i))),
  );
}

/** One tool, `before` the tools listed ahead of it (a duplicate id is named at the later one). */
function checkTool(f: string, t: ToolJson, before: readonly ToolJson[]): void {
  const pool = t.provisioning === "pool";
  checkAll(
    () => {
      if (!TOOL_ID.test(t.id))
        throw invalidArgument(`${f}.id`, "must be lower-case letters, digits and hyphens, at most 64 characters");
      if (before.some((b) => b.id === t.id)) throw invalidArgument(`${f}.id`, `duplicate tool id "${t.id}"`);
      if (pool && !(POOL_TOOL_IDS as readonly string[]).includes(t.id))
        throw invalidArgument(
          `${f}.id`,
          `the pool provisions only ${POOL_TOOL_IDS.join(", ")}; use provisioning "user" for "${t.id}"`,
        );
    },
    () => checkText(`${f}.name`, t.name, LIMITS.toolName),
    () => checkText(`${f}.description`, t.description, LIMITS.toolDescription),
    () => {
      checkText(`${f}.prompt`, t.prompt, LIMITS.toolPrompt);
      if (t.provisioning === "user" && t.prompt.trim().length === 0)
        throw invalidArgument(`${f}.prompt`, "is required for a user-provided tool: it is what the client asks");
    },
    () => {
      if (!pool && t.provisioning !== "user") throw invalidArgument(`${f}.provisioning`, 'must be "pool" or "user"');
    },
    () => {
      if (t.kind === undefined) return;
      if (!isToolKindName(t.kind))
        throw invalidArgument(`${f}.kind`, `must be one of ${TOOL_KIND_NAMES.map((n) => `"${n}"`).join(", ")}`);
      if (pool)
        throw invalidArgument(`${f}.kind`, "is for user-provided tools: the pool provisions this one, leave it out");
    },
  );
}

function checkTags(field: string, tags: string[]): void {
  if (tags.length > LIMITS.tags) throw invalidArgument(field, `at most ${LIMITS.tags} tags`);
  const seen = new Set<string>();
  tags.forEach((tag, i) => {
    if (tag.length === 0 || tag.length > LIMITS.tag || !TAG.test(tag)) {
      throw invalidArgument(
        `${field}[${i}]`,
        `must be 1 to ${LIMITS.tag} lower-case letters, digits, spaces or hyphens`,
      );
    }
    if (seen.has(tag)) throw invalidArgument(`${field}[${i}]`, `duplicate tag "${tag}"`);
    seen.add(tag);
  });
}

function checkCategory(field: string, category: string): void {
  if (category.length > LIMITS.category || (category !== "" && !CATEGORY.test(category))) {
    throw invalidArgument(
      field,
      `must be lower-case letters, digits and hyphens, at most ${LIMITS.category} characters`,
    );
  }
}

function checkTrustLevel(field: string, level: string, opts: { emptyForNone?: boolean } = {}): void {
  if (opts.emptyForNone && level === "") return;
  if (!isTrustLevelName(level)) throw invalidArgument(field, NOT_A_TRUST_LEVEL);
}

/** Each of a base's fields that is wrong, named at once. */
function checkBase(field: string, b: BaseJson): void {
  checkAll(
    () => {
      if (!TEMPLATE_ID_PATTERN.test(b.template_id))
        throw invalidArgument(`${field}.template_id`, "must be a template id (tmpl_ and 16 letters or digits)");
    },
    () => {
      if (!INBOX_ID_PATTERN.test(b.creator_id))
        throw invalidArgument(
          `${field}.creator_id`,
          "must be the base's creator: an XMTP inbox id (64 hex characters)",
        );
    },
    () => {
      if (b.version !== undefined && (!Number.isSafeInteger(b.version) || b.version < 1))
        throw invalidArgument(
          `${field}.version`,
          "must be a content version of the base (1 or more), or left out to follow the base",
        );
    },
  );
}

function checkInstructions(field: string, instructions: string): void {
  if (instructions.trim().length === 0) throw invalidArgument(field, "is required");
  if (utf8Bytes(instructions) > LIMITS.instructionsBytes) throw invalidArgument(field, "must be at most 256 KiB");
}

/** Checks every limit of a full content; `prefix` names the field path in errors. */
export function validateContent(c: TemplateContentJson, prefix = "content"): void {
  // Every field checked, each fault named with the others (checkAll).
  checkAll(
    () => checkText(`${prefix}.agent_name`, c.agent_name, LIMITS.agentName, { required: true }),
    () => checkInstructions(`${prefix}.instructions`, c.instructions),
    () => {
      if (c.model) checkModel(`${prefix}.model`, c.model);
      else if (!c.base) throw invalidArgument(`${prefix}.model`, "is required without a base");
    },
    () => checkTools(`${prefix}.tools`, c.tools),
    () => checkText(`${prefix}.description`, c.description, LIMITS.description),
    () => checkCategory(`${prefix}.category`, c.category),
    () => checkTags(`${prefix}.tags`, c.tags),
    () =>
      c.clone_directive !== undefined &&
      checkText(`${prefix}.clone_directive`, c.clone_directive, LIMITS.cloneDirective),
    () => c.max_trust_level !== undefined && checkTrustLevel(`${prefix}.max_trust_level`, c.max_trust_level),
    () => c.soul !== undefined && validateSoul(c.soul, `${prefix}.soul`),
    () => c.base !== undefined && checkBase(`${prefix}.base`, c.base),
    () => c.avatar !== undefined && checkAvatar(`${prefix}.avatar`, c.avatar),
    () =>
      c.conversation_starters !== undefined &&
      checkConversationStarters(`${prefix}.conversation_starters`, c.conversation_starters),
    () => c.connections !== undefined && checkConnections(`${prefix}.connections`, c.connections),
    () => c.routines !== undefined && checkRoutines(`${prefix}.routines`, c.routines),
    () => {
      if (c.runtime !== undefined && !(RUNTIME_NAMES as readonly string[]).includes(c.runtime))
        throw invalidArgument(`${prefix}.runtime`, `must be one of ${RUNTIME_NAMES.join(", ")}`);
    },
  );
}

/**
 * A content change's release notes: display text, not signed (docs/store.md).
 * The web app checks them before signing, the templates service again.
 */
export function checkReleaseNotes(notes: string): string {
  checkText("release_notes", notes, LIMITS.releaseNotes);
  return notes;
}

/** Checks the fields a patch sets; an empty patch is refused. */
export function validatePatch(p: TemplatePatchJson, prefix = "patch"): void {
  if (Object.keys(p).length === 0) throw invalidArgument(prefix, "sets no field");
  // Every field it sets checked, each fault named with the others (checkAll).
  checkAll(
    () =>
      p.agent_name !== undefined &&
      checkText(`${prefix}.agent_name`, p.agent_name, LIMITS.agentName, { required: true }),
    () => p.instructions !== undefined && checkInstructions(`${prefix}.instructions`, p.instructions),
    () => p.model !== undefined && checkModel(`${prefix}.model`, p.model),
    () => p.tools !== undefined && checkTools(`${prefix}.tools`, p.tools),
    () => p.description !== undefined && checkText(`${prefix}.description`, p.description, LIMITS.description),
    () => p.category !== undefined && checkCategory(`${prefix}.category`, p.category),
    () => p.tags !== undefined && checkTags(`${prefix}.tags`, p.tags),
    () =>
      p.clone_directive !== undefined &&
      checkText(`${prefix}.clone_directive`, p.clone_directive, LIMITS.cloneDirective),
    () =>
      p.max_trust_level !== undefined &&
      checkTrustLevel(`${prefix}.max_trust_level`, p.max_trust_level, { emptyForNone: true }),
    () => p.soul !== undefined && validateSoul(p.soul, `${prefix}.soul`),
    () => p.avatar && checkAvatar(`${prefix}.avatar`, p.avatar),
    () =>
      p.conversation_starters !== undefined &&
      checkConversationStarters(`${prefix}.conversation_starters`, p.conversation_starters),
    () => p.connections !== undefined && checkConnections(`${prefix}.connections`, p.connections),
    () => p.routines !== undefined && checkRoutines(`${prefix}.routines`, p.routines),
  );
}

// ---------------------------------------------------------------- hashing

/** JSON with object keys sorted at every level (RFC 8785 for these value types). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** keccak256 of the canonical JSON: what a creator signs for a content or a patch. */
export function jsonHash(value: TemplateContentJson | TemplatePatchJson): Hex {
  return keccak256(stringToBytes(canonicalJson(value)));
}
