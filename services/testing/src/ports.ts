// A free port for a process a test starts on a port it names. The services
// have the same in kit (freePort, ports.ts, which says why the range); this
// harness is below kit (kit's own tests use it), so it keeps its own.
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** A port nobody listens on now, from 10000 to just below the range the kernel gives outgoing connections. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  let ephemeral = 32_768;
  try {
    ephemeral = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]);
  } catch {
    // not Linux: Linux's default
  }
  for (let tries = 0; tries < 20; tries++) {
    const port = await bind(randomInt(10_000, ephemeral), host).catch(() => 0);
    if (port) return port;
  }
  return bind(0, host);
}

const bind = (port: number, host: string) =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer().once("error", reject);
    probe.listen(port, host, () => {
      const bound = (probe.address() as { port: number }).port;
      probe.close(() => resolve(bound));
    });
  });
