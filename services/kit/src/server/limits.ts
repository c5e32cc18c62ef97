// Limits that keep the pool up (docs/limits.md): rates per caller and per
// client address, caps on what one owner holds, and what one connection may
// hold of a server. Each is enforced where its key is known for sure: per
// address at the gateway (the TCP peer), per caller where the caller's
// identity is proven (a session at the gateway, a signature at the service
// that verifies it), caps in the claims service's own transaction,
// connections in the server kit (connection-limits.ts). Rates are counted in
// the service's PostgreSQL (rate-counters.ts), where every replica sees them.
// Refusals are RESOURCE_EXHAUSTED with a google.rpc.QuotaFailure detail
// naming the limit and, when waiting helps, a google.rpc.RetryInfo detail and
// a Retry-After header.

import { Code, ConnectError } from "@connectrpc/connect";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { LimitExceededSchema as OldLimitExceededSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { QuotaFailureSchema, RetryInfoSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";

/** At most `points` in any window of `seconds` (fixed windows per key, from its first use). */
export interface Rate {
  points: number;
  seconds: number;
}

/** Every limit of the pool; `undefined` turns one off. */
export interface LimitConfig {
  /** Claims by one requester (claims service). */
  claimsPerCaller?: Rate;
  /** Claims from one client address (gateway). */
  claimsPerAddress?: Rate;
  /** Sign-ins of one inbox (gateway). */
  signInsPerInbox?: Rate;
  /** Sign-ins from one client address (gateway). */
  signInsPerAddress?: Rate;
  /** Template changes by one creator (templates service). */
  templateWritesPerCaller?: Rate;
  /** Template changes from one client address (gateway). */
  templateWritesPerAddress?: Rate;
  /** Creates and publishes by one creator (templates service): what reaches the store. */
  templatePublishesPerCaller?: Rate;
  /** Answers of the studio's test chat, every creator together (claims service): each is a call of the pool's model. */
  testChatAnswersPerPool?: Rate;
  /** Live agents (claimed, being claimed or crashed) one owner may hold (claims service). */
  liveAgentsPerOwner?: number;
  /** Pool-provisioned tools (numbers, mailboxes, wallets) one owner's agents may hold (claims service). */
  poolToolsPerOwner?: number;
  /** Conversations one agent is in or joining, its home included (claims service, AddToConversation). */
  conversationsPerAgent?: number;
  /** Connections (HTTP/1.1, or HTTP/2 sessions) one client address may hold open on a server (server kit). */
  connectionsPerAddress?: number;
  /** Connections one server holds open in all (server kit). */
  connectionsTotal?: number;
  /** Seconds from a connection's accept until its first request has arrived (server kit): absolute, not per byte. */
  firstRequestSeconds?: number;
  /** Seconds an HTTP/2 session may stay open without a stream before it is closed (server kit). */
  http2IdleSeconds?: number;
}

/** The names of POOL_LIMITS entries, and the defaults. */
const ENTRIES = {
  "claims.caller": ["claimsPerCaller", "10/60s"],
  "claims.address": ["claimsPerAddress", "30/60s"],
  "signins.inbox": ["signInsPerInbox", "10/60s"],
  "signins.address": ["signInsPerAddress", "30/60s"],
  "template-writes.caller": ["templateWritesPerCaller", "60/60s"],
  "template-writes.address": ["templateWritesPerAddress", "120/60s"],
  "template-publishes.caller": ["templatePublishesPerCaller", "20/3600s"],
  "test-chat.pool": ["testChatAnswersPerPool", "300/600s"],
  "agents.owner": ["liveAgentsPerOwner", "20"],
  "tools.owner": ["poolToolsPerOwner", "20"],
  "agents.conversations": ["conversationsPerAgent", "10"],
  "connections.address": ["connectionsPerAddress", "256"],
  "connections.total": ["connectionsTotal", "4096"],
  "connections.first-request": ["firstRequestSeconds", "10s"],
  "connections.http2-idle": ["http2IdleSeconds", "60s"],
} as const satisfies Record<string, readonly [keyof LimitConfig, string]>;

type EntryName = keyof typeof ENTRIES;
const CAPS = new Set<keyof LimitConfig>([
  "liveAgentsPerOwner",
  "poolToolsPerOwner",
  "conversationsPerAgent",
  "connectionsPerAddress",
  "connectionsTotal",
]);
const DURATIONS = new Set<keyof LimitConfig>(["firstRequestSeconds", "http2IdleSeconds"]);

function parseValue(name: string, key: keyof LimitConfig, text: string): Rate | number | undefined {
  if (text === "off") return undefined;
  if (CAPS.has(key)) {
    if (!/^[1-9][0-9]{0,6}$/.test(text))
      throw new Error(`POOL_LIMITS ${name}: a cap is a whole number from 1, or "off"`);
    return Number(text);
  }
  if (DURATIONS.has(key)) {
    if (!/^[1-9][0-9]{0,5}s$/.test(text))
      throw new Error(`POOL_LIMITS ${name}: a duration is <seconds>s such as 10s, or "off"`);
    return Number(text.slice(0, -1));
  }
  const m = /^([1-9][0-9]{0,6})\/([1-9][0-9]{0,6})s$/.exec(text);
  if (!m) throw new Error(`POOL_LIMITS ${name}: a rate is <points>/<seconds>s such as 10/60s, or "off"`);
  return { points: Number(m[1]), seconds: Number(m[2]) };
}

/**
 * The defaults with the entries of `text` applied: a comma-separated list of
 * `name=value`, for example `claims.caller=5/60s,agents.owner=off`. Throws
 * naming the entry that is wrong.
 */
export function parseLimits(text = ""): LimitConfig {
  const out: Record<string, Rate | number | undefined> = {};
  for (const [name, [key, value]] of Object.entries(ENTRIES)) out[key] = parseValue(name, key, value);
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    const entry = ENTRIES[name as EntryName];
    if (!entry || eq < 0)
      throw new Error(`POOL_LIMITS: "${part}" is not <name>=<value>, name one of ${Object.keys(ENTRIES).join(", ")}`);
    out[entry[0]] = parseValue(name, entry[0], part.slice(eq + 1).trim());
  }
  return out;
}

/** The pool's limits: the defaults, with POOL_LIMITS applied. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): LimitConfig {
  return parseLimits(env.POOL_LIMITS ?? "");
}

/** Every limit off: for tests and benchmarks that measure something else. */
export const NO_LIMITS: LimitConfig = {};

/** The defaults (docs/limits.md). */
export const DEFAULT_LIMITS: LimitConfig = parseLimits();

/**
 * RESOURCE_EXHAUSTED naming the limit: a QuotaFailure whose violation's
 * quota_id is the limit (its description the message), and when waiting
 * helps, a RetryInfo with the delay and a Retry-After header in seconds.
 */
export function limitExceeded(limit: string, message: string, retryAfterSeconds = 0): ConnectError {
  const seconds = Math.max(0, Math.ceil(retryAfterSeconds));
  const quota = { desc: QuotaFailureSchema, value: { violations: [{ quotaId: limit, description: message }] } };
  if (seconds === 0) return new ConnectError(message, Code.ResourceExhausted, undefined, [quota]);
  return new ConnectError(message, Code.ResourceExhausted, { "retry-after": String(seconds) }, [
    quota,
    { desc: RetryInfoSchema, value: { retryDelay: { seconds: BigInt(seconds) } } },
  ]);
}

/**
 * The limit an error (any protocol) names, if it has one: its QuotaFailure
 * and RetryInfo (0 without), else the LimitExceeded of a server a release
 * older.
 */
export function limitExceededOf(err: unknown): { limit: string; retryAfterSeconds: number } | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  const quota = err.findDetails(QuotaFailureSchema)[0]?.violations[0];
  if (quota) {
    const delay = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
    const seconds = delay ? Math.ceil(Number(delay.seconds) + delay.nanos / 1e9) : 0;
    return { limit: quota.quotaId, retryAfterSeconds: seconds };
  }
  const old = err.findDetails(OldLimitExceededSchema)[0];
  return old && { limit: old.limit, retryAfterSeconds: Number(old.retryAfterSeconds) };
}

