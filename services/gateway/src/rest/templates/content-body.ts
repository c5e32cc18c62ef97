// A template's content and patch as a REST body gives them (docs/rest.md,
// "Template JSON"), read into TemplateService's messages field by field:
// every field REST cannot read (a wrong type, a word it has no value for)
// is named at once, each with its path (`tools[1].provisioning`, under a
// rollout's `content.`), and read as the RPC's zero in its place (a tool
// REST could not read stays a tool, so the service's check of the rest
// names the others where they are). A field the body may not have still
// stops the reading at once. The kinds, limits and rules are the templates
// service's (the kit's validateContent), not this reader's.

import { create } from "@bufbuild/protobuf";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplatePatchSchema, type TemplatePatch } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  DEFAULT_MODEL,
  NOT_A_TRUST_LEVEL,
  ROUTINE_FIELDS,
  TOOL_KIND_NAMES,
  contentFromJson,
  parseTrustLevel,
  readSoulJson,
  soulFromJson,
  type BaseJson,
  type ConnectionJson,
  type ModelJson,
  type RoutineJson,
  type RuntimeName,
  type SoulJson,
  type TemplateContentJson,
  type ToolJson,
  type TrustLevelName,
} from "@convos-pool/kit/content";
import { Violations, badRequest } from "../core/errors.js";
import { JsonObject, isPlainObject } from "../core/json.js";

const MODEL_FIELDS = ["default", "allow_override"] as const;
const TOOL_FIELDS = ["id", "name", "provisioning", "description", "prompt", "required", "kind"] as const;
const CONNECTION_FIELDS = ["kind", "capabilities", "reason"] as const;
const BASE_FIELDS = ["template_id", "creator_id", "version"] as const;

/** A provisioning REST has no value for: the RPC's zero, which the service names as no provisioning. */
const NO_PROVISIONING = "unspecified" as ToolJson["provisioning"];
const ZERO_TOOL: ToolJson = {
  id: "",
  name: "",
  provisioning: NO_PROVISIONING,
  description: "",
  prompt: "",
  required: false,
};
const ZERO_CONNECTION: ConnectionJson = { kind: "", capabilities: [], reason: "" };
const ZERO_ROUTINE: RoutineJson = { id: "", name: "", rrule: "", time: "", instruction: "" };

/** One body read into `check`: each getter's fault kept, its field read as `zero`. */
class Reader {
  constructor(readonly check: Violations) {}

  get<T>(read: () => T, zero: T): T {
    return this.check.read(read) ?? zero;
  }

  /** A nested object; not an object: named, and undefined. A field it may not have is thrown. */
  object(o: JsonObject, key: string, allowed: readonly string[]): JsonObject | undefined {
    return this.at(o.raw(key), o.field(key), allowed);
  }

  private at(v: unknown, path: string, allowed: readonly string[]): JsonObject | undefined {
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) {
      this.check.add({ field: path, description: "must be a JSON object" });
      return undefined;
    }
    return JsonObject.of(v, path, allowed);
  }

  private list(o: JsonObject, key: string): unknown[] | undefined {
    const v = o.raw(key);
    if (v === undefined || Array.isArray(v)) return v;
    this.check.add({ field: o.field(key), description: "must be an array" });
    return undefined;
  }

  /** Each item that is no string named, and read as "" in its place. */
  strings(o: JsonObject, key: string): string[] | undefined {
    return this.list(o, key)?.map((item, i) => {
      if (typeof item === "string") return item;
      this.check.add({ field: `${o.field(key)}[${i}]`, description: "must be a string" });
      return "";
    });
  }

  /** Each item read by `each` as it is opened (its faults in the body's order); one that is no object named, and `each(undefined)`. */
  objects<T>(o: JsonObject, key: string, allowed: readonly string[], each: (item?: JsonObject) => T): T[] | undefined {
    return this.list(o, key)?.map((item, i) => each(this.at(item, `${o.field(key)}[${i}]`, allowed)));
  }

  string(o: JsonObject, key: string, fallback?: string): string {
    return this.get(() => o.string(key, fallback), "");
  }

  model(body: JsonObject): ModelJson | undefined {
    const m = this.object(body, "model", MODEL_FIELDS);
    if (!m) return undefined;
    const allow = DEFAULT_MODEL.allow_override;
    return {
      default: this.string(m, "default"),
      allow_override: this.get(() => m.boolean("allow_override", allow), allow),
    };
  }

  tools(body: JsonObject): ToolJson[] | undefined {
    return this.objects(body, "tools", TOOL_FIELDS, (o) => {
      if (!o) return ZERO_TOOL;
      const read = {
        id: this.string(o, "id"),
        name: this.string(o, "name", ""),
        provisioning: this.get(() => o.oneOf("provisioning", ["pool", "user"] as const), NO_PROVISIONING),
        description: this.string(o, "description", ""),
        prompt: this.string(o, "prompt", ""),
        required: this.get(() => o.boolean("required", false), false),
      };
      // Absent or "": unspecified, left out of the JSON the creator's hash covers.
      const kind = o.has("kind") ? this.string(o, "kind") : "";
      const known = kind === "" ? undefined : this.get(() => o.oneOf("kind", TOOL_KIND_NAMES), undefined);
      return known ? { ...read, kind: known } : read;
    });
  }

  /** Its shape here; its kinds, capabilities and limits are the templates service's, which names the field. */
  connections(body: JsonObject): ConnectionJson[] | undefined {
    return this.objects(body, "connections", CONNECTION_FIELDS, (o) =>
      o
        ? {
            kind: this.string(o, "kind"),
            capabilities: this.strings(o, "capabilities") ?? [],
            reason: this.string(o, "reason", ""),
          }
        : ZERO_CONNECTION,
    );
  }

  /** Its shape here (a field a routine does not have: 400 naming it); its rules and limits are the templates service's. */
  routines(body: JsonObject): RoutineJson[] | undefined {
    return this.objects(body, "routines", ROUTINE_FIELDS, (o) =>
      o
        ? {
            id: this.string(o, "id"),
            name: this.string(o, "name", ""),
            rrule: this.string(o, "rrule"),
            time: this.string(o, "time"),
            instruction: this.string(o, "instruction", ""),
          }
        : ZERO_ROUTINE,
    );
  }

  /** `version` left out (or 0): the template follows its base. */
  base(body: JsonObject): BaseJson | undefined {
    const b = this.object(body, "base", BASE_FIELDS);
    if (!b) return undefined;
    const version = this.get(() => b.integer("version", 0, 0), 0);
    return {
      template_id: this.string(b, "template_id"),
      creator_id: this.string(b, "creator_id"),
      ...(version ? { version } : {}),
    };
  }

  /** Its shape here, named at its first fault; its limits are the templates service's. `{}` when it sets nothing. */
  soul(body: JsonObject): SoulJson | undefined {
    if (!body.has("soul")) return undefined;
    return this.get(
      () =>
        readSoulJson(body.raw("soul"), body.field("soul"), (field, message) => {
          throw badRequest(field, message);
        }),
      undefined,
    );
  }
}

