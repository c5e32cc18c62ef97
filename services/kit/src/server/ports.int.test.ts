// freePort against the real network stack of this machine: real sockets on
// loopback, and real processes asking at once (a child per implementation:
// kit's, and the test harness's, which must keep clear of each other's ports).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { freePort } from "./ports.js";

const ROOT = fileURLToPath(new URL("../../../..", import.meta.url));
const KIT_PORTS = new URL("./ports.ts", import.meta.url).href;
const TESTING_PORTS = new URL("../../../testing/src/ports.ts", import.meta.url).href;

/**
 * A process that asks `module` for a port `count` times (`ask`, an expression
 * over the module `m`), listening on none, says the ports it got, and holds
 * whatever it holds until `done` is called.
 */
function asker(
  module: string,
  count: number,
  ask = "m.freePort()",
): { ports: Promise<number[]>; done(): Promise<void> } {
  const script = `
    const m = await import(${JSON.stringify(module)});
    const ports = [];
    for (let i = 0; i < ${count}; i++) ports.push(await ${ask});
    process.stdout.write(JSON.stringify(ports) + "\\n");
    process.stdin.resume();
    process.stdin.on("end", () => process.exit(0));
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ports = new Promise<number[]>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(JSON.parse(out) as number[]);
    });
    child.once("exit", (code) =>
      reject(new Error(`the asking process exited (${code}) before it said its ports: ${err}`)),
    );
  });
  return {
    ports,
    async done() {
      child.stdin.end();
      await exited;
    },
  };
}

it("gives ports below the kernel's range for outgoing connections, each one a server can listen on", async () => {
  const ephemeralLow = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  for (const port of ports) {
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThan(ephemeralLow);
  }
  // Spread over the range, not one port handed to everyone.
  expect(new Set(ports).size).toBeGreaterThan(15);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(ports[0], "127.0.0.1", resolve);
  });
  await new Promise((resolve) => server.close(resolve));
});

it("never gives a port twice while its first taker lives, though nobody listens on it yet: two processes asking at once, one through kit and one through the test harness, get 1,200 different ports", {
  timeout: 60_000,
}, async () => {
  // 600 draws each from about 22,000 ports: a probe that only binds and lets go repeats about 30 of them.
  const kit = asker(KIT_PORTS, 600);
  const harness = asker(TESTING_PORTS, 600);
  try {
    const ports = (await Promise.all([kit.ports, harness.ports])).flat();
    expect(ports).toHaveLength(1_200);
    expect(ports.filter((port, i) => ports.indexOf(port) !== i)).toEqual([]);
  } finally {
    await Promise.all([kit.done(), harness.done()]);
  }
});

it("holds a span whole: while one process holds 300 spans of three ports (a gateway's and the two OpenClaw derives from it), another asking 600 times gets none of their 900 ports", {
  timeout: 60_000,
}, async () => {
  const spans = asker(KIT_PORTS, 300, "m.reservePort({ span: 3 }).then((r) => r.port)");
  try {
    const firsts = await spans.ports;
    const held = new Set(firsts.flatMap((p) => [p, p + 1, p + 2]));
    expect(held.size).toBe(900);
    const others = asker(TESTING_PORTS, 600);
    try {
      expect((await others.ports).filter((port) => held.has(port))).toEqual([]);
    } finally {
      await others.done();
    }
  } finally {
    await spans.done();
  }
});
