// Client-side throttling of a kit service client (Google's SRE book,
// "Handling Overload": adaptive throttling). A server refusing most of what
// it is sent still spends CPU on each refusal; past a few times its
// capacity the refusals alone take what its admitted calls need. So each
// client counts, over the last `windowMs`, the calls it meant to make
// (`requests`) and those the server took (`accepts`: any answer but the
// admission's refusal or a deadline passed), and refuses a call itself, at no cost to the
// server, with probability (requests - k·accepts) / (requests + 1). While
// the server takes everything, that is 0; when it takes a third of what is
// offered, the client sends about k times what is taken. Its refusal has
// the server's shape (RESOURCE_EXHAUSTED, `server concurrency`, RetryInfo),
// so a caller backs off from either alike. Each criticality is counted
// apart, as the book does: a server that refuses sheddable calls (it keeps
// a share of its limit from them) would take a critical one, and the
// client must not refuse that one for the others' refusals. The policy is
// pure but for the given clock and random numbers; `throttled` puts it on a
// transport, judging each call at the criticality the server will.

import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { limitExceededOf } from "../limits.js";
import { CRITICALITIES, CRITICALITY_HEADER, type Criticality, criticalityOf } from "./criticality.js";
import { ADMISSION_LIMIT, overloaded } from "./interceptor.js";

export interface ThrottleOptions {
  /**
   * How much more than the server takes the client still sends (the book's
   * K). Lower sends fewer refusals, but after an overload the client's
   * sending grows back by only about K times a second: at 1.25, bench:claims'
   * open loop at 200/s was still refused by its own client 20 s after a
   * passing blip (2,843 of 4,000 claims).
   */
  k: number;
  /** The window counted, in ms, in `buckets` buckets. */
  windowMs: number;
  buckets: number;
  /**
   * Calls of a criticality counted in the window before the client refuses
   * any of it: by the formula alone one slow call of a rare kind (a listing
   * past its deadline on a busy machine) refuses the next with probability
   * 1/2, a refusal that says nothing of the server's load.
   */
  minRequests: number;
}

export const THROTTLE_DEFAULTS: ThrottleOptions = { k: 2, windowMs: 10_000, buckets: 10, minRequests: 10 };

export class ClientThrottle {
  private readonly o: ThrottleOptions;
  /** Requests and accepts per bucket, for each criticality apart (the SRE book keeps them so). */
  private readonly counts: Record<Criticality, { requests: number[]; accepts: number[] }>;
  /** The bucket index of the last count, on the clock's time / bucket length. */
  private at = 0;

  constructor(
    private readonly now: () => number,
    private readonly random: () => number = Math.random,
    options: Partial<ThrottleOptions> = {},
  ) {
    this.o = { ...THROTTLE_DEFAULTS, ...options };
    const empty = () => ({
      requests: new Array<number>(this.o.buckets).fill(0),
      accepts: new Array<number>(this.o.buckets).fill(0),
    });
    this.counts = { critical: empty(), default: empty(), sheddable: empty() };
  }

  /** The probability a default call is refused here now. */
  get rejectProbability(): number {
    return this.rejectProbabilityOf("default");
  }

  /** The probability a call of `criticality` is refused here now: from that criticality's counts alone. */
  rejectProbabilityOf(criticality: Criticality): number {
    this.roll();
    const { requests, accepts } = this.counts[criticality];
    const asked = sum(requests);
    if (asked < this.o.minRequests) return 0;
    return Math.max(0, (asked - this.o.k * sum(accepts)) / (asked + 1));
  }

  /** A call is about to be made: true to send it, false to refuse it here (then counted as a request not taken). */
  allow(criticality: Criticality = "default"): boolean {
    if (!(this.random() < this.rejectProbabilityOf(criticality))) return true;
    this.count(false, criticality);
    return false;
  }

  /**
   * A call sent has its outcome: `taken` unless the admission refused it or
   * its deadline passed first. Counted when it settles, not when sent: calls
   * still in flight are no sign that the server refuses.
   */
  settled(taken: boolean, criticality: Criticality = "default"): void {
    this.count(taken, criticality);
  }

  private count(taken: boolean, criticality: Criticality): void {
    this.roll();
    const b = this.at % this.o.buckets;
    const { requests, accepts } = this.counts[criticality];
    requests[b] = (requests[b] ?? 0) + 1;
    if (taken) accepts[b] = (accepts[b] ?? 0) + 1;
  }

  /** Empties the buckets the clock has moved past. */
  private roll(): void {
    const now = Math.floor(this.now() / (this.o.windowMs / this.o.buckets));
    for (let i = 0; i < Math.min(now - this.at, this.o.buckets); i++) {
      const b = (this.at + 1 + i) % this.o.buckets;
      for (const c of CRITICALITIES) {
        this.counts[c].requests[b] = 0;
        this.counts[c].accepts[b] = 0;
      }
    }
    this.at = Math.max(this.at, now);
  }
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/**
 * True for what says the server did not take the call: the admission's
 * refusal (not a rate limit of one caller's, which says nothing of the
 * server's load), or a deadline that passed before its answer (a server too
 * busy to reach its admission in time).
 */
function notTaken(err: unknown): boolean {
  if (!(err instanceof ConnectError)) return false;
  if (err.code === Code.DeadlineExceeded) return true;
  return err.code === Code.ResourceExhausted && limitExceededOf(err)?.limit === ADMISSION_LIMIT;
}

/**
 * The criticality the server will judge a call at: its method's, lowered by
 * the `pool-criticality` it carries (the caller's, deadline.ts); undefined
 * for health and reflection, which no admission refuses.
 */
function criticalityOfCall(
  method: Parameters<Transport["unary"]>[0],
  header: Parameters<Transport["unary"]>[3],
): Criticality | undefined {
  const asked = new Headers(header as ConstructorParameters<typeof Headers>[0]).get(CRITICALITY_HEADER);
  const c = criticalityOf(method.parent.typeName, method.name, asked);
  return c === "exempt" ? undefined : c;
}

/**
 * A transport whose unary calls go through `throttle`: refused here when it
 * says so, counted when answered, each at its own criticality.
 */
export function throttled(transport: Transport, throttle: ClientThrottle): Transport {
  return {
    async unary(method, signal, timeoutMs, header, message, contextValues) {
      const criticality = criticalityOfCall(method, header);
      if (criticality === undefined) return transport.unary(method, signal, timeoutMs, header, message, contextValues);
      if (!throttle.allow(criticality))
        throw overloaded(`${method.parent.name} (refused by this client's throttle)`, 1000);
      try {
        const res = await transport.unary(method, signal, timeoutMs, header, message, contextValues);
        throttle.settled(true, criticality);
        return res;
      } catch (err) {
        throttle.settled(!notTaken(err), criticality);
        throw err;
      }
    },
    stream: (...args) => transport.stream(...args),
  };
}
