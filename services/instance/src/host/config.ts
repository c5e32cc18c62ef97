// An instance host's options from its environment (main.ts lists each
// variable), all but where its agents' keys come from: the keys service for
// a deployed host (main.ts), a seed in the process for a benchmark of one
// host alone (bench/lone-host.ts).
import { resolve } from "node:path";
import type { Logger } from "@convos-pool/kit/server";
import type { ServiceEnv } from "@convos-pool/kit/service";
import { INSTANCE_RUNTIMES, type HostToolOptions, type InstanceHostOptions, type InstanceRuntime } from "./options.js";
import { personKeyOf } from "../agent/state/signals.js";

/** Agents' tools: a provider that is not set leaves such tools held but not usable. */
function toolsFromEnv(env: ServiceEnv): HostToolOptions {
  const smtpUrl = env.optional("MAIL_SMTP_URL");
  const pop3Url = env.optional("MAIL_POP3_URL");
  const agentmailUrl =
    env.optional("AGENTMAIL_API_URL") ??
    (env.optional("EMAIL_PROVIDER")?.trim().toLowerCase() === "agentmail" ? "https://api.agentmail.to" : undefined);
  const chainRpcUrl = env.optional("CHAIN_RPC_URL");
  // The claims service signs agents' payments; a deployed host holds no wallet key.
  const signerUrl = env.optional("PAYMENT_SIGNER_URL");
  const smsKey = env.optional("SMS_API_KEY");
  const smsPublicKey = env.optional("SMS_WEBHOOK_PUBLIC_KEY");
  const smsWebhookUrl = env.optional("SMS_WEBHOOK_URL");
  const approvalTimeoutMs = env.int("TOOL_APPROVAL_TIMEOUT_MS", undefined, 1);
  const mailPollMs = env.int("MAIL_POLL_MS", undefined, 1);
  return {
    ...(smtpUrl && pop3Url ? { mail: { smtpUrl, pop3Url } } : {}),
    ...(agentmailUrl ? { agentmail: { apiUrl: agentmailUrl } } : {}),
    ...(chainRpcUrl ? { chain: { rpcUrl: chainRpcUrl, ...(signerUrl ? { signerUrl } : {}) } } : {}),
    ...(smsKey && smsPublicKey
      ? {
          sms: {
            apiUrl: env.optional("SMS_API_URL") ?? "https://api.telnyx.com",
            apiKey: smsKey,
            webhookPublicKey: smsPublicKey,
            webhookPort: env.int("SMS_WEBHOOK_PORT", 7101),
            webhookHost: env.optional("SMS_WEBHOOK_HOST") ?? env.host("127.0.0.1"),
            ...(smsWebhookUrl ? { webhookUrl: smsWebhookUrl } : {}),
          },
        }
      : {}),
    ...(approvalTimeoutMs !== undefined ? { approvalTimeoutMs } : {}),
    ...(mailPollMs !== undefined ? { mailPollMs } : {}),
  };
}

/** Everything but `keysUrl` (or a test's `masterSeed`). */
export function hostOptionsFromEnv(env: ServiceEnv, log: Logger): InstanceHostOptions {
  const maxInstances = env.int("MAX_INSTANCES", undefined, 1);
  const dormantAfterMs = env.int("DORMANT_AFTER_MS", undefined, 0);
  const patternPoolUrl = env.optional("PATTERN_POOL_URL");
  const patternQueryIntervalMs = env.int("PATTERN_QUERY_INTERVAL_MS", undefined, 1);
  const signalsUrl = env.optional("SIGNALS_URL");
  // The same lineage service keeps the agents' state marks unless said otherwise.
  const stateMarksUrl = env.optional("STATE_MARKS_URL") ?? signalsUrl;
  const signalsIntervalMs = env.int("SIGNALS_INTERVAL_MS", undefined, 1);
  // A person's pseudonym in the counts: one key on every host of the pool, never the lineage service's.
  const signalsPersonKey = personKeyOf(env.optional("SIGNALS_PERSON_KEY"));
  const vaultUrl = env.optional("VAULT_URL");
  const schedulesUrl = env.optional("SCHEDULES_URL");
  const hostPublicUrl = env.optional("HOST_PUBLIC_URL");
  const llmBaseUrl = env.optional("LLM_BASE_URL");
  const runtime = env.optional("INSTANCE_RUNTIME") ?? "pool";
  if (!(INSTANCE_RUNTIMES as readonly string[]).includes(runtime))
    throw new Error(`INSTANCE_RUNTIME must be one of ${INSTANCE_RUNTIMES.join(", ")}, not ${runtime}`);
  const openclawDir = env.optional("POOL_OPENCLAW_DIR");
  const openclawMaxGateways = env.int("OPENCLAW_MAX_GATEWAYS", undefined, 1);
  const openclawWarmGateways = env.int("OPENCLAW_WARM_GATEWAYS", undefined, 0);
  const llmModel = env.optional("LLM_MODEL");
  const llmLimits = {
    callsPerMinute: env.int("LLM_CALLS_PER_MINUTE", undefined, 0),
    messageTokens: env.int("LLM_MESSAGE_TOKENS", undefined, 0),
    historyTokens: env.int("LLM_HISTORY_TOKENS", undefined, 0),
    memoryTokens: env.int("LLM_MEMORY_TOKENS", undefined, 0),
    answerWithinMs: env.int("LLM_ANSWER_WITHIN_MS", undefined, 0),
  };
  return {
    port: env.port(7100),
    host: env.host("127.0.0.1"),
    xmtpApiUrl: env.required("XMTP_API_URL", "the XMTP node (the local one: http://localhost:5556)"),
    credentials: env.credentials("instance-host"),
    poolId: env.poolId(),
    dataDir: resolve(env.optional("INSTANCE_DATA_DIR") ?? ".data/instances"),
    ...(maxInstances !== undefined ? { maxInstances } : {}),
    ...(dormantAfterMs !== undefined ? { dormantAfterMs } : {}),
    tools: toolsFromEnv(env),
    ...(patternPoolUrl ? { patternPoolUrl } : {}),
    ...(patternQueryIntervalMs !== undefined ? { patternQueryIntervalMs } : {}),
    ...(signalsUrl ? { signalsUrl } : {}),
    ...(stateMarksUrl ? { stateMarksUrl } : {}),
    ...(signalsIntervalMs !== undefined ? { signalsIntervalMs } : {}),
    ...(signalsPersonKey ? { signalsPersonKey } : {}),
    ...(vaultUrl ? { vaultUrl } : {}),
    ...(schedulesUrl ? { schedulesUrl } : {}),
    ...(hostPublicUrl ? { hostPublicUrl } : {}),
    ...(llmBaseUrl
      ? {
          llm: {
            baseUrl: llmBaseUrl,
            apiKey: env.optional("LLM_API_KEY") ?? "",
            ...(llmModel ? { model: llmModel } : {}),
            hostCalls: env.int("LLM_HOST_CALLS", undefined, 0),
            hostCallsWaiting: env.int("LLM_HOST_CALLS_WAITING", undefined, 0),
          },
        }
      : {}),
    llmLimits,
    runtime: runtime as InstanceRuntime,
    ...(openclawDir ? { openclawDir: resolve(openclawDir) } : {}),
    ...(openclawMaxGateways !== undefined ? { openclawMaxGateways } : {}),
    ...(openclawWarmGateways !== undefined ? { openclawWarmGateways } : {}),
    log,
  };
}
