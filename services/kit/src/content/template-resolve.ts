// Base templates (docs/templates.md, "Base templates"): inheritance
// of content, applied the same way by the templates service (the resolved
// view, what claims use) and by every agent (which resolves the layers it
// checked itself, so the pool cannot make one up).
import { create } from "@bufbuild/protobuf";
import { ModelConfigSchema, TrustLevel, type ToolDeclaration } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  SoulSchema,
  TemplateContentSchema,
  type Soul,
  type TemplateContent,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { resolveConnections } from "./connections.js";
import { DEFAULT_MODEL } from "./template.js";

/** A template, its base and the base's base: deeper hierarchies are refused. */
export const MAX_TEMPLATE_LAYERS = 3;

/**
 * The content an agent runs on, from `layers`: the template first, then its
 * base, then the base's base. Instructions are concatenated base first,
 * separated by a blank line; tools appended, a tool id declared again taking
 * the nearer layer's declaration in the base's place; connections likewise
 * by kind, a kind declared again keeping the capabilities of both
 * (connections.ts); the model, the clone directive and each SOUL section are
 * the nearest layer's that sets one; the highest trust level is the lowest
 * any layer sets; name and store fields are the template's own.
 */
export function resolveContent(layers: TemplateContent[]): TemplateContent {
  const [own] = layers;
  if (!own) throw new Error("resolveContent: no layer");
  if (layers.length === 1 && !own.base) return own;
  const fromBase = [...layers].reverse();
  const tools = new Map<string, ToolDeclaration>();
  for (const layer of fromBase) for (const t of layer.tools) tools.set(t.id, t);
  const levels = layers.map((l) => l.maxTrustLevel).filter((l) => l !== TrustLevel.UNSPECIFIED);
  return create(TemplateContentSchema, {
    agentName: own.agentName,
    instructions: fromBase.map((l) => l.instructions.trim()).join("\n\n"),
    model:
      layers.find((l) => l.model)?.model ??
      create(ModelConfigSchema, { default: DEFAULT_MODEL.default, allowOverride: DEFAULT_MODEL.allow_override }),
    tools: [...tools.values()],
    connections: resolveConnections(layers.map((l) => l.connections)),
    // A store field: the template's own, as its starters.
    routines: own.routines,
    description: own.description,
    category: own.category,
    tags: [...own.tags],
    cloneDirective: layers.find((l) => l.cloneDirective)?.cloneDirective ?? "",
    avatar: layers.find((l) => l.avatar)?.avatar ?? "",
    // The nearest layer that names one: a derived template runs where its base does unless it says otherwise.
    runtime: layers.find((l) => l.runtime)?.runtime ?? 0,
    maxTrustLevel: levels.length > 0 ? Math.min(...levels) : TrustLevel.UNSPECIFIED,
    soul: resolveSoul(layers.map((l) => l.soul)),
  });
}

function resolveSoul(souls: (Soul | undefined)[]): Soul | undefined {
  const nearest = <K extends keyof Omit<Soul, "$typeName" | "$unknown">>(k: K): Soul[K] =>
    souls.find((s) => s?.[k])?.[k];
  const soul = create(SoulSchema, {
    identity: nearest("identity"),
    philosophy: nearest("philosophy"),
    capabilities: nearest("capabilities"),
    behavior: nearest("behavior"),
    constraints: nearest("constraints"),
  });
  return soul.identity || soul.philosophy || soul.capabilities || soul.behavior || soul.constraints ? soul : undefined;
}

/**
 * Where a release stands: its template's content version, then each base's,
 * its base first. One release is newer than another when this is greater,
 * compared in order (a template's own new version outranks any change below it).
 */
export function releaseKey(t: { version: bigint }, bases: readonly { version: bigint }[]): bigint[] {
  return [t.version, ...bases.map((b) => b.version)];
}

/** <0, 0 or >0 as `a` is older than, the same as or newer than `b` (a missing place counts as older). */
export function compareReleaseKeys<V extends bigint | number>(a: readonly V[], b: readonly V[]): number {
  for (const [i, x] of a.entries()) {
    const y = b[i];
    if (y === undefined) break;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** "7", or "7 (base 3, 1)": a release key for people. */
export function formatReleaseKey(key: readonly (bigint | number)[]): string {
  const [own, ...bases] = key;
  return bases.length === 0 ? `${own}` : `${own} (base ${bases.join(", ")})`;
}
