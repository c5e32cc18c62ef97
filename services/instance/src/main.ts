// Runs an instance host on its own. Environment:
//   XMTP_API_URL         the XMTP node (required; the local node: http://localhost:5556)
//   POOL_MASTER_SEED     BIP-39 mnemonic or 32-byte hex; instance n's wallet is m/44'/60'/0'/0/n (required)
//   POOL_ID (required) the deployment every signature names (docs/signatures.md)
//   POOL_SERVICE_TOKEN (or POOL_SERVICE_TOKEN_FILE) + POOL_SERVICE_DIGESTS   the host's own credential, bound to
//                        HOST_PUBLIC_URL, and every service's digest (required; docs/security.md);
//                        POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] for TLS
//   INSTANCE_DATA_DIR    workspaces (default .data/instances)
//   PORT (7100), HOST (127.0.0.1), MAX_INSTANCES (1000)
//   DORMANT_AFTER_MS     a claimed agent quiet this long goes dormant (600000; 0: never; docs/instance.md)
//   LLM_BASE_URL, LLM_API_KEY, LLM_MODEL   an OpenAI-compatible endpoint; without
//                        LLM_BASE_URL the offline provider answers (labelled, no key)
//   LLM_CALLS_PER_MINUTE (60), LLM_MESSAGE_TOKENS (1000), LLM_HISTORY_TOKENS (3000), LLM_MEMORY_TOKENS (3000)
//                        what each agent's conversation may spend on the model (docs/instance.md,
//                        "What a conversation may cost"); 0: no limit, for comparisons, never in production
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
//   TOOL_APPROVAL_TIMEOUT_MS (600000), MAIL_POLL_MS (30000)
// The pattern pool (docs/patterns.md, "Agents and the pattern pool"):
//   PATTERN_POOL_URL             the lineage service, where agents whose owners opted in offer and adopt
//                                lessons; unset: owners' choices are kept, nothing is offered or adopted
//   PATTERN_QUERY_INTERVAL_MS    how often each such agent offers and queries (600000)
// Signals (docs/signals.md, "How counts leave the agent"):
//   SIGNALS_URL                  the lineage service, where each agent's signed days of counts go; unset:
//                                counted and kept (a week of them), not sent
//   SIGNALS_INTERVAL_MS          how often they are sent (900000)
// Agents kept off the host (docs/scaling.md, "A host lost for good"):
//   VAULT_URL            the claims service, where each claimed agent's sealed state goes as it changes;
//                        unset: agents live on this host's disk alone (said at start)
//   STATE_MARKS_URL      the lineage service, where each kept state's signed high-water mark goes and what a
//                        restore checks (default SIGNALS_URL; docs/scaling.md, "Only the newest state")
//   HOST_PUBLIC_URL      this host's address as the claims service names it in INSTANCE_HOST_URLS
//                        (default: the URL it listens on)
// The agents' runtime (docs/openclaw.md):
//   INSTANCE_RUNTIME     "pool" (default): the host's own model calls; "openclaw": one OpenClaw gateway per
//                        configured agent, on LLM_BASE_URL (required then)
//   POOL_OPENCLAW_DIR    where scripts/openclaw-install.sh installed OpenClaw (default vendor/openclaw)
//   OPENCLAW_MAX_GATEWAYS  gateways running at once (about 1 to 1.6 GB each); beyond it the least recently
//                        used idle one stops until its agent's next turn (default: no limit)
//   OPENCLAW_WARM_GATEWAYS  gateways kept started with no agent, within that limit: a waking or newly
//                        claimed agent takes one instead of waiting a minute for its own (default 0)
import { resolve } from "node:path";
import { runService, type ServiceEnv } from "@convos-pool/kit/service";
import { INSTANCE_RUNTIMES, startInstanceHost, type HostToolOptions, type InstanceRuntime } from "./host/host.js";

/** Agents' tools: a provider that is not set leaves such tools held but not usable. */
function toolsFromEnv(env: ServiceEnv): HostToolOptions {
  const smtpUrl = env.optional("MAIL_SMTP_URL");
  const pop3Url = env.optional("MAIL_POP3_URL");
  const agentmailUrl =
    env.optional("AGENTMAIL_API_URL") ??
    (env.optional("EMAIL_PROVIDER")?.trim().toLowerCase() === "agentmail" ? "https://api.agentmail.to" : undefined);
  const chainRpcUrl = env.optional("CHAIN_RPC_URL");
  const smsKey = env.optional("SMS_API_KEY");
  const smsPublicKey = env.optional("SMS_WEBHOOK_PUBLIC_KEY");
  const smsWebhookUrl = env.optional("SMS_WEBHOOK_URL");
  const approvalTimeoutMs = env.int("TOOL_APPROVAL_TIMEOUT_MS", undefined, 1);
  const mailPollMs = env.int("MAIL_POLL_MS", undefined, 1);
  return {
    ...(smtpUrl && pop3Url ? { mail: { smtpUrl, pop3Url } } : {}),
    ...(agentmailUrl ? { agentmail: { apiUrl: agentmailUrl } } : {}),
    ...(chainRpcUrl ? { chain: { rpcUrl: chainRpcUrl } } : {}),
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

const host = await runService(
  "instance-host",
  (env, log) => {
    const maxInstances = env.int("MAX_INSTANCES", undefined, 1);
    const dormantAfterMs = env.int("DORMANT_AFTER_MS", undefined, 0);
    const patternPoolUrl = env.optional("PATTERN_POOL_URL");
    const patternQueryIntervalMs = env.int("PATTERN_QUERY_INTERVAL_MS", undefined, 1);
    const signalsUrl = env.optional("SIGNALS_URL");
    // The same lineage service keeps the agents' state marks unless said otherwise.
    const stateMarksUrl = env.optional("STATE_MARKS_URL") ?? signalsUrl;
    const signalsIntervalMs = env.int("SIGNALS_INTERVAL_MS", undefined, 1);
    const vaultUrl = env.optional("VAULT_URL");
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
    };
    return {
      port: env.port(7100),
      host: env.host("127.0.0.1"),
      xmtpApiUrl: env.required("XMTP_API_URL", "the XMTP node (the local one: http://localhost:5556)"),
      masterSeed: env.required("POOL_MASTER_SEED", "a BIP-39 mnemonic or 32 bytes of hex: every agent's keys"),
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
      ...(vaultUrl ? { vaultUrl } : {}),
      ...(hostPublicUrl ? { hostPublicUrl } : {}),
      ...(llmBaseUrl
        ? {
            llm: {
              baseUrl: llmBaseUrl,
              apiKey: env.optional("LLM_API_KEY") ?? "",
              ...(llmModel ? { model: llmModel } : {}),
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
  },
  startInstanceHost,
);
process.stdout.write(`instance host: ${host.url} (${host.instances.size} instances)\n`);
