// While a refused call waits to be sent again (the kit's client retries:
// docs/web.md, "When the pool is busy"), the page says so where it stays in
// sight whatever the action: "The pool is busy, trying again in 2 s." The
// action's own button keeps its pending label meanwhile; the notice goes
// when the wait ends, and a refusal given up on shows as the action's error.
import { busyWords, type RetryEvent } from "@convos-pool/kit/browser";
import { useSyncExternalStore } from "react";

/** What the notice says, and until when. */
export interface Waiting {
  words: string;
  untilMs: number;
}

/** The notice after `event`, given the one shown (pure): the wait that ends last is the one said. */
export function noticeAfter(shown: Waiting | undefined, event: RetryEvent, nowMs: number): Waiting | undefined {
  if (event.kind !== "waiting") return shown;
  const untilMs = nowMs + event.waitMs;
  if (shown && shown.untilMs >= untilMs) return shown;
  const words = busyWords(event.waitMs);
  return { words: `${words.charAt(0).toUpperCase()}${words.slice(1)}.`, untilMs };
}

let shown: Waiting | undefined;
const listeners = new Set<() => void>();

function set(next: Waiting | undefined) {
  if (next === shown) return;
  shown = next;
  for (const l of listeners) l();
}

/** The transport's Retrier tells this of each wait (sign-in/session.tsx). */
export function onRetryEvent(event: RetryEvent): void {
  const next = noticeAfter(shown, event, Date.now());
  if (next === shown || !next) return;
  set(next);
  setTimeout(() => {
    if (shown === next) set(undefined);
  }, next.untilMs - Date.now());
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The notice, in the layout every page shares: nothing while no call waits. */
export function BusyNotice() {
  const waiting = useSyncExternalStore(subscribe, () => shown);
  return (
    <p className="busy-notice" role="status" hidden={!waiting}>
      {waiting?.words}
    </p>
  );
}
