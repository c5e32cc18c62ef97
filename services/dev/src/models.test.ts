// Which models `npm start` serves (models.ts planModels and listedModels): pure, nothing stands in.
// The same asked of a real HTTP server: models-endpoint.test.ts.
import { describe, expect, it } from "vitest";
import { listedModels, planModels } from "./models.js";

const URL = "http://127.0.0.1:5590/v1/models";
const list = (...ids: unknown[]) => ({
  status: 200,
  body: JSON.stringify({ object: "list", data: ids.map((id) => ({ id })) }),
});

describe("where npm start's models come from", () => {
  it("is POOL_MODELS when it is set, even with a model endpoint", () => {
    expect(planModels({ POOL_MODELS: "a-1, b-2", LLM_BASE_URL: "http://x/v1", LLM_API_KEY: "k" })).toEqual({
      models: ["a-1", "b-2"],
      from: "POOL_MODELS",
    });
  });

  it("is the endpoint's GET /models when LLM_BASE_URL and LLM_API_KEY are set and POOL_MODELS is unset or empty", () => {
    const asked = { ask: "https://openrouter.ai/api/v1/models", apiKey: "k" };
    expect(planModels({ LLM_BASE_URL: "https://openrouter.ai/api/v1", LLM_API_KEY: "k" })).toEqual(asked);
    expect(planModels({ LLM_BASE_URL: "https://openrouter.ai/api/v1/", LLM_API_KEY: "k", POOL_MODELS: " " })).toEqual(
      asked,
    );
    expect(planModels({ LLM_BASE_URL: "http://x/v1", LLM_API_KEY: "k", LLM_MODEL: "m-1" })).toEqual({
      ask: "http://x/v1/models",
      apiKey: "k",
      first: "m-1",
    });
  });

  it("is the default list without an endpoint the agents would use (no LLM_BASE_URL, or no LLM_API_KEY)", () => {
    const fallback = { models: ["gpt-oss-20b", "gpt-oss-120b"], from: "the default list" };
    expect(planModels({})).toEqual(fallback);
    expect(planModels({ LLM_BASE_URL: "http://x/v1" })).toEqual(fallback);
  });
});

describe("the models an endpoint lists", () => {
  it("are its ids in its order, each once", () => {
    expect(listedModels(URL, list("llama3.1:8b", "openai/gpt-4o-mini", "llama3.1:8b"))).toEqual([
      "llama3.1:8b",
      "openai/gpt-4o-mini",
    ]);
  });

  it("start with LLM_MODEL when it is among them, since the first is what a new template names", () => {
    expect(listedModels(URL, list("a-1", "b-2", "c-3"), "b-2")).toEqual(["b-2", "a-1", "c-3"]);
    expect(listedModels(URL, list("a-1", "b-2"), "z-9")).toEqual(["a-1", "b-2"]);
  });

  it("leave out ids that are no model identifier a template could name", () => {
    expect(listedModels(URL, list("good-1", "has space", 7, null, "x".repeat(500)))).toEqual(["good-1"]);
  });

  it("are refused, naming LLM_BASE_URL, the URL and POOL_MODELS, when the endpoint answers nothing usable", () => {
    const refusal = (answer: Parameters<typeof listedModels>[1]) => {
      try {
        listedModels(URL, answer);
      } catch (err) {
        return (err as Error).message;
      }
      return "no refusal";
    };
    const tail = `so the models a template may name are unknown: set POOL_MODELS to the endpoint's model names, comma-separated, the default first (docs/running.md)`;
    expect(refusal({ status: 404, body: '{"error":{"message":"not found"}}' })).toBe(
      `npm start: LLM_BASE_URL's GET ${URL} answered 404, ${tail}`,
    );
    expect(refusal({ failed: "ECONNREFUSED" })).toBe(
      `npm start: LLM_BASE_URL's GET ${URL} failed (ECONNREFUSED), ${tail}`,
    );
    expect(refusal({ status: 200, body: "<html>" })).toMatch(/answered no JSON, so .* set POOL_MODELS/);
    expect(refusal({ status: 200, body: '{"models":["a"]}' })).toMatch(/answered no list of models \(data\)/);
    expect(refusal(list())).toMatch(/listed no model a template could name, so/);
    expect(refusal(list("has space"))).toMatch(/listed no model a template could name, so/);
  });
});
