// When a client sends a refused call again (docs/server-kit.md, "Clients that
// back off"). Pure: the budget is a value, the clock and the dice are
// arguments, so every rule is tested without waiting.
//
// A refusal is a call the server did not take: RESOURCE_EXHAUSTED or
// UNAVAILABLE that names a RetryInfo delay (REST: 429 or 503 with
// Retry-After). Nothing was done, spent or counted for it (docs/limits.md),
// so any call, a POST included, may go again. Only after the delay the
// server named, plus a little jitter so that a crowd refused together does
// not come back together; never past the call's deadline; and under a
// budget shared by all the calls of one client, gRPC's retry throttling: a
// bucket of MAX_TOKENS, every refusal takes one, every answer that is not
// one gives TOKEN_RATIO back, and a retry goes only while more than half is
// left. Over any run, retries are at most half the bucket plus a tenth of
// the calls, so an overloaded server sees its load grow by a tenth, not
// double or triple as with retries per call alone.
//
// Not here: calls that failed in other ways (a timeout, a broken connection:
// the server may have done the work), and limits where waiting does not help
// (a cap carries no RetryInfo).

/** The knobs; `RETRY_POLICY` holds the pool's. */
export interface RetryPolicy {
  /** The budget's bucket (gRPC's max_tokens). */
  maxTokens: number;
  /** What an answer that is not a refusal gives back (gRPC's token_ratio). */
  tokenRatio: number;
  /** Retries of one call at most. */
  maxRetries: number;
  /** The wait is the server's delay times 1 to 1 + jitter. */
  jitter: number;
  /** A delay longer than this is not waited for: the person is told the refusal (a rate limit's minute). */
  maxWaitMs: number;
}

export const RETRY_POLICY: RetryPolicy = {
  maxTokens: 10,
  tokenRatio: 0.1,
  maxRetries: 3,
  jitter: 0.2,
  maxWaitMs: 10_000,
};

/** What is left of one client's retry budget. */
export interface RetryBudget {
  readonly tokens: number;
}

export function fullBudget(policy: RetryPolicy = RETRY_POLICY): RetryBudget {
  return { tokens: policy.maxTokens };
}

/** The budget after a refusal (a retry's own included). */
export function afterRefusal(budget: RetryBudget): RetryBudget {
  return { tokens: Math.max(0, budget.tokens - 1) };
}

/** The budget after any answer that is not a refusal: a success, or another error. */
export function afterAnswer(budget: RetryBudget, policy: RetryPolicy = RETRY_POLICY): RetryBudget {
  return { tokens: Math.min(policy.maxTokens, budget.tokens + policy.tokenRatio) };
}

/** Why a refusal is not sent again. */
export type GiveUp = "budget" | "deadline" | "retries" | "too long";

export type RetryStep = { retry: true; waitMs: number } | { retry: false; why: GiveUp };

export interface Refused {
  /** The delay the server named, in milliseconds. */
  delayMs: number;
  /** Retries of this call so far. */
  retries: number;
  /** The budget after this refusal was counted. */
  budget: RetryBudget;
  nowMs: number;
  /** When the call's deadline passes, if it has one. */
  deadlineMs?: number | undefined;
  /** A number in [0, 1): the jitter's draw. */
  random: number;
}

/** Whether a refused call goes again, and after how long. */
export function planRetry(r: Refused, policy: RetryPolicy = RETRY_POLICY): RetryStep {
  if (r.retries >= policy.maxRetries) return { retry: false, why: "retries" };
  if (r.delayMs > policy.maxWaitMs) return { retry: false, why: "too long" };
  // Strictly more than half: a bucket at half stops, as gRPC's does.
  if (r.budget.tokens <= policy.maxTokens / 2) return { retry: false, why: "budget" };
  const waitMs = Math.ceil(Math.max(0, r.delayMs) * (1 + policy.jitter * r.random));
  // A retry that could not be answered before the deadline is not sent: the caller hears at once.
  if (r.deadlineMs !== undefined && r.nowMs + waitMs >= r.deadlineMs) return { retry: false, why: "deadline" };
  return { retry: true, waitMs };
}

/** What a person is told while a retry waits: "the pool is busy, trying again in 2 s". */
export function busyWords(waitMs: number): string {
  return `the pool is busy, trying again in ${Math.max(1, Math.round(waitMs / 1000))} s`;
}
