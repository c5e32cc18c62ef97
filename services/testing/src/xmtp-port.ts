/**
 * Where a test's local XMTP node listens. The Convos CLI's `local`
 * environment is http://localhost:5556 and it has no option for another
 * address. Where this machine lets a test give the CLI a network namespace of
 * its own (root, or unprivileged user namespaces), the CLI runs there with its
 * localhost:5556 bridged to the test's node on a free port (convos-cli.ts,
 * netns-bridge.mjs), and test files run side by side:
 *
 *   const xmtp = await xmtpPortForTest();         // a free port, or 5556 under the lock
 *   const node = await startDevnode({ port: xmtp.port, databaseUrl });
 *   const cli = await ConvosCli.start(args, dir, { xmtpPort: xmtp.port });
 *   ...                                           // restart the node freely: the port stays the test's
 *   await node.close(); await xmtp.release();
 *
 * Elsewhere the node must own port 5556, and only one test process at a time
 * can: xmtpPortForTest takes a cross-process lock first (lockLocalXmtpPort).
 * The lock is a directory in the system's temporary directory holding the
 * owner's pid (atomic to create; a dead owner's lock is taken over). After
 * taking it, the port itself is checked: a program outside the tests (such as
 * `npm start`, whose devnode listens on 5556) makes this fail with a clear
 * message instead of a confusing SDK error.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";
import { requireIntegrationTier } from "./postgres.js";

/** The Convos CLI's `local` environment (and the local XMTP node's default port, DEFAULT_DEVNODE_PORT). */
export const LOCAL_XMTP_PORT = 5556;

export interface PortLock {
  release(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tryLock(dir: string): boolean {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, "pid"), "utf8"));
    } catch {
      // Being created right now, or left half-made by a crash: stale after a few seconds.
      try {
        if (Date.now() - statSync(dir).mtimeMs > 5_000) rmSync(dir, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      return false;
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !alive(owner)) {
      rmSync(dir, { recursive: true, force: true });
    }
    return false;
  }
  writeFileSync(join(dir, "pid"), String(process.pid));
  return true;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** Takes the cross-process lock on the local XMTP port (5556) and checks that the port is free. */
export async function lockLocalXmtpPort(opts: { port?: number; timeoutMs?: number } = {}): Promise<PortLock> {
  const port = opts.port ?? LOCAL_XMTP_PORT;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const dir = join(tmpdir(), `convos-pool-xmtp-port-${port}.lock`);
  while (!tryLock(dir)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the lock on port ${port} (${dir})`);
    await sleep(150);
  }
  const cleanup = () => {
    try {
      if (Number(readFileSync(join(dir, "pid"), "utf8")) === process.pid) rmSync(dir, { recursive: true, force: true });
    } catch {
      // already gone
    }
  };
  process.once("exit", cleanup);
  while (!(await portFree(port))) {
    if (Date.now() > deadline) {
      cleanup();
      throw new Error(
        `port ${port} is in use by a program outside the tests (is \`npm start\` running? its XMTP devnode listens there)`,
      );
    }
    await sleep(250);
  }
  return {
    async release() {
      process.removeListener("exit", cleanup);
      cleanup();
    },
  };
}

/** How this machine gives a process a network namespace of its own: `unshare`'s flags, or none. */
let isolation: string[] | null | undefined;
export function networkIsolation(): string[] | null {
  if (isolation !== undefined) return isolation;
  isolation = null;
  for (const flags of [["--net"], ["--user", "--map-root-user", "--net"]]) {
    const probe = spawnSync("unshare", [...flags, "ip", "link", "set", "lo", "up"], { stdio: "ignore" });
    if (probe.status === 0) {
      isolation = flags;
      break;
    }
  }
  return isolation;
}

export interface XmtpPort {
  port: number;
  release(): Promise<void>;
}

/** The port for a test's XMTP node: a free one when the Convos CLI can be bridged to it, else 5556 under the lock. */
export async function xmtpPortForTest(opts: { timeoutMs?: number } = {}): Promise<XmtpPort> {
  requireIntegrationTier("A local XMTP node");
  if (networkIsolation()) return { port: await freePort(), release: async () => {} };
  const lock = await lockLocalXmtpPort(opts);
  return { port: LOCAL_XMTP_PORT, release: () => lock.release() };
}
