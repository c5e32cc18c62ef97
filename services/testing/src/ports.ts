// A free port for a process a test starts on a port it names. The services
// have the same in kit (reservePort and freePort, kit/src/server/ports.ts,
// which says why the range and how a port is held); this harness is below kit
// (kit's own tests use it), so it keeps its own, holding ports under the same
// names so that the two never give out the same port at once.
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The ports of the range fetch refuses ("bad port"): kit's FETCH_BAD_PORTS, which says why. */
export const FETCH_BAD_PORTS: readonly number[] = [10_080];

/** The name of a port's hold in the abstract namespace: kit's HOLD_PREFIX. */
const HOLD_PREFIX = "convos-pool-port-";
/** Held against this process only where the abstract namespace is missing (not Linux). */
const heldHere = new Set<number>();

/**
 * A port nobody listens on now, from 10000 to just below the range the kernel
 * gives outgoing connections, held until this process ends: no other process
 * asking here or through kit gets it meanwhile, so the test may listen on it
 * much later, and again after a restart.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  let ephemeral = 32_768;
  try {
    ephemeral = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]);
  } catch {
    // not Linux: Linux's default
  }
  const high = ephemeral > 10_001 ? ephemeral : 65_536;
  for (let tries = 0; tries < 50; tries++) {
    const port = portToTry(high, randomInt);
    // Held first, then checked: nobody who asks here can take it in between.
    const release = await hold(port);
    if (!release) continue;
    if (await canListen(port, host)) return port;
    release();
  }
  throw new Error(`no free port from 10000 to ${high - 1} after 50 tries`);
}

/**
 * The port to try, drawn from 10000 to `high - 1`, the one after it (or before
 * it, at the top) where the draw is a port fetch refuses. Pure:
 * `draw(min, max)` returns an integer from min to max - 1.
 */
export function portToTry(high: number, draw: (min: number, max: number) => number): number {
  const port = draw(10_000, high);
  if (!FETCH_BAD_PORTS.includes(port)) return port;
  return port + 1 < high ? port + 1 : port - 1;
}

/** Binds the port's name in the abstract namespace (the kernel lets go when this process ends); undefined when held. */
function hold(port: number): Promise<(() => void) | undefined> {
  if (process.platform !== "linux") {
    if (heldHere.has(port)) return Promise.resolve(undefined);
    heldHere.add(port);
    return Promise.resolve(() => void heldHere.delete(port));
  }
  return new Promise((resolve) => {
    const server = createServer();
    server.maxConnections = 0;
    server.once("error", () => resolve(undefined));
    server.listen(`\0${HOLD_PREFIX}${port}`, () => {
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
