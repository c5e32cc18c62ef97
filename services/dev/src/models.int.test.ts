// `npm start` with a model endpoint that lists no models: the real entry point
// (services/dev/src/main.ts, as `npm start` runs it) in a child process, against
// a stand-in of the endpoint (a third-party service), a real HTTP server in this
// process that answers GET /v1/models 404, as an endpoint without the route does.
// It must name LLM_BASE_URL and POOL_MODELS in a sentence, with no stack trace,
// and exit 1 before starting anything. What the endpoint's list becomes:
// models-endpoint.test.ts.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const endpoint = createServer((_req, res) => res.writeHead(404).end('{"error":{"message":"not found"}}'));
let dataDir = "";
afterAll(async () => {
  await new Promise((r) => endpoint.close(r));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

it("npm start with an LLM_BASE_URL that lists no models says to set POOL_MODELS, and exits 1", {
  timeout: 120_000,
}, async () => {
  await new Promise<void>((r) => endpoint.listen(0, "127.0.0.1", r));
  const llm = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/v1`;
  dataDir = await mkdtemp(join(tmpdir(), "pool-models-"));
  const ports: Record<string, string> = {};
  for (const name of ["PORT", "XMTP_PORT", "CHAIN_PORT", "MAIL_PORT", "POP3_PORT", "SMS_PORT"])
    ports[name] = String(await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env, ...ports, POOL_DATA_DIR: dataDir };
  env.LLM_BASE_URL = llm;
  env.LLM_API_KEY = "sk-test";
  delete env.POOL_MODELS;
  const child = spawn(join(root, "node_modules/.bin/tsx"), ["services/dev/src/main.ts"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  // A pool that starts instead is stopped as soon as it says so, not left to the timeout.
  child.stdout.on("data", () => stdout.includes("is up") && child.kill("SIGINT"));
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  expect(stdout).not.toContain("is up");
  expect(code).toBe(1);
  expect(stderr).toBe(
    `npm start: LLM_BASE_URL's GET ${llm}/models answered 404, so the models a template may name are unknown: ` +
      "set POOL_MODELS to the endpoint's model names, comma-separated, the default first (docs/running.md)\n",
  );
  // Nothing started: the data directory is as it was made.
  expect(await readdir(dataDir)).toEqual([]);
});
