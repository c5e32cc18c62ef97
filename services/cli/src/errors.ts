/** An argument error: main prints the message and the usage text, exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A local failure (missing key, unreadable file, bad file content): exit 1. */
export class CliError extends Error {
  override name = "CliError";
}

/** The server answered with an error status; `body` is its error JSON. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}
