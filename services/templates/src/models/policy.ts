// The models a template may name (docs/templates.md, "Models"): the pool is
// configured with the list its provider serves (POOL_MODELS), and a template
// that names another is refused where it is written, not when its first
// agent tries to think. Pure: no I/O.
import { DEFAULT_MODEL, LIMITS } from "@convos-pool/kit/content";

/**
 * What a pool serves when POOL_MODELS is not set: the open-weight models
 * `npm start` names (its offline stand-in answers to any name; with an
 * OpenAI-compatible endpoint `npm start` serves what it lists, and this
 * service on its own, which holds no key to it, needs POOL_MODELS).
 * The first is the one a new template starts with.
 */
export const DEFAULT_SERVED_MODELS: readonly string[] = [DEFAULT_MODEL.default, "gpt-oss-120b"];

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;

/** Whether a template could name this model: letters, digits and ._:/@+-, at most LIMITS.model. */
export function isModelId(id: string): boolean {
  return id.length <= LIMITS.model && MODEL_ID.test(id);
}

/** POOL_MODELS: comma-separated model identifiers, the default first; throws naming a malformed one. */
export function parseServedModels(text: string | undefined): string[] {
  if (text === undefined || text.trim() === "") return [...DEFAULT_SERVED_MODELS];
  const out: string[] = [];
  for (const raw of text.split(",")) {
    const id = raw.trim();
    if (id === "") continue;
    if (!isModelId(id))
      throw new Error(
        `POOL_MODELS: "${id}" is not a model identifier (letters, digits and ._:/@+-, at most ${LIMITS.model})`,
      );
    if (!out.includes(id)) out.push(id);
  }
  if (out.length === 0) throw new Error("POOL_MODELS names no model: leave it unset for the default list");
  return out;
}

/** Whether a template's model is one the pool serves: the kit's, which the gateway's REST face runs too. */
export { checkServedModel } from "@convos-pool/kit/content";
