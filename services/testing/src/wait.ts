// Waiting for a condition in a test: polled until it holds, failing after a
// deadline with what was awaited. A test waits for what it expects this way,
// never for a fixed time, so that it fails only when the thing never happens.
// No imports: a pure test can use it without loading anything else.

/** Resolves once `check` holds; throws `timed out waiting for <what>` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
