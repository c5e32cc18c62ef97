// `npm start`: the whole pool on this machine with embedded defaults, no
// database or network to set up. Environment (all optional):
//   PORT (8080), HOST (127.0.0.1), POOL_DATA_DIR (.data),
//   XMTP_PORT (5556: the local XMTP node, where @xmtp/node-sdk's and the Convos CLI's `local` environment looks),
//   XMTP_METRICS_PORT (the node's Prometheus metrics over HTTP/1.1; default a free one, printed),
//   CHAIN_PORT (8545), MAIL_PORT (2525), POP3_PORT (1110), SMS_PORT (8125): the local providers (ports.ts),
//   POOL_METRICS_TOKEN (every service's GET /metrics, the node's included, then needs Authorization: Bearer),
//   TEMPLATES_DATABASE_URL, GATEWAY_DATABASE_URL, XMTP_DATABASE_URL, CLAIMS_DATABASE_URL, LINEAGE_DATABASE_URL (postgres:// instead of embedded PGlite),
//   WARM_INSTANCES (3), LLM_BASE_URL + LLM_API_KEY [+ LLM_MODEL] (an OpenAI-compatible endpoint; without: the offline model),
//   POOL_PUBLIC_URL (comma-separated URLs the gateway is reached at, when not only http://127.0.0.1:PORT or
//     http://localhost:PORT: a sign-in must name one of their origins; docs/signatures.md),
//   POOL_LIMITS (rates and caps: docs/limits.md),
//   POOL_BUDGET, POOL_TOOLS_WITHOUT_GRANT (what the pool pays for: unset here, the local stand-ins' numbers and mailboxes
//     for every template; empty, nothing without an operator's grant, as a deployed pool; docs/running.md),
//   POOL_OPERATORS (comma-separated inbox ids who curate the store: docs/store.md; `npm run -s pool -- whoami` prints yours),
//   POOL_MODELS (comma-separated models a template may name, the default first: docs/templates.md, "Models";
//     unset, with LLM_BASE_URL + LLM_API_KEY: what the endpoint lists at GET /models, LLM_MODEL first: models.ts),
//   PATTERN_QUORUM_OWNERS (3), PATTERN_QUORUM_TEMPLATES (2), PATTERN_QUORUM_CREATORS (2),
//   PATTERN_QUORUM_AGENT_AGE_DAYS (7), PATTERN_QUORUM_ACTIVE_DAYS (3): the pattern pool's quorum (docs/patterns.md)
//   OTEL_EXPORTER_OTLP_ENDPOINT (and the other standard OTEL_ variables): traces to that collector (docs/runbook.md, "Traces"),
//   INSTANCE_RUNTIME=openclaw: a second instance host on OpenClaw beside the pool's own, for templates with
//     "runtime": "openclaw" (needs LLM_BASE_URL and scripts/openclaw-install.sh; OPENCLAW_MAX_GATEWAYS, OPENCLAW_WARM_GATEWAYS; docs/openclaw.md)
//   POOL_HOSTS=2: a second pool host as its own process (its pid and data directory printed), to kill and lose;
//   HOST_LOST_AFTER_SECONDS (60 here): a host silent this long is lost and its agents move (docs/running.md)
// While it runs, the terminal takes an operator's host commands: `hosts list`, `hosts lost URL`, `hosts found URL`.
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { createLogger, installShutdownHandlers, limitsFromEnv, startTracing } from "@convos-pool/kit/server";
import { ensureWebBuild } from "@convos-pool/web";
import { parseOperators } from "@convos-pool/templates";
import { bannerLines } from "./banner.js";
import { localBudgetFromEnv } from "./budget.js";
import { servedModelsOrExit } from "./models.js";
import { startPool } from "./pool.js";
import { exitIfPortsTaken, localPortsFromEnv } from "./ports.js";

const log = createLogger("pool");
// A port in use (most often another pool running) is said in a sentence, before anything starts.
await exitIfPortsTaken(process.env);
// The models templates may name, asked of the model endpoint when POOL_MODELS does not name them; one it cannot answer is said the same way.
const served = await servedModelsOrExit(process.env);
log.info("models a template may name", { from: served.from, count: served.models.length, first: served.models[0] });
// The web app is built on the first start and whenever its sources changed (a few seconds).
const webDir = await ensureWebBuild({ log: (message) => log.info(message) });
const operators = parseOperators(process.env.POOL_OPERATORS);

