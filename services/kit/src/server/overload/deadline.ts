// A call's deadline and criticality, end to end (docs/server-kit.md,
// "Overload"). The caller's timeout header (Connect's `connect-timeout-ms`,
// gRPC's `grpc-timeout`) becomes a deadline on this process's clock when the
// call arrives; while its handler runs, every call it makes through a kit
// service client carries what is left of it (`withCallerDeadline`), and one
// made after it has passed is not sent. Each such call carries the
// criticality the call was admitted at too (`pool-criticality`), so a
// handler that makes two RPCs has both judged downstream as its request was
// (the header lowers an RPC's own criticality there, never raises it). A
// call that arrived without a deadline passes none on: nothing is made up.
// Work done for many calls at once (a batch) or after a failure (a rollback)
// runs `withoutDeadline`: it is not any one caller's, and undoing must not
// be cut short nor shed.

import { AsyncLocalStorage } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { CRITICALITIES, CRITICALITY_HEADER, type Criticality } from "./criticality.js";

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

/** What a call passes on to the calls its handler makes. */
export interface CallContext {
  /** On the clock `now`; undefined: none. */
  deadline?: number | undefined;
  /** What the call was admitted at; undefined: not judged (exempt, or no admission). */
  criticality?: Criticality | undefined;
}

const current = new AsyncLocalStorage<
  | { deadline: number | undefined; criticality: Criticality | undefined; now: () => number; answered: boolean }
  | undefined
>();

/**
 * Runs `fn` as the work of a call whose deadline is `deadline` on the clock
 * `now` (deadlineClock by default), until `fn` returns or settles. A timer
 * set meanwhile keeps this context for good (a batch scheduled by the first
 * call that marks it: a state to send, a count to report); once the call is
 * answered, what it left behind is no caller's work and carries no deadline,
 * or it would fail on a deadline long past at every later try.
 */
export function runWithDeadline<T>(deadline: number, fn: () => T, now: () => number = deadlineClock): T {
  return runAsCall({ deadline }, fn, now);
}

/** As runWithDeadline, for a call's whole context: its deadline if it has one, and its criticality. */
export function runAsCall<T>(context: CallContext, fn: () => T, now: () => number = deadlineClock): T {
  const call = { deadline: context.deadline, criticality: context.criticality, now, answered: false };
  const answered = () => {
    call.answered = true;
  };
  const out = current.run(call, fn);
  if (out instanceof Promise) out.then(answered, answered);
  else answered();
  return out;
}

/** Runs `fn` as no caller's work: the calls it makes carry no deadline nor criticality of a caller's. */
export function withoutDeadline<T>(fn: () => T): T {
  return current.run(undefined, fn);
}

/** What is left of the present call's deadline in ms (negative once passed); undefined outside one or without one. */
export function remainingMs(): number | undefined {
  const store = current.getStore();
  return store && !store.answered && store.deadline !== undefined ? store.deadline - store.now() : undefined;
}

/** The criticality the present call was admitted at; undefined outside one, or once it has answered. */
export function callCriticality(): Criticality | undefined {
  const store = current.getStore();
  return store && !store.answered ? store.criticality : undefined;
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

/** The headers a transport's call is given. */
export type OutgoingHeader = Parameters<Transport["unary"]>[3];

/**
 * The headers an outgoing call takes: its own, with the caller's
 * criticality, or the call's own `pool-criticality` when that is lower (a
 * handler may lower what it asks for, never raise it past its caller's).
 */
export function outgoingHeader(own: OutgoingHeader, criticality: Criticality | undefined): OutgoingHeader {
  if (criticality === undefined) return own;
  const header = new Headers(own as ConstructorParameters<typeof Headers>[0]);
  const asked = CRITICALITIES.indexOf(header.get(CRITICALITY_HEADER)?.trim().toLowerCase() as Criticality);
  if (asked < CRITICALITIES.indexOf(criticality)) header.set(CRITICALITY_HEADER, criticality);
  return header;
}

/** A transport whose every call carries what is left of the caller's deadline, and the caller's criticality. */
export function withCallerDeadline(transport: Transport): Transport {
  return {
    unary: async (method, signal, timeoutMs, header, message, contextValues) =>
      transport.unary(
        method,
        signal,
        outgoingTimeout(timeoutMs, remainingMs(), `${method.parent.name}/${method.name}`),
        outgoingHeader(header, callCriticality()),
        message,
        contextValues,
      ),
    stream: async (method, signal, timeoutMs, header, input, contextValues) =>
      transport.stream(
        method,
        signal,
        outgoingTimeout(timeoutMs, remainingMs(), `${method.parent.name}/${method.name}`),
        outgoingHeader(header, callCriticality()),
        input,
        contextValues,
      ),
  };
}
