/**
 * What the pool pays for, and who allowed it (docs/limits.md, "What the pool
 * pays for"): a claim's numbers and mailboxes need an operator's grant (or
 * the operator's blanket allowance for a private pool), a new wallet is
 * funded only when a grant says so, and a global budget per day caps both.
 * Pure: the claim flow applies what these decide, in the claim's transaction
 * (sql.ts).
 */
import type { ToolGrant } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { limitExceeded } from "@convos-pool/kit/server";
import { GRANTED_TOOLS, preconditionFailed, WEI_PATTERN } from "@convos-pool/kit/content";

/** The operator's budget: POOL_BUDGET and POOL_TOOLS_WITHOUT_GRANT. */
export interface PoolBudget {
  /** Wei the faucet may give new wallets per day (UTC), in all; undefined: no cap of its own. */
  fundsPerDayWei?: bigint | undefined;
  /** Tools the pool pays for (numbers, mailboxes, funded wallets) newly provisioned per day, in all; undefined: no cap. */
  toolsPerDay?: number | undefined;
  /** Tools of GRANTED_TOOLS anyone's template may have without a grant (a private pool); none by default. */
  withoutGrant: readonly string[];
}

/** The defaults: nothing paid for without a grant; at most 1 ether (10^18 wei) and 100 tools a day with them. */
export const DEFAULT_BUDGET: PoolBudget = {
  fundsPerDayWei: 10n ** 18n,
  toolsPerDay: 100,
  withoutGrant: [],
};

/**
 * For tests and benchmarks that measure something else: numbers and
 * mailboxes for every template, no daily caps, no wallet funded.
 */
export const OPEN_BUDGET: PoolBudget = { withoutGrant: [...GRANTED_TOOLS] };

/**
 * The budget from the environment: `POOL_BUDGET` (`funds.day=<wei>|off`,
 * `tools.day=<n>|off`, comma-separated, over DEFAULT_BUDGET) and
 * `POOL_TOOLS_WITHOUT_GRANT` (`sms,email`, or empty). Throws naming the
 * entry that is wrong.
 */
export function parseBudget(text = "", withoutGrant = ""): PoolBudget {
  const out: PoolBudget = { ...DEFAULT_BUDGET, withoutGrant: [] };
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, value = ""] = part.split("=", 2).map((s) => s.trim()) as [string, string?];
    if (name === "funds.day") {
      if (value !== "off" && !WEI_PATTERN.test(value))
        throw new Error(`POOL_BUDGET funds.day: a whole number of wei, or "off"`);
      out.fundsPerDayWei = value === "off" ? undefined : BigInt(value);
    } else if (name === "tools.day") {
      if (value !== "off" && !/^(0|[1-9][0-9]{0,6})$/.test(value))
        throw new Error(`POOL_BUDGET tools.day: a whole number of tools, or "off"`);
      out.toolsPerDay = value === "off" ? undefined : Number(value);
    } else {
      throw new Error(`POOL_BUDGET: "${part}" is not <name>=<value>, name one of funds.day, tools.day`);
    }
  }
  const open = withoutGrant
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of open) {
    if (!(GRANTED_TOOLS as readonly string[]).includes(t))
      throw new Error(`POOL_TOOLS_WITHOUT_GRANT: "${t}" is not one of ${GRANTED_TOOLS.join(", ")}`);
  }
  out.withoutGrant = [...new Set(open)];
  return out;
}

/** The budget of a claims service, from its environment. */
export function budgetFromEnv(env: NodeJS.ProcessEnv = process.env): PoolBudget {
  return parseBudget(env.POOL_BUDGET ?? "", env.POOL_TOOLS_WITHOUT_GRANT ?? "");
}

/** What one claim costs the pool, decided before it takes anything. */
export interface Spend {
  /** Numbers and mailboxes it provisions. */
  paidTools: string[];
  /** Wei its new wallet gets from the faucet. */
  fundWei: bigint;
  /** Tools it counts against the day's budget and its grant's quota: the paid ones, and the wallet when funded. */
  count: number;
  /** The grant whose quota it counts against ("template:<id>" or "creator:<inbox>"), when that grant has one. */
  quota?: { subject: string; maxLiveTools: number };
}

/** What a person is told a tool is. */
const TOOL_NAMES: Record<string, string> = { sms: "a phone number (sms)", email: "a mailbox (email)" };

/** The subject a grant covers, as the claims database records it with each agent it paid for. */
export function grantSubject(grant: ToolGrant): string {
  return grant.templateId ? `template:${grant.templateId}` : `creator:${grant.creatorId}`;
}

/**
 * The command an operator runs to let the pool pay for `tools` under
 * template `templateId`, keeping what `grant` already allows (a grant is set
 * whole: one without a tool takes it back). Checked against the CLI's own
 * parser by services/dev's banner test.
 */
