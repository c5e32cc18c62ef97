/** An argument error: main prints the message and the usage text, exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A local failure (missing key, unreadable file, bad file content): exit 1. */
export class CliError extends Error {
  override name = "CliError";
}

/**
 * The server answered with an error status; `body` is its error JSON, and
 * `retryAfterMs` its Retry-After on a 429 or 503 (a refusal that may be sent again).
 */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}`);
  }
}

/** The server could not be reached, or the connection broke before its answer came. */
export class NetworkError extends CliError {}

/**
 * A request that never reached the gateway. Refused (nothing listens there):
 * the pool is not running, so say how to start one or point at another;
 * anything else (a name that does not resolve, a timeout) names its cause.
 */
export function unreachable(url: string, err: unknown): NetworkError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  if (cause?.code === "ECONNREFUSED") {
    return new NetworkError(
      `the pool is not running at ${url} (nothing answers there): start it with \`npm start\` in the pool's folder, ` +
        "or point at another with POOL_URL or --url",
    );
  }
  return new NetworkError(`cannot reach ${url}: ${why} (the gateway is set by POOL_URL or --url)`);
}
