// A database that is away (restarting, crashed, refusing connections) is
// not a wrong query: the caller is told UNAVAILABLE, which clients
// retry, and the steps that must not be lost halfway (a claim's completion,
// its rollback, its key) wait for it for a while (docs/reliability.md).
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

// SQLSTATE class 08 (connection exception) and 57P01-57P03 (the server shutting down or starting up).
const AWAY_SQLSTATE = /^(08...|57P0[123])$/;
const AWAY_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);

/** True when `err` (or what caused it) says the database server could not be reached or went away mid-query. */
export function isDatabaseAway(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e instanceof ConnectError) return false;
    const code = typeof e.code === "string" ? e.code : "";
    if (AWAY_SQLSTATE.test(code) || AWAY_ERRNO.has(code)) return true;
    if (typeof e.message === "string" && /Connection terminated/.test(e.message)) return true;
  }
  return false;
}

/**
 * Runs `fn`, again while the database is away, for up to `ms`. `fn` must be
 * safe to run again: a transaction whose connection was lost was rolled
 * back, but one lost at COMMIT may have committed (`attempt` > 1 tells `fn`
 * to check).
 */
export async function whileDatabaseAway<T>(fn: (attempt: number) => Promise<T>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isDatabaseAway(err) || Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 1_000)));
    }
  }
}

/** The database away answers UNAVAILABLE ("try again"), not INTERNAL; the cause is kept for the log. */
export function databaseAwayInterceptor(): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (isDatabaseAway(err))
        throw new ConnectError(
          "the service's database is unavailable; try again",
          Code.Unavailable,
          undefined,
          undefined,
          err,
        );
      throw err;
    }
  };
}
