// Runs an instance host on its own. Environment:
//   XMTP_API_URL         the XMTP node (required; the local node: http://localhost:5556)
//   POOL_MASTER_SEED     BIP-39 mnemonic or 32-byte hex; instance n's wallet is m/44'/60'/0'/0/n (required)
//   POOL_SERVICE_TOKEN + POOL_SERVICE_DIGESTS   the host's credential and every service's digest (required;
//                        docs/security.md); POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] for TLS
//   INSTANCE_DATA_DIR    workspaces (default .data/instances)
//   PORT (7100), HOST (127.0.0.1), MAX_INSTANCES (1000)
//   LLM_BASE_URL, LLM_API_KEY, LLM_MODEL   an OpenAI-compatible endpoint; without
//                        LLM_BASE_URL the offline provider answers (labelled, no key)
import { resolve } from "node:path";
import { createLogger, installShutdownHandlers, serviceCredentialsFromEnv } from "@convos-pool/kit";
import { startInstanceHost } from "./host.js";

const log = createLogger("instance-host");
const required = (name: string): string => {
  const v = process.env[name];
  if (!v) {
    log.error(`${name} is required`);
    process.exit(2);
  }
  return v;
};

const xmtpApiUrl = required("XMTP_API_URL");
const masterSeed = required("POOL_MASTER_SEED");
let credentials;
try {
  credentials = serviceCredentialsFromEnv("instance-host");
} catch (err) {
  log.error((err as Error).message);
  process.exit(2);
}
const llmBaseUrl = process.env.LLM_BASE_URL;
const host = await startInstanceHost({
  port: Number(process.env.PORT ?? 7100),
  host: process.env.HOST ?? "127.0.0.1",
  xmtpApiUrl,
  masterSeed,
  credentials,
  dataDir: resolve(process.env.INSTANCE_DATA_DIR ?? ".data/instances"),
  ...(process.env.MAX_INSTANCES ? { maxInstances: Number(process.env.MAX_INSTANCES) } : {}),
  ...(llmBaseUrl
    ? { llm: { baseUrl: llmBaseUrl, apiKey: process.env.LLM_API_KEY ?? "", ...(process.env.LLM_MODEL ? { model: process.env.LLM_MODEL } : {}) } }
    : {}),
  log,
});
installShutdownHandlers(log, () => host.close());
process.stdout.write(`instance host: ${host.url} (${host.instances.size} instances)\n`);
