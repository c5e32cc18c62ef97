// A template's content in the form the Studio edits, shows and signs: the
// kit's JSON form (snake_case, as the CLI's files and the REST API), whose
// canonical hash is what the creator signs.
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  ContentJsonError,
  DEFAULT_MODEL,
  contentToJson,
  fillContentJson,
  type TemplateContentJson,
} from "@convos-pool/kit/browser";
import { FieldError } from "../ui/errors";

export function emptyContent(): TemplateContentJson {
  return {
    agent_name: "",
    instructions: "",
    model: { ...DEFAULT_MODEL },
    tools: [],
    description: "",
    category: "",
    tags: [],
  };
}

export function contentOf(t: Template | undefined): TemplateContentJson {
  return t?.content ? contentToJson(t.content) : emptyContent();
}

/** Stable, readable JSON of a content: the JSON view and what diffs compare. The optional fields last, when set. */
export function prettyContent(c: TemplateContentJson): string {
  const { clone_directive, max_trust_level, ...rest } = c;
  return JSON.stringify(
    { ...rest, ...(clone_directive ? { clone_directive } : {}), ...(max_trust_level ? { max_trust_level } : {}) },
    null,
    2,
  );
}

/** The JSON view's text as content, read as the CLI reads a content file; an error that says where it is wrong. */
export function parseContent(text: string): TemplateContentJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FieldError("content", `The JSON is not valid: ${(err as Error).message}`);
  }
  try {
    return fillContentJson(raw, "JSON");
  } catch (err) {
    if (err instanceof ContentJsonError) throw new FieldError("content", err.message);
    throw err;
  }
}
