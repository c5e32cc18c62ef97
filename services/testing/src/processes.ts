// A service's main.ts in its own Node process, as deploy/ runs it: for tests
// of what is deployed and for benchmarks that must not share an event loop.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { freePort } from "./ports.js";
import { requireIntegrationTier } from "./postgres.js";

/** The pool the tests sign for unless they name another: kit's LOCAL_POOL_ID (signing/sign.ts). */
export const TEST_POOL_ID = "local";

export interface ServiceProcess {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  pid: number;
  /** Every line it wrote, stdout and stderr. */
  readonly lines: string[];
  /**
   * SIGTERM (a graceful stop), then waits for the exit; SIGKILL after its grace, as an orchestrator does at the
   * end of its grace period, said on stderr so that a stop that hangs is seen rather than waited on forever.
   */
  stop(): Promise<void>;
  /** Sends a signal and waits for the exit (SIGKILL: a crash). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartServiceOptions {
  /** Its environment, over this process's; PORT and HOST are set unless given. */
  env?: Record<string, string>;
  /** Default: one from `ports`, and another while a start finds its port taken (EADDRINUSE), PORT_TRIES in all. */
  port?: number;
  /** Where a port comes from when none is given; default freePort. */
  ports?: () => Promise<number>;
  /** Ready once a stdout line starts with this; without it, once the gRPC health check answers. */
  readyPrefix?: string;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Each line it writes, as it comes (stderr lines are also echoed when LOG_LEVEL says so). */
  onLine?: (line: string) => void;
  /** Node's flags before the script, as deploy/ passes them (the claims service's: docs/scaling.md). */
  nodeArgs?: readonly string[];
  /** How long stop() waits after SIGTERM before it kills; default STOP_GRACE_MS. */
  stopGraceMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Every process started here that has not exited: killed when this process
 * exits, however it exits (a failed benchmark, a test run ended early), so
 * none is left running behind it.
 */
const live = new Set<ChildProcess>();

/** How long stop() waits after SIGTERM before it kills. */
export const STOP_GRACE_MS = 30_000;
process.once("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/** The metrics token service processes get unless a test names its own. */
export const TEST_METRICS_TOKEN = "metrics-token-of-the-tests";

/** How many ports a start without a given port tries. */
export const PORT_TRIES = 3;

/** Starts `script` (a path from the repository root, run with tsx) and waits until it serves. */
export async function startServiceProcess(script: string, opts: StartServiceOptions = {}): Promise<ServiceProcess> {
  requireIntegrationTier("A service process");
  if (opts.port !== undefined) return startOn(script, opts.port, opts);
  for (let tries = 1; ; tries++) {
    const port = await (opts.ports ?? freePort)();
    try {
      return await startOn(script, port, opts);
    } catch (err) {
      // freePort's hold keeps off whoever asks it or kit, not a program that binds a port of its range without asking.
      if (tries >= PORT_TRIES || !String(err).includes("EADDRINUSE")) throw err;
    }
  }
}

async function startOn(script: string, port: number, opts: StartServiceOptions): Promise<ServiceProcess> {
  const proc: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), "--import", "tsx", script], {
    env: {
      ...process.env,
      LOG_LEVEL: "error",
      PORT: String(port),
      HOST: "127.0.0.1",
      // Every deployed service requires one (kit/service.ts); a test that scrapes sends it.
      POOL_METRICS_TOKEN: TEST_METRICS_TOKEN,
      POOL_ID: TEST_POOL_ID,
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    opts.onLine?.(line);
  };
  createInterface({ input: proc.stderr! }).on("line", keep);
  const stdout = createInterface({ input: proc.stdout! });
  stdout.on("line", keep);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const ready = new Promise<void>((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let done = false;
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within ${timeoutMs / 1000} s:\n${lines.slice(-20).join("\n")}`)),
      timeoutMs,
    );
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before it served:\n${lines.slice(-20).join("\n")}`));
    });
    const up = () => {
      done = true;
      clearTimeout(timer);
      resolve();
    };
    if (opts.readyPrefix) {
      stdout.on("line", (line) => {
        if (line.startsWith(opts.readyPrefix!)) up();
      });
      return;
    }
    void (async () => {
      while (!done && proc.exitCode === null) {
        const ok = await fetch(`${url}/grpc.health.v1.Health/Check`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return up();
        await sleep(100);
      }
    })();
  });
  try {
    await ready;
  } catch (err) {
    proc.kill("SIGKILL");
    await exited;
    throw err;
  }
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  const graceMs = opts.stopGraceMs ?? STOP_GRACE_MS;
  const stop = async () => {
    const cut = setTimeout(() => {
      process.stderr.write(`${script} did not stop within ${graceMs / 1000} s of SIGTERM: killed\n`);
      proc.kill("SIGKILL");
    }, graceMs);
    try {
      await kill("SIGTERM");
    } finally {
      clearTimeout(cut);
    }
  };
  return { url, port, pid: proc.pid!, lines, stop, kill };
}
