// How far the agent has read its conversation (docs/instance.md, "How far
// it has read"), kept in state.json so that a restart or a wake neither
// loses a message that was waiting nor handles one twice. Turns are not
// first come, first served (turns/queue.ts): a member's message can wait
// while newer ones of the owner's are handled, so one position cannot say
// both. The mark is a low-water mark (every message sent at or before it is
// done) and the ids of the messages done after it. Pure: listening.ts
// keeps it and asks here; a test checks it in memory (read-mark.test.ts).
//
// What this is not: which of what is read again gets answered (policy.ts
// toAnswerAfterGap), nor the in-memory ids that keep a stream and a
// catch-up from delivering one message twice (listening.ts).

/** The read position as state.json holds it; a file of before this had only `lastSeenNs`. */
export interface ReadMark {
  /** Low-water mark: every message sent at or before it (ns, decimal) is done. */
  lastSeenNs: string;
  /** Messages done that were sent after the mark (a message before them still waits), oldest first. */
  doneAfter?: { id: string; sentAtNs: string }[];
}

/** A message as the mark reads it. */
export interface Sent {
  id: string;
  sentAtNs: bigint;
}

/**
 * The most messages kept done after the mark. What can overtake a waiting
 * message is the owner's (unbounded) and, while a turn is parked for its
 * owner's answer, anyone's; past this the mark moves up to the oldest kept,
 * past whatever still waits before it: such a message is still handled
 * unless the host stops first, and then it is not read again (never
 * answered twice rather than never lost). The catch-up reads this many more
 * than it would, so what waits stays within what it reads.
 */
export const DONE_AFTER_KEPT = 100;

/** Whether `m` is done as `mark` says: at or before the mark, or done after it. */
export function isDone(mark: ReadMark, m: Sent): boolean {
  return m.sentAtNs <= BigInt(mark.lastSeenNs) || (mark.doneAfter ?? []).some((d) => d.id === m.id);
}

/**
 * The mark once `done` is done (handled, dropped past its sender's share, or
 * taken by a waiting question), with `waiting` the send times of the
 * messages still waiting (queued, running or parked; `done` not among them).
 * The mark moves up to the newest done message older than every waiting
 * one; what is done after it is kept by id. Returns `mark` itself when
 * nothing changed.
 */
export function markDone(mark: ReadMark, done: Sent, waiting: Iterable<bigint>): ReadMark {
  let low = BigInt(mark.lastSeenNs);
  const before = mark.doneAfter ?? [];
  if (done.sentAtNs <= low || before.some((d) => d.id === done.id)) return mark;
  let floor: bigint | undefined;
  for (const w of waiting) if (floor === undefined || w < floor) floor = w;
  const after = [...before.map((d) => ({ id: d.id, ns: BigInt(d.sentAtNs) })), { id: done.id, ns: done.sentAtNs }]
    .filter((d) => d.ns > low)
    .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  // Up to the newest done before every waiting one: nothing sent before it waits.
  for (const d of after) if (floor === undefined || d.ns < floor) low = d.ns > low ? d.ns : low;
  let kept = after.filter((d) => d.ns > low);
  // Past the cap the oldest kept become the mark (see DONE_AFTER_KEPT).
  const past = kept.at(-DONE_AFTER_KEPT - 1);
  if (past) {
    low = past.ns;
    kept = kept.filter((d) => d.ns > low);
  }
  const next: ReadMark = { lastSeenNs: low.toString() };
  if (kept.length > 0) next.doneAfter = kept.map((d) => ({ id: d.id, sentAtNs: d.ns.toString() }));
  return next;
}
