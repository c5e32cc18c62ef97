/**
 * What `npm start` prints once the pool is up: where each part listens, and
 * the commands to begin with. Every `npm run -s pool -- …` in it is checked
 * against the CLI's own parser (banner.test.ts), so a renamed command or
 * flag fails a test rather than a newcomer.
 */
import type { PoolBudget } from "@convos-pool/claims";
import type { RunningPool } from "./pool.js";

export type BannerFacts = Pick<
  RunningPool,
  "gatewayUrl" | "xmtpUrl" | "xmtpMetricsUrl" | "chainRpcUrl" | "ownerAccount" | "smtpUrl" | "pop3Url" | "hosts"
> & { smsUrl: string; budget: PoolBudget; operators: readonly string[] };

/** The CLI as the README runs it. */
const POOL = "npm run -s pool --";

/** What a tool of the pool is called in the banner. */
const NAMES: Record<string, string> = { sms: "numbers", email: "mailboxes" };

/** What the pool pays for, in a line: the local stand-ins granted or not, and what a deployed pool needs. */
export function paysFor(budget: PoolBudget): string {
  const open = (["sms", "email"] as const).filter((t) => budget.withoutGrant.includes(t));
  const closed = (["sms", "email"] as const).filter((t) => !budget.withoutGrant.includes(t));
  const grant = `${POOL} grant-tools TEMPLATE_ID${closed.length ? ` --tools ${closed.join(",")}` : ""} --fund-wei WEI`;
  if (open.length === 0)
    return `nothing without an operator's grant, as a deployed pool: no number, mailbox or wallet funding (an operator runs: ${grant}; docs/limits.md)`;
  const perDay = budget.toolsPerDay === undefined ? "" : `, up to ${budget.toolsPerDay} a day (POOL_BUDGET)`;
  const underGrant = [...closed.map((t) => NAMES[t]), "wallet funding"].join(" and ");
  return (
    `${open.map((t) => NAMES[t]).join(" and ")} for every template, from its local stand-ins${perDay}; ` +
    `${underGrant} only under an operator's grant (${grant}), so new wallets start empty. ` +
    `A deployed pool pays for nothing without its operators' grants (POOL_TOOLS_WITHOUT_GRANT= npm start does the same here; docs/limits.md)`
  );
}

/** The banner, line by line. */
export function bannerLines(p: BannerFacts): string[] {
  return [
    ``,
    `Convos agent pool is up.`,
    `  the web app (store, studio, my agents):  ${p.gatewayUrl}/`,
    `  gateway (REST, Connect, gRPC, gRPC-Web): ${p.gatewayUrl}`,
    `  local XMTP node (gRPC, h2c):              ${p.xmtpUrl}   (@xmtp/node-sdk: env "local"; see docs/xmtp-devnode.md)`,
    `    its metrics (Prometheus):               ${p.xmtpMetricsUrl}/metrics   (the other services': GET /metrics on their own ports; docs/runbook.md)`,
    `  local chain (JSON-RPC, agents' wallets):  ${p.chainRpcUrl}   (chain id 31337; new wallets are empty: deposit from ${p.ownerAccount}, docs/walkthroughs/wallet-budget.md)`,
    `  local mail (SMTP, agents' mailboxes):     ${p.smtpUrl}   (@agents.localhost; read with POP3 at ${p.pop3Url}; see docs/tools.md)`,
    `  local SMS (Telnyx's API, agents' numbers): ${p.smsUrl}   (a phone texts an agent: see docs/tools.md)`,
    ...p.hosts.map(
      (h, n) => `  pool host ${n + 1}: ${h.url}   ${h.pid ? `pid ${h.pid}, ` : "in this process, "}data ${h.dataDir}`,
    ),
    ...(p.hosts.length > 1
      ? [
          `    lose one: kill -9 PID && rm -rf DATA; its agents move after HOST_LOST_AFTER_SECONDS, or at once by typing here: hosts lost URL (docs/running.md)`,
        ]
      : []),
    `  the store:  curl '${p.gatewayUrl}/api/pool/templates?visibility=public'`,
    `  add an agent to a Convos conversation:  ${POOL} claim TEMPLATE_ID INVITE  (docs/walkthroughs/add-an-agent.md)`,
    `  clone it, with what it learned:          ${POOL} clone INSTANCE_ID INVITE --directive "…"`,
    `  a creator:  ${POOL} keygen   (then see docs/walkthroughs/creator.md)`,
    `  the store's operators (POOL_OPERATORS): ${p.operators.length ? p.operators.join(", ") : `none; POOL_OPERATORS=<inbox id> npm start names one (yours: ${POOL} whoami; docs/store.md)`}`,
    `  what the pool pays for: ${paysFor(p.budget)}`,
    `Ctrl-C stops it; data stays in .data/.`,
    ``,
  ];
}
