// SOUL: a template's optional structured identity, in its JSON
// form (docs/templates.md, "SOUL"). Part of the content the creator signs, so
// its JSON is canonical: every empty field and section is left out, and an
// empty SOUL is no SOUL (content without one hashes as before it existed).
import { create } from "@bufbuild/protobuf";
import {
  type EscalationAction,
  EscalationRuleSchema,
  type ResponseStyle,
  SoulBehaviorSchema,
  SoulCapabilitiesSchema,
  SoulConstraintsSchema,
  SoulIdentitySchema,
  SoulPhilosophySchema,
  SoulSchema,
  type Soul,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { checkAll, invalidArgument } from "./errors.js";

export const RESPONSE_STYLES = ["structured", "conversational", "minimal"] as const;
export type ResponseStyleName = (typeof RESPONSE_STYLES)[number];
export const ESCALATION_ACTIONS = ["escalate_to_human", "request_approval", "block"] as const;
export type EscalationActionName = (typeof ESCALATION_ACTIONS)[number];

export interface SoulIdentityJson {
  name?: string;
  role?: string;
  description?: string;
}
export interface SoulPhilosophyJson {
  principles?: string[];
  values?: string[];
}
export interface SoulCapabilitiesJson {
  domains?: string[];
  skills?: string[];
  limitations?: string[];
}
export interface SoulBehaviorJson {
  response_style?: ResponseStyleName;
  progressive_disclosure?: boolean;
  max_output_tokens?: number;
}
export interface EscalationRuleJson {
  condition: string;
  action: EscalationActionName;
}
export interface SoulConstraintsJson {
  restricted_topics?: string[];
  escalation_rules?: EscalationRuleJson[];
}
export interface SoulJson {
  identity?: SoulIdentityJson;
  philosophy?: SoulPhilosophyJson;
  capabilities?: SoulCapabilitiesJson;
  behavior?: SoulBehaviorJson;
  constraints?: SoulConstraintsJson;
}

/** Each section's fields, in the order they are read, shown and rendered. */
export const SOUL_FIELDS = {
  identity: ["name", "role", "description"],
  philosophy: ["principles", "values"],
  capabilities: ["domains", "skills", "limitations"],
  behavior: ["response_style", "progressive_disclosure", "max_output_tokens"],
  constraints: ["restricted_topics", "escalation_rules"],
} as const;
export type SoulSection = keyof typeof SOUL_FIELDS;
export const SOUL_SECTIONS = Object.keys(SOUL_FIELDS) as SoulSection[];
const ESCALATION_RULE_FIELDS = ["condition", "action"] as const;

export const SOUL_LIMITS = {
  name: 100,
  role: 200,
  description: 2000,
  /** Items in each list. */
  items: 20,
  principle: 500,
  capability: 200,
  topic: 200,
  condition: 500,
  maxOutputTokens: 32000,
} as const;

// ---------------------------------------------------------------- canonical form

type Loose = Record<string, unknown>;
const isEmpty = (v: unknown) =>
  v === undefined ||
  v === "" ||
  v === false ||
  v === 0 ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/** Leaves out every empty field, then every empty section. Escalation rules stay whole: a half-empty rule is refused, not dropped. */
export function compactSoul(s: SoulJson): SoulJson {
  const out: Loose = {};
  for (const section of SOUL_SECTIONS) {
    const fields = s[section] as Loose | undefined;
    if (!fields) continue;
    const kept = Object.fromEntries(Object.entries(fields).filter(([, v]) => !isEmpty(v)));
    if (Object.keys(kept).length > 0) out[section] = kept;
  }
  return out;
}

export const isEmptySoul = (s: SoulJson | undefined): boolean => !s || Object.keys(compactSoul(s)).length === 0;

// ---------------------------------------------------------------- proto <-> JSON

/** An unknown or unset value keeps a name that validation refuses, rather than turning into a valid one. */
function enumName<T extends string>(names: readonly T[], value: number): T {
  return (names[value - 1] ?? (value === 0 ? "" : `unknown (${value})`)) as T;
}
function enumValue(names: readonly string[], name: string | undefined): number {
  if (!name) return 0;
  const i = names.indexOf(name);
  return i < 0 ? -1 : i + 1;
}

/** The canonical JSON of a SOUL; undefined when it sets nothing. */
export function soulToJson(s: Soul | undefined): SoulJson | undefined {
  if (!s) return undefined;
  const json = compactSoul({
    identity: {
      ...(s.identity && { name: s.identity.name, role: s.identity.role, description: s.identity.description }),
    },
    philosophy: { ...(s.philosophy && { principles: [...s.philosophy.principles], values: [...s.philosophy.values] }) },
    capabilities: {
      ...(s.capabilities && {
        domains: [...s.capabilities.domains],
        skills: [...s.capabilities.skills],
        limitations: [...s.capabilities.limitations],
      }),
    },
    behavior: {
      ...(s.behavior && {
        response_style: enumName(RESPONSE_STYLES, s.behavior.responseStyle),
        progressive_disclosure: s.behavior.progressiveDisclosure,
        max_output_tokens: s.behavior.maxOutputTokens,
      }),
    },
    constraints: {
      ...(s.constraints && {
        restricted_topics: [...s.constraints.restrictedTopics],
        escalation_rules: s.constraints.escalationRules.map((r) => ({
          condition: r.condition,
          action: enumName(ESCALATION_ACTIONS, r.action),
        })),
      }),
    },
  });
  return Object.keys(json).length > 0 ? json : undefined;
}

export function soulFromJson(j: SoulJson): Soul {
  const { identity: i, philosophy: p, capabilities: c, behavior: b, constraints: k } = j;
  return create(SoulSchema, {
    identity:
      i && create(SoulIdentitySchema, { name: i.name ?? "", role: i.role ?? "", description: i.description ?? "" }),
    philosophy:
      p && create(SoulPhilosophySchema, { principles: [...(p.principles ?? [])], values: [...(p.values ?? [])] }),
    capabilities:
      c &&
      create(SoulCapabilitiesSchema, {
        domains: [...(c.domains ?? [])],
        skills: [...(c.skills ?? [])],
        limitations: [...(c.limitations ?? [])],
      }),
    behavior:
      b &&
      create(SoulBehaviorSchema, {
        responseStyle: enumValue(RESPONSE_STYLES, b.response_style) as ResponseStyle,
        progressiveDisclosure: b.progressive_disclosure ?? false,
        maxOutputTokens: b.max_output_tokens ?? 0,
      }),
    constraints:
      k &&
      create(SoulConstraintsSchema, {
        restrictedTopics: [...(k.restricted_topics ?? [])],
        escalationRules: (k.escalation_rules ?? []).map((r) =>
          create(EscalationRuleSchema, {
            condition: r.condition,
            action: enumValue(ESCALATION_ACTIONS, r.action) as EscalationAction,
          }),
        ),
      }),
  });
}

// ---------------------------------------------------------------- reading JSON

/** How a reader reports a misshapen field: the REST gateway answers 400, a file reader names the file. */
export type FieldFailure = (field: string, message: string) => never;

const isObject = (v: unknown): v is Loose => typeof v === "object" && v !== null && !Array.isArray(v);

/** `soul.identity`; a key that is no plain name quoted and cut, `soul[""]`, so the path still says where (as the gateway's bodies do). */
function childPath(parent: string, key: string): string {
  if (key.length <= 100 && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key)}]`;
}

function objectOf(v: unknown, field: string, allowed: readonly string[], fail: FieldFailure): Loose {
  if (!isObject(v)) fail(field, "must be a JSON object");
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key)) fail(childPath(field, key), `unknown field (expected ${allowed.join(", ")})`);
  }
  return v;
}

/** What each field holds (names are unique across sections). */
const FIELD_KINDS: Record<string, "text" | "list" | "boolean" | "integer" | "rules"> = {
  name: "text",
  role: "text",
  description: "text",
  principles: "list",
  values: "list",
  domains: "list",
  skills: "list",
  limitations: "list",
  response_style: "text",
  progressive_disclosure: "boolean",
  max_output_tokens: "integer",
  restricted_topics: "list",
  escalation_rules: "rules",
  condition: "text",
  action: "text",
};

function readField(key: string, v: unknown, field: string, fail: FieldFailure): unknown {
  switch (FIELD_KINDS[key]) {
    case "boolean":
      if (typeof v !== "boolean") fail(field, "must be true or false");
      return v;
    case "integer":
      if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(field, "must be an integer");
      return v;
    case "list":
      if (!Array.isArray(v)) fail(field, "must be a list of strings");
      return v.map((item, i) => (typeof item === "string" ? item : fail(`${field}[${i}]`, "must be a string")));
    case "rules":
      if (!Array.isArray(v)) fail(field, "must be a list of rules");
      // A missing condition or action is read as "", which validation refuses naming it.
      return v.map((r, i) => {
        const rule = objectOf(r, `${field}[${i}]`, ESCALATION_RULE_FIELDS, fail);
        const read = (k: "condition" | "action") =>
          rule[k] === undefined ? "" : readField(k, rule[k], `${field}[${i}].${k}`, fail);
        return { condition: read("condition"), action: read("action") };
      });
    default:
      if (typeof v !== "string") fail(field, "must be a string");
      return v;
  }
}

/**
 * A SOUL given as JSON, its shape checked (objects, lists, strings, no
 * unknown field); its limits are validateSoul's. Returned compacted, as it is
 * hashed: `{}` when it sets nothing.
 */
export function readSoulJson(raw: unknown, field: string, fail: FieldFailure): SoulJson {
  const soul = objectOf(raw, field, SOUL_SECTIONS, fail);
  const out: Loose = {};
  for (const section of SOUL_SECTIONS) {
    if (soul[section] === undefined) continue;
    const fields = objectOf(soul[section], `${field}.${section}`, SOUL_FIELDS[section], fail);
    out[section] = Object.fromEntries(
      SOUL_FIELDS[section]
        .filter((key) => fields[key] !== undefined)
        .map((key) => [key, readField(key, fields[key], `${field}.${section}.${key}`, fail)]),
    );
  }
  return compactSoul(out);
}

// ---------------------------------------------------------------- validation

const oneLine = (s: string) => !/[\r\n]/.test(s);

function checkLine(field: string, value: string | undefined, max: number): void {
  if (value === undefined) return;
  if ([...value].length > max) throw invalidArgument(field, `must be at most ${max} characters`);
  if (!oneLine(value)) throw invalidArgument(field, "must be one line");
}

/** A list's length and each of its items, every fault named. */
function checkList(field: string, items: string[] | undefined, max: number): void {
  if (items === undefined) return;
  checkAll(
    () => {
      if (items.length > SOUL_LIMITS.items) throw invalidArgument(field, `at most ${SOUL_LIMITS.items} items`);
    },
    ...items.map((item, i) => () => {
      if (item.trim() === "") throw invalidArgument(`${field}[${i}]`, "must not be empty");
      checkLine(`${field}[${i}]`, item, max);
    }),
  );
}

function checkEnum(field: string, value: string | undefined, names: readonly string[]): void {
  if (value !== undefined && !names.includes(value))
    throw invalidArgument(field, `must be one of ${names.map((n) => JSON.stringify(n)).join(", ")}`);
}

/**
 * Checks every limit of docs/templates.md's "SOUL", every fault named at
 * once; errors name the field, e.g. `content.soul.philosophy.principles[2]`.
 */
export function validateSoul(s: SoulJson, field: string): void {
  const { identity: i, philosophy: p, capabilities: c, behavior: b, constraints: k } = s;
  const rules = k?.escalation_rules ?? [];
  checkAll(
    () => checkLine(`${field}.identity.name`, i?.name, SOUL_LIMITS.name),
    () => checkLine(`${field}.identity.role`, i?.role, SOUL_LIMITS.role),
    () => {
      if (i?.description !== undefined && [...i.description].length > SOUL_LIMITS.description)
        throw invalidArgument(`${field}.identity.description`, `must be at most ${SOUL_LIMITS.description} characters`);
    },
    () => checkList(`${field}.philosophy.principles`, p?.principles, SOUL_LIMITS.principle),
    () => checkList(`${field}.philosophy.values`, p?.values, SOUL_LIMITS.principle),
    () => checkList(`${field}.capabilities.domains`, c?.domains, SOUL_LIMITS.capability),
    () => checkList(`${field}.capabilities.skills`, c?.skills, SOUL_LIMITS.capability),
    () => checkList(`${field}.capabilities.limitations`, c?.limitations, SOUL_LIMITS.capability),
    () => checkEnum(`${field}.behavior.response_style`, b?.response_style, RESPONSE_STYLES),
    () => {
      const tokens = b?.max_output_tokens;
      if (tokens !== undefined && (!Number.isSafeInteger(tokens) || tokens < 0 || tokens > SOUL_LIMITS.maxOutputTokens))
        throw invalidArgument(
          `${field}.behavior.max_output_tokens`,
          `must be 0 (none) to ${SOUL_LIMITS.maxOutputTokens}`,
        );
    },
    () => checkList(`${field}.constraints.restricted_topics`, k?.restricted_topics, SOUL_LIMITS.topic),
    () => {
      if (rules.length > SOUL_LIMITS.items)
        throw invalidArgument(`${field}.constraints.escalation_rules`, `at most ${SOUL_LIMITS.items} rules`);
    },
    ...rules.map((r, n) => () => {
      const f = `${field}.constraints.escalation_rules[${n}]`;
      checkAll(
        () => {
          if (r.condition.trim() === "") throw invalidArgument(`${f}.condition`, "is required");
          checkLine(`${f}.condition`, r.condition, SOUL_LIMITS.condition);
        },
        () => {
          if (!(ESCALATION_ACTIONS as readonly string[]).includes(r.action))
            throw invalidArgument(
              `${f}.action`,
              `must be one of ${ESCALATION_ACTIONS.map((a) => JSON.stringify(a)).join(", ")}`,
            );
        },
      );
    }),
  );
}
