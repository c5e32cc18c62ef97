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

/**
 * Closes `parts` side by side, waiting `ms` at most: what is still closing
 * then is named on stderr and left to finish, so that what comes after (the
 * stack's processes, the node) is still closed and the leftovers check names
 * nothing that is not this file's. For a test's afterAll, before the parts
 * that hold processes.
 */
export async function closeWithin(parts: Record<string, () => Promise<unknown>>, ms: number): Promise<void> {
  const open = new Set(Object.keys(parts));
  const all = Promise.all(
    Object.entries(parts).map(async ([name, close]) => {
      await close().catch(() => undefined);
      open.delete(name);
    }),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([all, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
  if (open.size > 0) console.error(`closeWithin: still closing after ${ms} ms: ${[...open].join(", ")}`);
}
