// An agent's writes to its conversation survive XMTP's rate limit
// (docs/instance.md, "XMTP's limits"). The network refuses a client's writes
// past about 3,000 in five minutes (RESOURCE_EXHAUSTED); the SDK tries a
// publish three times at once and then drops the message (its `send` throws
// "errors publishing intents", and `publishMessages()` does not bring it
// back: checked against the local node's limiter). So the agent sends such a
// message again itself, after a backoff that grows to a minute, until it is
// published or ten minutes passed. Its sends go one at a time, so a message
// waiting for the limit holds back the ones after it and the conversation
// reads them in order; other agents have clients of their own and are not
// held back.

import type { Logger } from "@convos-pool/kit/server";
import type { AgentGroup } from "./xmtp.js";

/** The group's methods that publish a message. */
const SENDS = new Set([
  "send",
  "sendText",
  "sendMarkdown",
  "sendReply",
  "sendReaction",
  "sendActions",
  "sendTransactionReference",
  "sendReadReceipt",
]);

export interface RetryPolicy {
  /** The first wait, ms; each next one doubles, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Past this since the first try, the error is thrown. */
  giveUpAfterMs: number;
}

export const SEND_RETRY: RetryPolicy = { firstDelayMs: 1_000, maxDelayMs: 60_000, giveUpAfterMs: 10 * 60_000 };

/** A send the network did not take, which is safe to make again: the SDK dropped it unpublished. */
export function wasNotPublished(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /errors publishing intents|resource.?exhausted|rate.?limit/i.test(text);
}

/** The waits between tries: 1 s, 2 s, 4 s, ... capped at a minute, within the give-up time. */
export function retryDelays(policy: RetryPolicy): number[] {
  const delays: number[] = [];
  let total = 0;
  for (let d = policy.firstDelayMs; total + d <= policy.giveUpAfterMs; d = Math.min(d * 2, policy.maxDelayMs)) {
    delays.push(d);
    total += d;
  }
  return delays;
}

/** `group` whose sends are made one at a time and retried past the rate limit. */
export function withRetriedSends(group: AgentGroup, log: Logger, policy: RetryPolicy = SEND_RETRY): AgentGroup {
  let last: Promise<unknown> = Promise.resolve();
  const delays = retryDelays(policy);
  const retried =
    (name: string, fn: (...args: unknown[]) => Promise<unknown>) =>
    (...args: unknown[]): Promise<unknown> => {
      const run = async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await fn(...args);
          } catch (err) {
            const wait = delays[attempt];
            if (wait === undefined || !wasNotPublished(err)) throw err;
            log.warn("a message was not published (the network's rate limit?); sending it again", {
              method: name,
              attempt: attempt + 1,
              waitMs: wait,
            });
            await new Promise((r) => setTimeout(r, wait));
          }
        }
      };
      const next = last.then(run, run);
      last = next.catch(() => undefined);
      return next;
    };
  return new Proxy(group, {
    get(target, prop) {
      // Read on the group itself: the SDK's getters read its private fields, which the proxy does not have.
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const bound = (value as (...a: unknown[]) => unknown).bind(target) as (...args: unknown[]) => Promise<unknown>;
      return typeof prop === "string" && SENDS.has(prop) ? retried(prop, bound) : bound;
    },
  });
}
