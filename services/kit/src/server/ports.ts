import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";

/**
 * A port for a server that listens later, held for this process: for two
 * services that must know each other's address before either starts
 * (templates push to claims, claims read templates), for an OpenClaw gateway
 * (its port is in its config before its process starts), and for tests that
 * start a process on a port they name.
 *
 * Chosen below the range the kernel hands to outgoing connections, so that
 * no client socket takes it before its server binds it (with port 0 the
 * kernel picks from that very range, and under a busy test run a connection
 * did). Between the choice and the listen, nobody else who asks here gets
 * it: the port is held by a unix socket of the abstract namespace
 * (`HOLD_PREFIX` and the port), which only one socket of the machine's
 * network namespace can bind, and which the kernel lets go when its process
 * ends however it ends (SIGKILL too). The test harness's freePort
 * (`services/testing/src/ports.ts`) holds ports the same way, so the two
 * keep clear of each other. What it cannot hold off is a program that
 * binds a port of this range without asking here.
 */
export interface PortReservation {
  /** The first port; `span` ports from it are held. */
  port: number;
  /** Lets the ports go (once their server listens, or is gone for good); a second call does nothing. */
  release(): void;
}

/**
 * Ports of the range that fetch refuses to connect to: the Fetch standard's
 * "bad ports" from 10000 up, which is 10080 alone. Node's fetch (viem's
 * JSON-RPC, the tests' health checks) fails there at once with "bad port",
 * and browsers too, so a server given one listens and seems never to answer
 * (an anvil on 10080 in CI, 2026-11). The test harness keeps the same list.
 */
export const FETCH_BAD_PORTS: readonly number[] = [10_080];

/** The name of a port's hold in the abstract namespace (Linux); the test harness uses the same. */
const HOLD_PREFIX = "convos-pool-port-";

/**
 * `span` consecutive ports nobody listens on and nobody else holds, held
 * until `release()` or this process's end. A span is for a program that
 * listens on ports it derives from the one it is given (OpenClaw's gateway).
 */
export async function reservePort(opts: { host?: string; span?: number } = {}): Promise<PortReservation> {
  const host = opts.host ?? "127.0.0.1";
  const span = opts.span ?? 1;
  const [low, high] = portsBelowEphemeral();
  for (let tries = 0; tries < 50; tries++) {
    const first = firstPortToTry(low, high, span, randomInt);
    if (first === undefined) break;
    const held = await holdSpan(first, span, host);
    if (held) return held;
  }
  throw new Error(`no ${span} free port(s) from ${low} to ${high} after 50 tries`);
}

/** A port nobody listens on now and nobody else is given while this process lives (reservePort, never released). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return (await reservePort({ host })).port;
}

/**
 * Where a span of ports may start, drawn at random from `low..high` so that
 * the whole span fits and holds none of FETCH_BAD_PORTS (a span drawn over
 * one moves just past it, or just before it where nothing fits past);
 * undefined when no span fits. Pure: `draw(min, max)` returns an integer
 * from min to max - 1.
 */
export function firstPortToTry(
  low: number,
  high: number,
  span: number,
  draw: (min: number, max: number) => number,
): number | undefined {
  const lastFirst = high - span + 1;
  if (lastFirst < low) return undefined;
  let first = draw(low, lastFirst + 1);
  for (const bad of FETCH_BAD_PORTS) {
    if (bad < first || bad >= first + span) continue;
    if (bad + 1 <= lastFirst) first = bad + 1;
    else if (bad - span >= low) first = bad - span;
    else return undefined;
  }
  return first;
}

/** Ports from 10000 up to just below the kernel's range for outgoing connections (Linux: ip_local_port_range). */
function portsBelowEphemeral(): [number, number] {
  let ephemeralLow = 32_768;
  try {
    ephemeralLow = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  } catch {
    // not Linux: assume Linux's default
  }
  // A kernel that gives out every port to outgoing connections leaves no range apart: then any above 10000.
  return ephemeralLow > 10_001 ? [10_000, ephemeralLow - 1] : [10_000, 65_535];
}

/** Ports this process holds where the abstract namespace is missing (not Linux): held against this process only. */
const heldHere = new Set<number>();

/** Holds `span` ports from `first`, each free to listen on; undefined (nothing held) when one is not. */
async function holdSpan(first: number, span: number, host: string): Promise<PortReservation | undefined> {
  const releases: (() => void)[] = [];
  const releaseAll = () => {
    for (const release of releases.splice(0)) release();
  };
  for (let port = first; port < first + span; port++) {
    const release = await hold(port);
    if (release) releases.push(release);
    // Held first, then checked: nobody who asks here can take it in between.
    if (!release || !(await canListen(port, host))) {
      releaseAll();
      return undefined;
    }
  }
  return { port: first, release: releaseAll };
}

/** Binds the port's name in the abstract namespace; its release, or undefined when someone holds it. */
function hold(port: number): Promise<(() => void) | undefined> {
  if (process.platform !== "linux") {
    if (heldHere.has(port)) return Promise.resolve(undefined);
    heldHere.add(port);
    return Promise.resolve(() => void heldHere.delete(port));
  }
  return new Promise((resolve) => {
    const server: Server = createServer();
    // Nobody talks to a hold: a connection to it is closed at once.
    server.maxConnections = 0;
    server.once("error", () => resolve(undefined));
    server.listen(`\0${HOLD_PREFIX}${port}`, () => {
      // A hold alone does not keep the process running.
      server.unref();
      resolve(() => void server.close());
    });
  });
}

const canListen = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