/** Where rate counters live. */
export interface RateStore {
  /** A limiter of `rate` whose keys are counted under `prefix` (one prefix per limit). */
  limiter(prefix: string, rate: Rate): RateLimiterAbstract;
}

/**
 * Counters in this process's memory: each process counts alone, so N
 * replicas would allow N times the rate. For tests of a limit's policy only;
 * every service that limits a rate has a database and counts there
 * (`postgresRates` of `@convos-pool/kit/service`, docs/limits.md).
 */
export const memoryRates: RateStore = {
  limiter: (prefix, rate) => new RateLimiterMemory({ keyPrefix: prefix, points: rate.points, duration: rate.seconds }),
};

/** One rate limit, counted in `store`. Off when `rate` is undefined. */
export class RateLimit {
  private readonly limiter: RateLimiterAbstract | undefined;

  /** `name` is what a refused client is told, for example "claims per caller"; it also names the counters. */
  constructor(
    readonly name: string,
    private readonly rate: Rate | undefined,
    store: RateStore,
  ) {
    this.limiter = rate && store.limiter(name, rate);
  }

  /**
   * Takes one request from `key`'s allowance; RESOURCE_EXHAUSTED with
   * Retry-After once it is spent. A store that cannot be reached refuses
   * too (its error, UNAVAILABLE for a database away): a limit that cannot
   * be counted does not let requests through uncounted.
   */
  async take(key: string, who = "you"): Promise<void> {
    if (!this.limiter || !this.rate) return;
    try {
      await this.limiter.consume(key);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const retry = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw limitExceeded(
        this.name,
        `too many requests: ${this.name} is ${this.rate.points} per ${this.rate.seconds} s, and ${who} reached it; try again in ${retry} s`,
        retry,
      );
    }
  }

  /**
   * Gives back one request taken from `key`'s allowance: for a request that
   * a limit checked after this one refused, so that it is not counted here
   * for work that was never done.
   */
  async giveBack(key: string): Promise<void> {
    if (!this.limiter) return;
    await this.limiter.reward(key, 1);
  }
}
