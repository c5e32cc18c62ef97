// Runs an instance host on its own. Environment:
//   XMTP_API_URL         the XMTP node (required; the local node: http://localhost:5556)
//   POOL_MASTER_SEED     BIP-39 mnemonic or 32-byte hex; instance n's wallet is m/44'/60'/0'/0/n (required)
//   POOL_SERVICE_TOKEN + POOL_SERVICE_DIGESTS   the host's credential and every service's digest (required;
//                        docs/security.md); POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] for TLS
//   INSTANCE_DATA_DIR    workspaces (default .data/instances)
//   PORT (7100), HOST (127.0.0.1), MAX_INSTANCES (1000)
//   DORMANT_AFTER_MS     a claimed agent quiet this long goes dormant (600000; 0: never; docs/instance.md)
//   LLM_BASE_URL, LLM_API_KEY, LLM_MODEL   an OpenAI-compatible endpoint; without
//                        LLM_BASE_URL the offline provider answers (labelled, no key)
// Agents' tools (docs/tools.md); a tool whose provider is not set is held but not usable:
//   MAIL_SMTP_URL + MAIL_POP3_URL   mail (smtp://host:port, pop3://host:port), for mailboxes with a password
//   AGENTMAIL_API_URL               AgentMail's API, for mailboxes the claims service made there (their
//                                   secret is an inbox's key); EMAIL_PROVIDER=agentmail, as the claims
//                                   service is told, means https://api.agentmail.to. Neither set: such
//                                   mailboxes are held but not usable, as a host reaches only the providers
//                                   it is told of
//   CHAIN_RPC_URL                   the chain agents' wallets are on
//   SMS_API_KEY (a secret), SMS_WEBHOOK_PUBLIC_KEY [, SMS_API_URL (https://api.telnyx.com),
//     SMS_WEBHOOK_PORT (7101), SMS_WEBHOOK_HOST (HOST), SMS_WEBHOOK_URL (its public URL)]   Telnyx
//   TOOL_APPROVAL_TIMEOUT_MS (300000), MAIL_POLL_MS (30000)
// The pattern pool (docs/patterns.md, "Agents and the pattern pool"):
//   PATTERN_POOL_URL             the lineage service, where agents whose owners opted in offer and adopt
//                                lessons; unset: owners' choices are kept, nothing is offered or adopted
//   PATTERN_QUERY_INTERVAL_MS    how often each such agent offers and queries (600000)
import { resolve } from "node:path";
import { createLogger, installShutdownHandlers, serviceCredentialsFromEnv } from "@convos-pool/kit";
import { startInstanceHost, type HostToolOptions } from "./host.js";

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
const env = process.env;
const agentmailUrl =
  env.AGENTMAIL_API_URL ||
  (env.EMAIL_PROVIDER?.trim().toLowerCase() === "agentmail" ? "https://api.agentmail.to" : undefined);
const tools: HostToolOptions = {
  ...(env.MAIL_SMTP_URL && env.MAIL_POP3_URL
    ? { mail: { smtpUrl: env.MAIL_SMTP_URL, pop3Url: env.MAIL_POP3_URL } }
    : {}),
  ...(agentmailUrl ? { agentmail: { apiUrl: agentmailUrl } } : {}),
  ...(env.CHAIN_RPC_URL ? { chain: { rpcUrl: env.CHAIN_RPC_URL } } : {}),
  ...(env.SMS_API_KEY && env.SMS_WEBHOOK_PUBLIC_KEY
    ? {
        sms: {
          apiUrl: env.SMS_API_URL ?? "https://api.telnyx.com",
          apiKey: env.SMS_API_KEY,
          webhookPublicKey: env.SMS_WEBHOOK_PUBLIC_KEY,
          webhookPort: Number(env.SMS_WEBHOOK_PORT ?? 7101),
          webhookHost: env.SMS_WEBHOOK_HOST ?? env.HOST ?? "127.0.0.1",
          ...(env.SMS_WEBHOOK_URL ? { webhookUrl: env.SMS_WEBHOOK_URL } : {}),
        },
      }
    : {}),
  ...(env.TOOL_APPROVAL_TIMEOUT_MS ? { approvalTimeoutMs: Number(env.TOOL_APPROVAL_TIMEOUT_MS) } : {}),
  ...(env.MAIL_POLL_MS ? { mailPollMs: Number(env.MAIL_POLL_MS) } : {}),
};
const host = await startInstanceHost({
  port: Number(process.env.PORT ?? 7100),
  host: process.env.HOST ?? "127.0.0.1",
  xmtpApiUrl,
  masterSeed,
  credentials,
  dataDir: resolve(process.env.INSTANCE_DATA_DIR ?? ".data/instances"),
  ...(process.env.MAX_INSTANCES ? { maxInstances: Number(process.env.MAX_INSTANCES) } : {}),
  ...(process.env.DORMANT_AFTER_MS ? { dormantAfterMs: Number(process.env.DORMANT_AFTER_MS) } : {}),
  tools,
  ...(env.PATTERN_POOL_URL ? { patternPoolUrl: env.PATTERN_POOL_URL } : {}),
  ...(env.PATTERN_QUERY_INTERVAL_MS ? { patternQueryIntervalMs: Number(env.PATTERN_QUERY_INTERVAL_MS) } : {}),
  ...(llmBaseUrl
    ? {
        llm: {
          baseUrl: llmBaseUrl,
          apiKey: process.env.LLM_API_KEY ?? "",
          ...(process.env.LLM_MODEL ? { model: process.env.LLM_MODEL } : {}),
        },
      }
    : {}),
  log,
});
installShutdownHandlers(log, () => host.close());
process.stdout.write(`instance host: ${host.url} (${host.instances.size} instances)\n`);