/** `check` given: the faults kept there for the route to merge; none: thrown here, every one at once. */
function reading<T>(check: Violations | undefined, read: (r: Reader) => T): T {
  const own = check ?? new Violations();
  const out = read(new Reader(own));
  if (!check) own.done();
  return out;
}

/**
 * A full content (create, PUT), omitted optional fields at their defaults.
 * This JSON, defaults included, is what the creator's contentHash covers.
 */
export function contentFromBody(body: JsonObject, check?: Violations): TemplateContent {
  return reading(check, (r) => {
    const json: TemplateContentJson = {
      agent_name: r.string(body, "agent_name"),
      instructions: r.string(body, "instructions"),
      tools: r.tools(body) ?? [],
      description: r.string(body, "description", ""),
      category: r.string(body, "category", ""),
      tags: r.strings(body, "tags") ?? [],
    };
    // With a base, no model means the base's.
    const base = r.base(body);
    const model = r.model(body) ?? (base ? undefined : { ...DEFAULT_MODEL });
    if (model) json.model = model;
    if (base) json.base = base;
    const directive = r.string(body, "clone_directive", "");
    if (directive) json.clone_directive = directive;
    // Checked by the templates service, which names the field; "" is none, as for the directive.
    const level = r.string(body, "max_trust_level", "");
    if (level) json.max_trust_level = level as TrustLevelName;
    const soul = r.soul(body);
    if (soul && Object.keys(soul).length > 0) json.soul = soul;
    const avatar = r.string(body, "avatar", "");
    if (avatar) json.avatar = avatar;
    // "pool" or "openclaw" (docs/openclaw.md); checked by the templates service, which names the field.
    const runtime = r.string(body, "runtime", "");
    if (runtime) json.runtime = runtime as RuntimeName;
    const starters = r.strings(body, "conversation_starters") ?? [];
    if (starters.length > 0) json.conversation_starters = starters;
    // Left out when empty, as content is hashed.
    const connections = r.connections(body) ?? [];
    if (connections.length > 0) json.connections = connections;
    const routines = r.routines(body) ?? [];
    if (routines.length > 0) json.routines = routines;
    return contentFromJson(json);
  });
}

const FULL_UPDATE_ONLY = "is changed by a full update (PUT), not by a patch";

/** The content fields a PATCH body sets; `tools: []`, `tags: []`, `connections: []` empty the lists. */
export function patchFromBody(body: JsonObject, check?: Violations): TemplatePatch {
  return reading(check, (r) => {
    if (body.has("base")) r.check.add({ field: "base", description: FULL_UPDATE_ONLY });
    if (body.has("runtime")) r.check.add({ field: "runtime", description: FULL_UPDATE_ONLY });
    // A field REST cannot read is left unset: the patch does not change it.
    const opt = (key: string) => (body.has(key) ? r.get(() => body.string(key), undefined) : undefined);
    const level = opt("max_trust_level");
    const maxTrustLevel =
      level === undefined ? undefined : level === "" ? TrustLevel.UNSPECIFIED : parseTrustLevel(level);
    if (level && maxTrustLevel === undefined) r.check.add({ field: "max_trust_level", description: NOT_A_TRUST_LEVEL });
    const model = r.model(body);
    const tools = r.tools(body);
    const tags = r.strings(body, "tags");
    const starters = r.strings(body, "conversation_starters");
    const connections = r.connections(body);
    const routines = r.routines(body);
    const soul = r.soul(body);
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
