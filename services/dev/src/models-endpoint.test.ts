// `npm start`'s models asked of a model endpoint (models.ts servedModelsFromEnv) over real HTTP:
// the endpoint is a stand-in, a server in this process answering GET /v1/models as OpenAI's API
// does (a third-party service), with a status and body each test sets; fetch, the URL and the
// key are the real ones. npm start itself refusing a bad endpoint: models.int.test.ts.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ModelsError, servedModelsFromEnv } from "./models.js";

let server: Server;
let baseUrl: string;
let seen: IncomingMessage[] = [];
let answer: { status: number; body: string };

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const listing = req.method === "GET" && req.url === "/v1/models";
    const out = listing ? answer : { status: 404, body: '{"error":{"message":"not found"}}' };
    res.writeHead(out.status, { "content-type": "application/json" }).end(out.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => {
  seen = [];
});

/** An OpenAI-style list, with the fields the API gives besides the id. */
const listing = (...ids: string[]) => ({
  status: 200,
  body: JSON.stringify({
    object: "list",
    data: ids.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "someone" })),
  }),
});

describe("npm start's models, with a model endpoint", () => {
  it("are what the endpoint lists, asked with its key, LLM_MODEL first", async () => {
    answer = listing("llama3.1:8b", "qwen2.5:7b");
    const env = { LLM_BASE_URL: baseUrl, LLM_API_KEY: "sk-test", LLM_MODEL: "qwen2.5:7b" };
    await expect(servedModelsFromEnv(env)).resolves.toEqual({
      models: ["qwen2.5:7b", "llama3.1:8b"],
      from: "LLM_BASE_URL",
    });
    expect(seen.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ["GET", "/v1/models", "Bearer sk-test"],
    ]);
  });

  it("are POOL_MODELS when it is set, and the endpoint is not asked", async () => {
    answer = listing("llama3.1:8b");
    const env = { LLM_BASE_URL: baseUrl, LLM_API_KEY: "sk-test", POOL_MODELS: "mine-1" };
    await expect(servedModelsFromEnv(env)).resolves.toEqual({ models: ["mine-1"], from: "POOL_MODELS" });
    expect(seen).toEqual([]);
  });

  it("cannot be known when the endpoint refuses the key: the refusal names the status, LLM_BASE_URL and POOL_MODELS", async () => {
    answer = { status: 401, body: '{"error":{"message":"Incorrect API key provided"}}' };
    const refused = servedModelsFromEnv({ LLM_BASE_URL: baseUrl, LLM_API_KEY: "wrong" });
    await expect(refused).rejects.toThrow(ModelsError);
    await expect(refused).rejects.toThrow(
      `npm start: LLM_BASE_URL's GET ${baseUrl}/models answered 401, so the models a template may name are unknown: set POOL_MODELS`,
    );
  });

  it("cannot be known when the endpoint lists none", async () => {
    answer = listing();
    await expect(servedModelsFromEnv({ LLM_BASE_URL: baseUrl, LLM_API_KEY: "k" })).rejects.toThrow(
      /listed no model a template could name, so .* set POOL_MODELS/,
    );
  });

  it("cannot be known when nothing listens at LLM_BASE_URL: the refusal says why the connection failed", async () => {
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, "127.0.0.1", r));
    const port = (gone.address() as AddressInfo).port;
    await new Promise((r) => gone.close(r));
    await expect(
      servedModelsFromEnv({ LLM_BASE_URL: `http://127.0.0.1:${port}/v1`, LLM_API_KEY: "k" }),
    ).rejects.toThrow(`npm start: LLM_BASE_URL's GET http://127.0.0.1:${port}/v1/models failed (ECONNREFUSED), so`);
  });
});
