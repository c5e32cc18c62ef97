// Runs an instance host on its own. Environment:
//   XMTP_API_URL         the XMTP node (required; the local node: http://localhost:5556)
//   POOL_KEYS_URL        the keys service, which releases each agent's wallet key to the host that runs it
//                        (required; a host holds no seed: docs/security.md, "Agents' keys")
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
//   PAYMENT_SIGNER_URL              the claims service, which signs agents' payments within their owners'
//                                   signed limits (their keys never reach a host: docs/security.md,
//                                   "Agents' money"); unset: wallets are held, and pay nothing
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
//   SIGNALS_PERSON_KEY           hex, 32 bytes or more, the same on every host of the pool and never the lineage
//                                service's: the key of a person's pseudonym of the day ("Per person"); unset:
//                                the process's own (a person on two hosts counts once on each)
// Agents kept off the host (docs/scaling.md, "A host lost for good"):
//   VAULT_URL            the claims service, where each claimed agent's sealed state goes as it changes;
//                        unset: agents live on this host's disk alone (said at start)
//   SCHEDULES_URL        the claims service, where agents keep the reminders, routines and acts people ask for;
//                        unset: agents keep no time (docs/schedules-language.md)
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
import { runService } from "@convos-pool/kit/service";
import { hostOptionsFromEnv } from "./host/config.js";
import { startInstanceHost } from "./host/host.js";

const host = await runService(
  "instance-host",
  (env, log) => ({
    ...hostOptionsFromEnv(env, log),
    keysUrl: env.required(
      "POOL_KEYS_URL",
      "the keys service, which releases each agent's key to the host that runs it",
    ),
  }),
  startInstanceHost,
);
process.stdout.write(`instance host: ${host.url} (${host.instances.size} instances)\n`);
