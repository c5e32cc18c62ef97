// Where and as whom the CLI works, apart from how it talks (http.ts), so that
// signing can use it too.

/** Where and as whom the CLI works; built by main from options and environment. */
export interface Context {
  /** Gateway base URL, no trailing slash. */
  url: string;
  /** Absolute path of the key file; the session file sits beside it. */
  keyFile: string;
  /** Absolute paths of file arguments are resolved against this directory. */
  cwd: string;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
  /** How a command waits `ms` (tests); absent: a timer that does not keep the CLI running. */
  pause?: (ms: number) => Promise<unknown>;
  /** XMTP_API_URL: where signers' inboxes are checked (verify-agent); absent: by derivation only. */
  xmtpApiUrl?: string;
  /** POOL_ID: the pool to sign for without asking the gateway (signing.ts poolIdOf). */
  poolId?: string;
  /** Where a long command says how it is getting on (stderr); absent: it says nothing. */
  progress?: (line: string) => void;
  /**
   * Sets what the person's Ctrl-C does while a command waits (a claim: cancel
   * it), or, with undefined, gives it back: Ctrl-C stops the CLI.
   */
  onInterrupt?: (cancel: (() => void) | undefined) => void;
}

/** Waits `ms` by the context's pause: a timer that does not keep the CLI running once its work is done. */
export function pause(ctx: Context, ms: number): Promise<unknown> {
  return ctx.pause ? ctx.pause(ms) : new Promise((r) => setTimeout(r, ms).unref());
}

/** The context's clock in seconds: what a signature's issuedAt says. */
export function nowSeconds(ctx: Context): number {
  return Math.floor((ctx.now ?? Date.now)() / 1000);
}
