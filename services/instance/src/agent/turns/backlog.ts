// What a member hears while the agent is behind (docs/instance.md, "When
// the pool is busy"): its turns come one at a time, the owner's first
// (queue.ts), so a member's message may wait behind several. Its sender is
// told once, in a reply, that it is busy and will answer shortly, and not
// again until none of their messages waits (one notice a person a
// backlog, never one a message), nor within the same ten minutes as the
// other notices (BUSY_NOTICE_EVERY_MS); a message that waited past what an
// answer is still worth is answered, without the model, that it could not
// get to it. The queue itself stays bounded by queue.ts's shares; this
// bounds how stale an answer may be. Pure: Listening keeps a Backlog and
// says what it decides (conversation/listening.ts).
//
// Not here: the owner's messages (never told busy, never too late: they go
// first) and texts to its number (an outsider is not answered by text when
// the agent is behind: queue.ts TEXTS_DROPPED).

/**
 * Messages already waiting for their turn (the one running not counted, nor
 * the agent's own quick work) from which a member's message tells its sender
 * it is busy: two quick messages of a conversation are no backlog, a third
 * waiting behind two is.
 */
export const BUSY_AHEAD = 2;

/** How long a member's message may wait for its turn and still be answered by the model. */
export const ANSWER_WITHIN_MS = 120_000;

/** Said once a person a backlog, in reply to the message that found it behind. */
export const BUSY_ANSWER_SHORTLY = "I'm busy with other messages right now; I'll answer you shortly.";

/** Said, in reply, instead of an answer that would come too late. */
export const COULD_NOT_GET_TO_THIS = "I could not get to this in time. Ask me again if it still matters.";

/** Whether a member's message that waited `waitedMs` for its turn is past answering. */
export function tooLate(waitedMs: number, withinMs = ANSWER_WITHIN_MS): boolean {
  return withinMs > 0 && waitedMs > withinMs;
}

/**
 * Each member's messages waiting, and whom it told it is busy: once a
 * backlog, and at most once every `everyMs` a person (a queue that empties
 * and fills again, as a flood's declined messages leave it together, is not
 * a new backlog to the person flooding).
 */
export class Backlog {
  private readonly waitingBy = new Map<string, number>();
  /** Told in their present backlog. */
  private readonly told = new Set<string>();
  /** When each was last told, ms. */
  private readonly toldAt = new Map<string, number>();

  constructor(private readonly everyMs = 0) {}

  /** `sender`'s message joined the queue at `now` with `ahead` messages waiting before it: true when it tells them it is busy now. */
  joined(sender: string, ahead: number, now: number): boolean {
    this.waitingBy.set(sender, (this.waitingBy.get(sender) ?? 0) + 1);
    if (ahead < BUSY_AHEAD || this.told.has(sender)) return false;
    const last = this.toldAt.get(sender);
    if (last !== undefined && now - last < this.everyMs) return false;
    this.told.add(sender);
    this.toldAt.set(sender, now);
    return true;
  }

  /** One of `sender`'s messages left the queue (answered, too late, failed): with none left, their backlog is over. */
  left(sender: string): void {
    const n = (this.waitingBy.get(sender) ?? 0) - 1;
    if (n > 0) {
      this.waitingBy.set(sender, n);
      return;
    }
    this.waitingBy.delete(sender);
    this.told.delete(sender);
  }
}
