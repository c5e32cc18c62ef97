// The models `npm start` serves, that is the ones a template may name
// (docs/running.md; docs/templates.md, "Models"): POOL_MODELS when it is set;
// otherwise, when the agents think through an endpoint (LLM_BASE_URL with
// LLM_API_KEY), the models it lists at its OpenAI-compatible GET /models,
// asked once at start; otherwise the templates service's default list, which
// the offline model answers to. planModels and listedModels decide, pure;
// servedModelsFromEnv asks. The templates service on its own reads POOL_MODELS
// only: it holds no key to the endpoint.
import { isModelId, parseServedModels } from "@convos-pool/templates";

type Env = Record<string, string | undefined>;

/** How long the endpoint has to list its models before `npm start` gives up on it. */
export const MODELS_TIMEOUT_MS = 15_000;

/** The served models known from the environment, or the endpoint to ask for them. */
export type ModelsPlan =
  | { models: string[]; from: "POOL_MODELS" | "the default list" }
  | { ask: string; apiKey: string; first?: string };

/** What GET /models came back with: its status and body, or why nothing came. */
export type ModelsAnswer = { status: number; body: string } | { failed: string };

/** A start that cannot know its models: a sentence for the terminal, not a stack trace. */
export class ModelsError extends Error {}

/** Where the served models come from; throws naming POOL_MODELS when it holds a malformed name. */
export function planModels(env: Env): ModelsPlan {
  if (env.POOL_MODELS?.trim()) return { models: parseServedModels(env.POOL_MODELS), from: "POOL_MODELS" };
  // The same test as main.ts's for the agents' endpoint: without a key they use the offline model.
  if (!env.LLM_BASE_URL || !env.LLM_API_KEY) return { models: parseServedModels(undefined), from: "the default list" };
  return {
    ask: `${env.LLM_BASE_URL.replace(/\/+$/, "")}/models`,
    apiKey: env.LLM_API_KEY,
    ...(env.LLM_MODEL ? { first: env.LLM_MODEL } : {}),
  };
}

/**
 * The ids of an OpenAI-compatible model list (`{"data": [{"id": ...}]}`) in
 * its order, each once, `first` (LLM_MODEL) leading when listed, since the
 * first is what a new template names. An id no template could name is left
 * out; a list with none left, or no list, throws naming the variables.
 */
export function listedModels(url: string, answer: ModelsAnswer, first?: string): string[] {
  const refuse = (what: string) =>
    new ModelsError(
      `npm start: LLM_BASE_URL's GET ${url} ${what}, so the models a template may name are unknown: ` +
        "set POOL_MODELS to the endpoint's model names, comma-separated, the default first (docs/running.md)",
    );
  if ("failed" in answer) throw refuse(`failed (${answer.failed})`);
  if (answer.status < 200 || answer.status > 299) throw refuse(`answered ${answer.status}`);
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    throw refuse("answered no JSON");
  }
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw refuse("answered no list of models (data)");
  const ids = [
    ...new Set(
      data
        .map((m) => (m as { id?: unknown } | null)?.id)
        .filter((id): id is string => typeof id === "string" && isModelId(id)),
    ),
  ];
  if (ids.length === 0) throw refuse("listed no model a template could name");
  return first && ids.includes(first) ? [first, ...ids.filter((id) => id !== first)] : ids;
}

/** The served models and where they came from, the endpoint asked when the plan says so. */
export async function servedModelsFromEnv(
  env: Env,
  fetchFn: typeof fetch = fetch,
): Promise<{ models: string[]; from: string }> {
  const plan = planModels(env);
  if ("models" in plan) return plan;
  let answer: ModelsAnswer;
  try {
    const res = await fetchFn(plan.ask, {
      headers: { authorization: `Bearer ${plan.apiKey}`, accept: "application/json" },
      signal: AbortSignal.timeout(MODELS_TIMEOUT_MS),
    });
    answer = { status: res.status, body: await res.text() };
  } catch (err) {
    answer = { failed: reason(err) };
  }
  return { models: listedModels(plan.ask, answer, plan.first), from: "LLM_BASE_URL" };
}

/** `npm start`'s models, or the refusal's sentence on stderr and exit code 1. */
export async function servedModelsOrExit(env: Env): Promise<{ models: string[]; from: string }> {
  try {
    return await servedModelsFromEnv(env);
  } catch (err) {
    if (!(err instanceof ModelsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

/** fetch's own message is "fetch failed"; what failed is its cause (ECONNREFUSED, a name not found, the timeout). */
function reason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return err instanceof Error ? err.message : String(err);
}
