// A template's content in the form the Studio edits, shows and signs: the
// kit's JSON form (snake_case, as the CLI's files and the REST API), whose
// canonical hash is what the creator signs.
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { DEFAULT_MODEL, contentToJson, type TemplateContentJson } from "@convos-pool/kit/browser";
import { FieldError } from "./errors";

export function emptyContent(): TemplateContentJson {
  return { agent_name: "", instructions: "", model: { ...DEFAULT_MODEL }, tools: [], description: "", category: "", tags: [] };
}

export function contentOf(t: Template | undefined): TemplateContentJson {
  return t?.content ? contentToJson(t.content) : emptyContent();
}

/** Stable, readable JSON of a content: the JSON view and what diffs compare. */
export function prettyContent(c: TemplateContentJson): string {
  const { clone_directive, ...rest } = c;
  return JSON.stringify(clone_directive ? { ...rest, clone_directive } : rest, null, 2);
}

/** The JSON view's text as content; an error that says where it is wrong. */
export function parseContent(text: string): TemplateContentJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FieldError("content", `The JSON is not valid: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new FieldError("content", "The JSON must be an object, as the form's content is.");
  const r = raw as Record<string, unknown>;
  const known = new Set(["agent_name", "instructions", "model", "tools", "description", "category", "tags", "clone_directive"]);
  const unknown = Object.keys(r).filter((k) => !known.has(k));
  if (unknown.length) throw new FieldError("content", `Unknown field${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}.`);
  const base = emptyContent();
  const str = (k: string, v: unknown, fallback: string) => {
    if (v === undefined) return fallback;
    if (typeof v !== "string") throw new FieldError("content", `${k} must be a string.`);
    return v;
  };
  const model = (r.model ?? base.model) as Record<string, unknown>;
  if (typeof model !== "object" || model === null) throw new FieldError("content", "model must be an object: {\"default\": \"…\", \"allow_override\": true}.");
  const tools = r.tools ?? [];
  if (!Array.isArray(tools)) throw new FieldError("content", "tools must be a list.");
  const tags = r.tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string")) throw new FieldError("content", "tags must be a list of strings.");
  const out: TemplateContentJson = {
    agent_name: str("agent_name", r.agent_name, ""),
    instructions: str("instructions", r.instructions, ""),
    model: { default: str("model.default", model.default, base.model.default), allow_override: model.allow_override !== false },
    tools: tools.map((t: unknown, i: number) => {
      if (typeof t !== "object" || t === null) throw new FieldError("content", `tools[${i}] must be an object.`);
      const x = t as Record<string, unknown>;
      const provisioning = str(`tools[${i}].provisioning`, x.provisioning, "user");
      if (provisioning !== "pool" && provisioning !== "user") throw new FieldError("content", `tools[${i}].provisioning must be "pool" or "user".`);
      return {
        id: str(`tools[${i}].id`, x.id, ""),
        name: str(`tools[${i}].name`, x.name, ""),
        provisioning,
        description: str(`tools[${i}].description`, x.description, ""),
        prompt: str(`tools[${i}].prompt`, x.prompt, ""),
        required: x.required === true,
      };
    }),
    description: str("description", r.description, ""),
    category: str("category", r.category, ""),
    tags: tags as string[],
  };
  const directive = str("clone_directive", r.clone_directive, "");
  if (directive) out.clone_directive = directive;
  return out;
}
