// A call's deadline, end to end (docs/server-kit.md, "Deadlines"). The
// caller's timeout header (Connect's `connect-timeout-ms`, gRPC's
// `grpc-timeout`) becomes a deadline on this process's clock when the call
// arrives; while its handler runs, every call it makes through a kit service
// client carries what is left of it (`withCallerDeadline`), and one made
// after it has passed is not sent. A call that arrived without a deadline
// passes none on: nothing is made up. Work done for many calls at once (a
// batch) or after a failure (a rollback) runs `withoutDeadline`: it is not
// any one caller's, and undoing must not be cut short.

import { AsyncLocalStorage } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";

const GRPC_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 };

/** What a call's headers are read through: fetch's Headers, or a Node request's (entry.ts). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** The caller's timeout in ms from its headers, if it gave one (malformed: none; Connect refuses it). */
export function timeoutOf(header: HeaderReader): number | undefined {
  const connect = header.get("connect-timeout-ms");
  if (connect !== null && /^\d{1,10}$/.test(connect)) return Number(connect);
  const grpc = /^(\d{1,8})([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  const unit = GRPC_UNITS[grpc?.[2] ?? ""];
  return grpc && unit !== undefined ? Number(grpc[1]) * unit : undefined;
}

/** This process's clock for deadlines (monotonic, ms). */
export const deadlineClock = (): number => performance.now();

const current = new AsyncLocalStorage<{ deadline: number; now: () => number; answered: boolean } | undefined>();

/**
 * Runs `fn` as the work of a call whose deadline is `deadline` on the clock
 * `now` (deadlineClock by default), until `fn` returns or settles. A timer
 * set meanwhile keeps this context for good (a batch scheduled by the first
 * call that marks it: a state to send, a count to report); once the call is
 * answered, what it left behind is no caller's work and carries no deadline,
 * or it would fail on a deadline long past at every later try.
 */
export function runWithDeadline<T>(deadline: number, fn: () => T, now: () => number = deadlineClock): T {
  const call = { deadline, now, answered: false };
  const answered = () => {
    call.answered = true;
  };
  const out = current.run(call, fn);
  if (out instanceof Promise) out.then(answered, answered);
  else answered();
  return out;
}

/** Runs `fn` as no caller's work: the calls it makes carry no deadline of a caller's. */
export function withoutDeadline<T>(fn: () => T): T {
  return current.run(undefined, fn);
}

/** What is left of the present call's deadline in ms (negative once passed); undefined outside one or without one. */
export function remainingMs(): number | undefined {
  const store = current.getStore();
  return store && !store.answered ? store.deadline - store.now() : undefined;
}

/** DEADLINE_EXCEEDED for work not started because its caller's deadline passed. */
export function deadlinePassed(what: string): ConnectError {
  return new ConnectError(`${what}: the caller's deadline has passed; not started`, Code.DeadlineExceeded);
}

/**
 * The timeout an outgoing call takes: its own, cut to what is left of the
 * caller's; undefined leaves the transport's (`timeoutMs` <= 0 is none).
 * Throws DEADLINE_EXCEEDED when the caller's deadline has passed.
 */
export function outgoingTimeout(own: number | undefined, left: number | undefined, what: string): number | undefined {
  if (left === undefined) return own;
  if (left < 1) throw deadlinePassed(what);
  const leftMs = Math.floor(left);
  return own === undefined || own <= 0 ? leftMs : Math.min(own, leftMs);
}

/** A transport whose every call carries what is left of the caller's deadline. */
export function withCallerDeadline(transport: Transport): Transport {
  return {
    unary: async (method, signal, timeoutMs, header, message, contextValues) =>
      transport.unary(
        method,
        signal,
        outgoingTimeout(timeoutMs, remainingMs(), `${method.parent.name}/${method.name}`),
        header,
        message,
        contextValues,
      ),
    stream: async (method, signal, timeoutMs, header, input, contextValues) =>
      transport.stream(
        method,
        signal,
        outgoingTimeout(timeoutMs, remainingMs(), `${method.parent.name}/${method.name}`),
        header,
        input,
        contextValues,
      ),
  };
}
