// What one connection may hold of a server (docs/server-kit.md, "Connections"):
// caps on the connections one client address and everyone together hold
// open, an absolute deadline for a connection's first request (counted from
// its accept, not restarted by each byte: a client sending one byte at a
// time is cut like one sending none), and an idle timeout for HTTP/2
// sessions without a stream. An HTTP/2 session is one connection, so the
// caps count sessions and HTTP/1.1 connections alike.

import type * as http2 from "node:http2";
import { isIPv4, isIPv6, type Socket } from "node:net";
import type { LimitConfig } from "./limits.js";

export interface ConnectionLimits {
  /** Connections one client address may hold open; undefined: no cap. */
  perAddress?: number | undefined;
  /** Connections the server holds open in all; undefined: no cap. */
  total?: number | undefined;
  /** From accept until the first request (HTTP/1.1 head, or HTTP/2 stream) arrived; undefined: no deadline. */
  firstRequestMs?: number | undefined;
  /** An HTTP/2 session with no open stream for this long is closed (GOAWAY); undefined: never. */
  http2IdleMs?: number | undefined;
  /**
   * Addresses not capped per address: proxies or load balancers in front of
   * the server, whose connections carry many clients (the total still counts them).
   */
  exempt?: readonly string[] | undefined;
}

/** The connection entries of a LimitConfig (POOL_LIMITS `connections.*`). */
export function connectionLimitsOf(limits: LimitConfig, exempt: readonly string[] = []): ConnectionLimits {
  return {
    perAddress: limits.connectionsPerAddress,
    total: limits.connectionsTotal,
    firstRequestMs: limits.firstRequestSeconds && limits.firstRequestSeconds * 1000,
    http2IdleMs: limits.http2IdleSeconds && limits.http2IdleSeconds * 1000,
    exempt,
  };
}

/** Why a connection was refused or cut: the label of `pool_connections_cut_total`. */
export type CutReason = "address_cap" | "total_cap" | "first_request" | "http2_idle";

/**
 * Whether one more connection from `address` may open, given what is open:
 * the total first (a full server refuses everyone), then the address's own
 * share, unless the address is exempt.
 */
export function admission(
  limits: ConnectionLimits,
  open: { total: number; fromAddress: number },
  exempt: boolean,
): "ok" | "total_cap" | "address_cap" {
  if (limits.total !== undefined && open.total >= limits.total) return "total_cap";
  if (!exempt && limits.perAddress !== undefined && open.fromAddress >= limits.perAddress) return "address_cap";
  return "ok";
}

/** An address as one allowance: IPv4-mapped IPv6 as IPv4, other IPv6 by its /64, anything else as it is. */
export function addressKey(address: string): string {
  const bare = address.replace(/%.*/s, "").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped?.[1]) return mapped[1];
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  return `${expandIPv6(bare).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in hex without leading zeros. */
function expandIPv6(address: string): string[] {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}

/** Set on the socket that requests and sessions see (the TLS socket with TLS): its first request disarms the deadline. */
const FIRST_REQUEST = Symbol("pool.firstRequest");
type Guarded = { [FIRST_REQUEST]?: () => void };

/** Counts a server's connections and applies its ConnectionLimits. */
export class ConnectionGate {
  private total = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly exempt: ReadonlySet<string>;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly onCut: (reason: CutReason, address: string) => void = () => {},
  ) {
    this.exempt = new Set((limits.exempt ?? []).map(addressKey));
  }

  /** Connections open now. */
  get open(): number {
    return this.total;
  }

  /**
   * A connection just accepted: counted until it closes, with its
   * first-request deadline armed; or destroyed at once when a cap is
   * reached (false). With TLS, `carry` hands the deadline to the TLS
   * socket that its requests will name.
   */
  admit(socket: Socket): boolean {
    const address = addressKey(socket.remoteAddress ?? "unknown");
    const verdict = admission(
      this.limits,
      { total: this.total, fromAddress: this.byAddress.get(address) ?? 0 },
      this.exempt.has(address),
    );
    if (verdict !== "ok") {
      this.onCut(verdict, address);
      socket.destroy();
      return false;
    }
    this.total++;
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    socket.once("close", () => {
      this.total--;
      const left = (this.byAddress.get(address) ?? 1) - 1;
      if (left > 0) this.byAddress.set(address, left);
      else this.byAddress.delete(address);
    });
    const ms = this.limits.firstRequestMs;
    if (ms !== undefined) {
      const timer = setTimeout(() => {
        this.onCut("first_request", address);
        socket.destroy();
      }, ms);
      timer.unref();
      socket.once("close", () => clearTimeout(timer));
      (socket as Guarded)[FIRST_REQUEST] = () => clearTimeout(timer);
    }
    return true;
  }

  /** With TLS: the TLS socket `seen` answers for the accepted `raw` one. */
  carry(raw: Socket, seen: Socket): void {
    const disarm = (raw as Guarded)[FIRST_REQUEST];
    if (disarm) (seen as Guarded)[FIRST_REQUEST] = disarm;
  }

  /** A request arrived on `socket` (HTTP/1.1): its connection met the deadline. */
  requestArrived(socket: unknown): void {
    (socket as Guarded | undefined)?.[FIRST_REQUEST]?.();
  }

  /**
   * An HTTP/2 session: its first stream meets the connection's deadline, and
   * once it has had no open stream for `http2IdleMs` it is closed (GOAWAY;
   * a client opens a new one when it needs it). Counting streams, not bytes,
   * a client cannot keep an empty session alive with PINGs.
   */
  watch(session: http2.ServerHttp2Session): void {
    const idleMs = this.limits.http2IdleMs;
    let streams = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (idleMs === undefined) return;
      timer = setTimeout(() => {
        this.onCut("http2_idle", addressKey(session.socket?.remoteAddress ?? "unknown"));
        session.close();
        // A peer that never acknowledges is cut shortly after.
        setTimeout(() => session.destroy(), 1_000).unref();
      }, idleMs);
      timer.unref();
    };
    session.on("stream", (stream) => {
      this.requestArrived(session.socket);
      streams++;
      clearTimeout(timer);
      stream.once("close", () => {
        if (--streams === 0 && !session.closed && !session.destroyed) arm();
      });
    });
    session.once("close", () => clearTimeout(timer));
    arm();
  }
}
