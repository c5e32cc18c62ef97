/**
 * What `npm start` pays for (docs/running.md, "What npm start pays for"):
 * its numbers and mailboxes come from its own stand-ins (the Telnyx stand-in,
 * the local mail server), which cost nobody anything, so every template has
 * them without an operator's grant, within the day's budget. New wallets stay
 * empty unless an operator's grant funds them: an owner deposits from the
 * chain's funded account, so whose money an agent moves is as in production.
 * A deployed pool (each service's main.ts) grants nothing by default.
 */
import { budgetFromEnv, parseBudget, type PoolBudget } from "@convos-pool/claims";

/** POOL_TOOLS_WITHOUT_GRANT of `npm start` when it is not set: both local stand-ins. */
export const LOCAL_TOOLS_WITHOUT_GRANT = "sms,email";

/** startPool's budget when none is given: the local stand-ins granted, the day's caps as in production. */
export const LOCAL_BUDGET: PoolBudget = parseBudget("", LOCAL_TOOLS_WITHOUT_GRANT);

/** `npm start`'s budget: POOL_BUDGET as anywhere; POOL_TOOLS_WITHOUT_GRANT unset grants the stand-ins, set empty grants nothing. */
export function localBudgetFromEnv(env: NodeJS.ProcessEnv = process.env): PoolBudget {
  return budgetFromEnv({ ...env, POOL_TOOLS_WITHOUT_GRANT: env.POOL_TOOLS_WITHOUT_GRANT ?? LOCAL_TOOLS_WITHOUT_GRANT });
}
