import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * A port nobody listens on right now. For two services that must know each
 * other's address before either starts (templates push to claims, claims
 * read templates), and for tests that start a process on a port they name.
 *
 * Chosen below the range the kernel hands to outgoing connections, so that
 * no client socket takes it before its server binds it (with port 0 the
 * kernel picks from that very range, and under a busy test run a connection
 * did). Another process choosing the same port in between is still possible,
 * which a local runner accepts.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const [low, high] = portsBelowEphemeral();
  if (high > low) {
    for (let tries = 0; tries < 20; tries++) {
      const port = randomInt(low, high + 1);
      if (await canListen(port, host)) return port;
    }
  }
  return listen(0, host);
}

/** Ports from 10000 up to just below the kernel's range for outgoing connections (Linux: ip_local_port_range). */
function portsBelowEphemeral(): [number, number] {
  let ephemeralLow = 32_768;
  try {
    ephemeralLow = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  } catch {
    // not Linux: assume Linux's default
  }
  return [10_000, ephemeralLow - 1];
}

const canListen = (port: number, host: string) =>
  listen(port, host).then(
    () => true,
    () => false,
  );

function listen(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(port, host, () => {
      const bound = (probe.address() as { port: number }).port;
      probe.close(() => resolve(bound));
    });
  });
}