/** A minute here, not a host's 15: whoever tries the pool locally sees what they just did (docs/running.md). */
function signalsInterval(): number {
  const ms = Number(process.env.SIGNALS_INTERVAL_MS || 60_000);
  if (!Number.isInteger(ms) || ms < 1) throw new Error("SIGNALS_INTERVAL_MS must be a whole number of milliseconds");
  return ms;
}
/** A minute too, not the templates service's 10: a rollout's figures and a halt show soon after the agents' counts (docs/rollouts.md). */
function rolloutWatchInterval(): number {
  const ms = Number(process.env.ROLLOUT_WATCH_INTERVAL_MS || 60_000);
  if (!Number.isInteger(ms) || ms < 1_000)
    throw new Error("ROLLOUT_WATCH_INTERVAL_MS must be a whole number of milliseconds, at least 1000");
  return ms;
}
// Every part runs in this process: one trace exporter for all, when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/runbook.md, "Traces").
const tracing = startTracing("convos-pool");
const pool = await startPool({
  webDir,
  dataDir: resolve(process.env.POOL_DATA_DIR ?? ".data"),
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? "127.0.0.1",
  publicUrls: process.env.POOL_PUBLIC_URL?.split(",")
    .map((u) => u.trim())
    .filter(Boolean),
  templatesDatabaseUrl: process.env.TEMPLATES_DATABASE_URL || undefined,
  gatewayDatabaseUrl: process.env.GATEWAY_DATABASE_URL || undefined,
  xmtpDatabaseUrl: process.env.XMTP_DATABASE_URL || undefined,
  xmtpPort: process.env.XMTP_PORT ? Number(process.env.XMTP_PORT) : undefined,
  xmtpMetricsPort: process.env.XMTP_METRICS_PORT ? Number(process.env.XMTP_METRICS_PORT) : undefined,
  ...localPortsFromEnv(process.env),
  claimsDatabaseUrl: process.env.CLAIMS_DATABASE_URL || undefined,
  lineageDatabaseUrl: process.env.LINEAGE_DATABASE_URL || undefined,
  warmInstances: process.env.WARM_INSTANCES ? Number(process.env.WARM_INSTANCES) : undefined,
  signalsIntervalMs: signalsInterval(),
  rolloutWatchIntervalMs: rolloutWatchInterval(),
  limits: limitsFromEnv(),
  budget: localBudgetFromEnv(),
  operators,
  models: served.models,
  patternQuorum: {
    owners: Number(process.env.PATTERN_QUORUM_OWNERS || 3),
    templates: Number(process.env.PATTERN_QUORUM_TEMPLATES || 2),
    creators: Number(process.env.PATTERN_QUORUM_CREATORS || 2),
    agentAgeDays: Number(process.env.PATTERN_QUORUM_AGENT_AGE_DAYS || 7),
    activeDays: Number(process.env.PATTERN_QUORUM_ACTIVE_DAYS || 3),
  },
  llm:
    process.env.LLM_BASE_URL && process.env.LLM_API_KEY
      ? {
          baseUrl: process.env.LLM_BASE_URL,
          apiKey: process.env.LLM_API_KEY,
          ...(process.env.LLM_MODEL ? { model: process.env.LLM_MODEL } : {}),
        }
      : undefined,
  ...(process.env.INSTANCE_RUNTIME === "openclaw"
    ? {
        openclaw: {
          maxGateways: process.env.OPENCLAW_MAX_GATEWAYS ? Number(process.env.OPENCLAW_MAX_GATEWAYS) : undefined,
          warmGateways: process.env.OPENCLAW_WARM_GATEWAYS ? Number(process.env.OPENCLAW_WARM_GATEWAYS) : undefined,
        },
      }
    : {}),
  poolHosts: process.env.POOL_HOSTS ? Number(process.env.POOL_HOSTS) : undefined,
  hostLostAfterSeconds: process.env.HOST_LOST_AFTER_SECONDS ? Number(process.env.HOST_LOST_AFTER_SECONDS) : undefined,
  log,
});
installShutdownHandlers(
  log,
  () => pool.close(),
  () => tracing?.shutdown(),
);
// The operator's host commands, typed here: whoever holds this terminal runs the pool.
createInterface({ input: process.stdin }).on("line", (line) => {
  const [word, ...args] = line.trim().split(/\s+/);
  if (word !== "hosts") {
    if (word)
      process.stdout.write(
        "commands here: hosts list | hosts lost URL | hosts found URL | hosts drain URL | hosts undrain URL\n",
      );
    return;
  }
  void pool
    .hostsCommand(args, (out) => process.stdout.write(`${out}\n`))
    .catch((err: unknown) => log.error("hosts command failed", { err }));
});
process.stdout.write(bannerLines({ ...pool, smsUrl: pool.sms.url, operators }).join("\n"));
