// The models a template may name (docs/templates.md, "Models"): the pool is
// configured with the list its provider serves (POOL_MODELS), and a template
// that names another is refused where it is written, not when its first
// agent tries to think. Pure: no I/O.
import { DEFAULT_MODEL, invalidArgument, LIMITS, type ModelJson } from "@convos-pool/kit/content";

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

/**
 * A template's model must be one the pool serves (docs/templates.md,
 * "Models"). `kept` is the model the template already had: a change that
 * keeps it passes even after operators took it off the list, so that
 * narrowing the list never locks a creator out of editing. No model (a
 * template on a base) is the base's, checked there.
 */
export function checkServedModel(
  field: string,
  model: ModelJson | undefined,
  served: readonly string[],
  kept?: string,
): void {
  if (!model || served.includes(model.default) || model.default === kept) return;
  throw invalidArgument(
    `${field}.default`,
    `"${model.default.slice(0, 80)}" is not a model this pool serves: one of ${served.map((m) => `"${m}"`).join(", ")}`,
  );
}
