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

/**
 * Each value of `outcomes` as it settles, the first settled first: the
 * stream of answers to work that all started at once (a batch call's
 * outcomes, each sent when it is known). Turn an error into an outcome
 * before: a promise that rejects ends the stream with its error.
 */
export async function* asTheySettle<T>(outcomes: readonly Promise<T>[]): AsyncGenerator<T> {
  const ready: T[] = [];
  let failure: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  for (const outcome of outcomes) {
    void outcome
      .then(
        (value) => void ready.push(value),
        (err: unknown) => {
          failure ??= { err };
        },
      )
      .finally(() => wake?.());
  }
  for (let sent = 0; sent < outcomes.length; ) {
    if (ready.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    if (failure) throw failure.err;
    const settled = ready.splice(0);
    sent += settled.length;
    yield* settled;
  }
}
