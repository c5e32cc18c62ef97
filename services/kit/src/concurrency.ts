/**
 * Runs `job` for every item, at most `limit` at once, taking items in order.
 * When a job throws, no further item is started; the jobs already running
 * finish, and then the first error is thrown.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  job: (item: T, index: number) => Promise<void>,
): Promise<void> {
  // One queue that every worker takes from, so each item goes to one worker.
  const queue = items.entries();
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    for (const [i, item] of queue) {
      if (failure) return;
      try {
        await job(item, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.err;
}
