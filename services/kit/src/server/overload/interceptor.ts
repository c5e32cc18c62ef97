// The server's admission (docs/server-kit.md, "Overload"): each unary call
// is let in, made to wait a bounded time, or refused at once, from its path
// and headers alone. The server's request handler asks first, before Connect
// reads the call (entry.ts), so a refusal costs neither the call's parse nor
// a database query; the interceptor then runs the call in the slot the entry
// took, to the deadline it read. A call that came another way (an in-memory
// router, a body the entry leaves to Connect) is admitted by the interceptor
// itself: one admission a call either way. A call whose deadline has passed
// is not started (DEADLINE_EXCEEDED); a call let in runs with its deadline and
// its criticality in reach of the service clients it uses (deadline.ts). Streams (health
// watches, batch answers) hold no slot: they are long by nature, and their
// latency would teach the limit nothing.

import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { limitExceeded } from "../limits.js";
import type { Metrics } from "../metrics.js";
import { Admission, type AdmissionOptions, type Clock, type Refusal, type Ticket } from "./admission.js";
import { CRITICALITIES, CRITICALITY_HEADER, criticalityOf } from "./criticality.js";
import type { Criticality } from "./criticality.js";
import { deadlineClock, deadlinePassed, type HeaderReader, runAsCall, timeoutOf } from "./deadline.js";

/** The limit's name in a refusal's QuotaFailure: what a client's back-off reads. */
export const ADMISSION_LIMIT = "server concurrency";

/** The process's clock and timers. */
export const processClock: Clock = {
  now: deadlineClock,
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

/** A refusal of an overloaded server: RESOURCE_EXHAUSTED with RetryInfo (whole seconds, at least 1) and Retry-After. */
export function overloaded(service: string, retryAfterMs: number): ReturnType<typeof limitExceeded> {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return limitExceeded(ADMISSION_LIMIT, `${service} is busy; try again in ${seconds} s`, seconds);
}

/** A call let in: its slot, its deadline on the gate's clock (undefined: none), and the criticality it was let in at. */
export interface Admitted {
  readonly ticket: Ticket;
  readonly deadline: number | undefined;
  readonly criticality: Criticality;
}

export type Verdict =
  | { readonly kind: "exempt" }
  | { readonly kind: "start"; readonly admitted: Admitted }
  | { readonly kind: "refuse"; readonly error: ConnectError };

/** The slot the server's entry took for a call before Connect read it (entry.ts): the interceptor takes no other. */
export const admittedAtEntry = createContextKey<Admitted | undefined>(undefined, {
  description: "the call's slot, taken at the server's entry",
});

export interface AdmissionGate {
  admission: Admission;
  /**
   * The verdict on a unary call from its service's full name, its method and
   * its headers alone (criticality, timeout); counted in the metrics. A
   * verdict at once when there is one, else a promise of it.
   */
  decide(service: string, method: string, header: HeaderReader): Verdict | Promise<Verdict>;
  interceptor: Interceptor;
}

const EXEMPT: Verdict = { kind: "exempt" };

/** An admission and its interceptor, its figures registered in `metrics` when given. */
export function admissionGate(
  name: string,
  options: Partial<AdmissionOptions> = {},
  metrics?: Metrics,
  clock: Clock = processClock,
): AdmissionGate {
  const admission = new Admission(clock, options);
  const refused = metrics?.counter(
    "pool_admission_refused_total",
    "Calls refused at the server's entry, by criticality and reason (overloaded: RESOURCE_EXHAUSTED; deadline: it had passed, DEADLINE_EXCEEDED).",
    ["criticality", "reason"],
  );
  const waited = metrics?.histogram(
    "pool_admission_queue_seconds",
    "How long calls waited for a slot at the server's entry (0 for most), by criticality and outcome (started or refused).",
    ["criticality", "outcome"],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  );
  metrics?.gauge(
    "pool_admission_limit",
    "Calls the server lets run at once now, as learned from their latency.",
    [],
    async (set) => set({}, admission.limit.limit),
  );
  metrics?.gauge("pool_admission_in_flight", "Calls running now past the server's entry.", [], async (set) =>
    set({}, admission.inFlight),
  );
  metrics?.gauge(
    "pool_admission_waiting",
    "Calls waiting for a slot now, by criticality.",
    ["criticality"],
    async (set) => {
      for (const criticality of CRITICALITIES) set({ criticality }, admission.waiting(criticality));
    },
  );
  metrics?.gauge(
    "pool_admission_latency_seconds",
    "The latency the limit is learned from: the last window's mean, and the long-run mean.",
    ["window"],
    async (set) => {
      set({ window: "last" }, admission.limit.latencyMs / 1000);
      set({ window: "long" }, admission.limit.longLatencyMs / 1000);
    },
  );

  function decide(service: string, method: string, header: HeaderReader): Verdict | Promise<Verdict> {
    const criticality = criticalityOf(service, method, header.get(CRITICALITY_HEADER));
    if (criticality === "exempt") return EXEMPT;
    const timeout = timeoutOf(header);
    const deadline = timeout === undefined ? undefined : clock.now() + timeout;
    const judged = (verdict: Ticket | Refusal): Verdict => {
      waited?.observe(
        { criticality, outcome: verdict.kind === "start" ? "started" : "refused" },
        verdict.waitedMs / 1000,
      );
      if (verdict.kind === "start") return { kind: "start", admitted: { ticket: verdict, deadline, criticality } };
      refused?.inc({ criticality, reason: verdict.reason });
      const what = `${service.slice(service.lastIndexOf(".") + 1)}/${method}`;
      const error = verdict.reason === "deadline" ? deadlinePassed(what) : overloaded(name, verdict.retryAfterMs);
      return { kind: "refuse", error };
    };
    const entered = admission.enter(criticality, deadline);
    return entered instanceof Promise ? entered.then(judged) : judged(entered);
  }

  const interceptor: Interceptor = (next) => async (req) => {
    const what = `${req.service.name}/${req.method.name}`;
    let admitted = req.contextValues.get(admittedAtEntry);
    if (!admitted && req.method.methodKind !== "unary") {
      const criticality = criticalityOf(req.service.typeName, req.method.name, req.header.get(CRITICALITY_HEADER));
      if (criticality === "exempt") return next(req);
      const timeout = timeoutOf(req.header);
      if (timeout !== undefined && timeout <= 0) {
        refused?.inc({ criticality, reason: "deadline" });
        throw deadlinePassed(what);
      }
      const deadline = timeout === undefined ? undefined : clock.now() + timeout;
      return runAsCall(
        { deadline, criticality },
        () => next(req),
        () => clock.now(),
      );
    }
    if (!admitted) {
      const verdict = await decide(req.service.typeName, req.method.name, req.header);
      if (verdict.kind === "exempt") return next(req);
      if (verdict.kind === "refuse") throw verdict.error;
      admitted = verdict.admitted;
    }
    const { deadline, ticket, criticality } = admitted;
    try {
      return await runAsCall(
        { deadline, criticality },
        () => next(req),
        () => clock.now(),
      );
    } catch (err) {
      // Work cut by the deadline (a statement cancelled by its statement_timeout) is the deadline's, not a fault.
      if (deadline !== undefined && clock.now() >= deadline && !(err instanceof ConnectError))
        throw new ConnectError(
          `${what}: the deadline passed while it was at work`,
          Code.DeadlineExceeded,
          undefined,
          undefined,
          err,
        );
      throw err;
    } finally {
      ticket.done();
    }
  };
  return { admission, decide, interceptor };
}
