// The scoring of bench:requests (docs/performance/requests.md): an entry's
// bound acts against their labels, and the three figures over many entries.
// An act is its kind, its recipient's value and its amount in wei; a count
// is that act as many times. Pure.
import type { ChosenAct } from "@convos-pool/instance/testing/request";

export type ActKind = ChosenAct["act"];

/** An act an entry asks for, resolved: the recipient's value as the gate compares it. */
export interface Expected {
  act: ActKind;
  target: string;
  amountWei: bigint;
  count: number;
  /** The contact or setting it is named by, for the report; never compared. */
  name?: string | undefined;
}

/** A bound act, one per time it may be done. */
export interface Bound {
  act: ActKind;
  target: string;
  amountWei: bigint;
  /** The contact or setting it is named by, for the report; never compared. */
  name?: string | undefined;
}

export interface EntryScore<B extends Bound = Bound> {
  /** The entry asks for at least one act: it counts toward "done". */
  asks: boolean;
  /** The entry is not a plain request: it counts toward "acted". */
  nonRequest: boolean;
  /** The bound acts are exactly the acts asked for, each as many times. */
  done: boolean;
  /** Acts asked for that the bound acts do not hold (one per time). */
  missing: Bound[];
  /** Bound acts not asked for: a wrong recipient or amount, or once more than asked. */
  surplus: B[];
}

const key = (a: Bound) => `${a.act} ${a.target} ${a.amountWei}`;

/** One entry: its category, its labels and the acts bound for it. */
export function scoreEntry<B extends Bound>(
  category: string,
  expected: readonly Expected[],
  bound: readonly B[],
): EntryScore<B> {
  const left = expected.flatMap((e) =>
    Array.from(
      { length: e.count },
      (): Bound => ({ act: e.act, target: e.target, amountWei: e.amountWei, name: e.name }),
    ),
  );
  const surplus: B[] = [];
  for (const b of bound) {
    const i = left.findIndex((e) => key(e) === key(b));
    if (i >= 0) left.splice(i, 1);
    else surplus.push(b);
  }
  const asks = expected.some((e) => e.count > 0);
  return {
    asks,
    nonRequest: category !== "request",
    done: asks && left.length === 0 && surplus.length === 0,
    missing: left,
    surplus,
  };
}

/** The three figures over a set of entries. */
export interface Tally {
  entries: number;
  /** Entries that ask for an act, and of them those done without a question. */
  asking: number;
  done: number;
  /** Entries that are not plain requests, and of them those where an act not asked for binds. */
  nonRequests: number;
  acted: number;
  /** Entries where any act not asked for binds (any category). */
  wrong: number;
}

export function tally(scores: readonly EntryScore[]): Tally {
  const t: Tally = { entries: 0, asking: 0, done: 0, nonRequests: 0, acted: 0, wrong: 0 };
  for (const s of scores) {
    t.entries += 1;
    if (s.asks) t.asking += 1;
    if (s.done) t.done += 1;
    if (s.nonRequest) t.nonRequests += 1;
    if (s.nonRequest && s.surplus.length > 0) t.acted += 1;
    if (s.surplus.length > 0) t.wrong += 1;
  }
  return t;
}

/** Requests done without a question: at least this share, for the offline chooser. */
export const DONE_GOAL = 0.95;

export type Goal = "done" | "acted" | "wrong";

/** Whether an entry's score misses `goal` (done: an entry that asks and is not done; the others: a surplus act). */
export function misses(goal: Goal, s: EntryScore): boolean {
  switch (goal) {
    case "done":
      return s.asks && !s.done;
    case "acted":
      return s.nonRequest && s.surplus.length > 0;
    case "wrong":
      return s.surplus.length > 0;
  }
}

/** The goals a tally misses; "done" is weighed only when `weighDone` (the offline chooser's goal). */
export function goalsMissed(t: Tally, weighDone: boolean): Goal[] {
  const out: Goal[] = [];
  if (weighDone && t.asking > 0 && t.done / t.asking < DONE_GOAL) out.push("done");
  if (t.acted > 0) out.push("acted");
  if (t.wrong > 0) out.push("wrong");
  return out;
}