export function grantCommand(templateId: string, tools: readonly string[], grant: ToolGrant | undefined): string {
  const all = [...new Set([...(grant?.tools ?? []), ...tools])].sort();
  const fund =
    grant && WEI_PATTERN.test(grant.fundWei) && BigInt(grant.fundWei) > 0n ? ` --fund-wei ${grant.fundWei}` : "";
  const quota = grant && grant.maxLiveTools > 0 ? ` --max-live-tools ${grant.maxLiveTools}` : "";
  return `npm run -s pool -- grant-tools ${templateId} --tools ${all.join(",")}${fund}${quota}`;
}

/**
 * A claim's spend: every number and mailbox its template asks for allowed by
 * its grant (or the pool's blanket allowance), else FAILED_PRECONDITION with
 * the PreconditionFailure "pool tool grant" naming the tools and the command
 * an operator runs (no limit of the caller's: waiting does not help, an
 * operator does). Its wallet gets the grant's funding when the pool can fund
 * (a chain with a faucet), else none.
 */
export function planSpend(
  templateId: string,
  poolTools: readonly string[],
  grant: ToolGrant | undefined,
  budget: PoolBudget,
  canFund: boolean,
): Spend {
  const paidTools = poolTools.filter((t) => (GRANTED_TOOLS as readonly string[]).includes(t));
  const missing = paidTools.filter((t) => !grant?.tools.includes(t) && !budget.withoutGrant.includes(t));
  if (missing.length > 0) {
    const what = missing.map((t) => TOOL_NAMES[t] ?? t).join(" and ");
    const command = grantCommand(templateId, missing, grant);
    throw preconditionFailed(
      `template ${templateId} asks for ${what}, which the pool pays for only where its operators allowed it, ` +
        `and they have not for this template or its creator: one of the pool's operators (POOL_OPERATORS) allows it with ` +
        `\`${command}\` (docs/limits.md); or use a template without it`,
      {
        type: "pool tool grant",
        subject: `template:${templateId}`,
        description: `one of the pool's operators allows ${missing.join(", ")} with: ${command}`,
      },
    );
  }
  let usesGrant = paidTools.some((t) => grant?.tools.includes(t));
  const fundWei =
    canFund && poolTools.includes("crypto") && grant && WEI_PATTERN.test(grant.fundWei) ? BigInt(grant.fundWei) : 0n;
  if (fundWei > 0n) usesGrant = true;
  const count = paidTools.length + (fundWei > 0n ? 1 : 0);
  return {
    paidTools,
    fundWei,
    count,
    ...(usesGrant && grant && grant.maxLiveTools > 0
      ? { quota: { subject: grantSubject(grant), maxLiveTools: grant.maxLiveTools } }
      : {}),
  };
}

/** Whether a claim must count its spend in its transaction: it costs something under a cap. */
export function spendIsCapped(spend: Spend, budget: PoolBudget): boolean {
  return (
    spend.quota !== undefined ||
    (spend.fundWei > 0n && budget.fundsPerDayWei !== undefined) ||
    (spend.count > 0 && budget.toolsPerDay !== undefined)
  );
}

/** The day (UTC) a spend counts in, as `YYYY-MM-DD`, and the seconds until the next. */
export function budgetDay(now: Date): { day: string; secondsLeft: number } {
  const day = now.toISOString().slice(0, 10);
  const next = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
  return { day, secondsLeft: Math.max(1, Math.ceil((next - now.getTime()) / 1000)) };
}

/** A refusal of the day's budget, saying which and when it renews. */
export function dayBudgetExceeded(
  which: "funds" | "tools",
  spend: Spend,
  spent: { fundsWei: bigint; tools: number },
  budget: PoolBudget,
  secondsLeft: number,
): Error {
  const hours = Math.ceil(secondsLeft / 3600);
  return which === "funds"
    ? limitExceeded(
        "pool funds per day",
        `the pool's wallet funding for today is spent (${spent.fundsWei} of ${budget.fundsPerDayWei} wei; this agent's wallet would take ${spend.fundWei}); it renews at midnight UTC, in about ${hours} h`,
        secondsLeft,
      )
    : limitExceeded(
        "pool tools per day",
        `the pool's new numbers, mailboxes and funded wallets for today are spent (${spent.tools} of ${budget.toolsPerDay}; this agent needs ${spend.count}); they renew at midnight UTC, in about ${hours} h`,
        secondsLeft,
      );
}

/** A refusal of a grant's quota `q`: its agents hold `held` tools, and this one needs `needs` more. */
export function quotaExceeded(q: NonNullable<Spend["quota"]>, needs: number, held: number): Error {
  return limitExceeded(
    q.subject.startsWith("creator:") ? "pool tools per creator" : "pool tools per template",
    `agents under the operators' grant to ${q.subject.replace(":", " ")} hold ${held} of the ${q.maxLiveTools} numbers, mailboxes and funded wallets it allows, and this one needs ${needs}; one of them must be removed first`,
  );
}
