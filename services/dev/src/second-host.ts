/**
 * `POOL_HOSTS=2 npm start`: a second pool host as its own process, from the
 * instance host's main.ts, with a data directory of its own, so that it can
 * be killed and its disk deleted while the rest of the pool runs (docs/running.md,
 * "Two hosts, and one lost"). Its output goes to this process's stderr, each
 * line prefixed; it dies with this process.
 */
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort, type Logger } from "@convos-pool/kit/server";

export interface SecondHostOptions {
  host: string;
  /** Its port; default a free one. */
  port?: number | undefined;
  dataDir: string;
  /** The environment the host's main.ts reads (docs/instance.md), beyond PORT, HOST and INSTANCE_DATA_DIR. */
  env: Record<string, string>;
  log: Logger;
}

export interface SecondHost {
  url: string;
  pid: number;
  dataDir: string;
  close(): Promise<void>;
}

const READY = "instance host: ";

export async function startSecondHost(opts: SecondHostOptions): Promise<SecondHost> {
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const port = opts.port ?? (await freePort(opts.host));
  const main = fileURLToPath(import.meta.resolve("@convos-pool/instance/main"));
  const proc = spawn(process.execPath, ["--import", "tsx", main], {
    env: {
      ...process.env,
      ...opts.env,
      PORT: String(port),
      HOST: opts.host,
      INSTANCE_DATA_DIR: opts.dataDir,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killNow = () => proc.kill("SIGKILL");
  process.once("exit", killNow);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const url = `http://${opts.host}:${port}`;
  const recent: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the second host did not start within 120 s:\n${recent.join("\n")}`)),
      120_000,
    );
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the second host exited (${code ?? signal}) before it served:\n${recent.join("\n")}`));
    });
    const each = (line: string) => {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      process.stderr.write(`[host-2] ${line}\n`);
      if (line.startsWith(READY)) {
        clearTimeout(timer);
        resolve();
      }
    };
    createInterface({ input: proc.stdout }).on("line", each);
    createInterface({ input: proc.stderr }).on("line", each);
  }).catch(async (err: unknown) => {
    killNow();
    await exited;
    throw err;
  });
  const pid = proc.pid;
  if (pid === undefined) throw new Error("the second host has no pid: it did not start");
  // Whatever happens to it later (killed by hand, as docs/running.md shows) is said, not fatal.
  proc.once("exit", (code, signal) =>
    opts.log.warn("the second instance host exited", { pid: proc.pid, code, signal: signal ?? undefined }),
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    pid,
    dataDir: opts.dataDir,
    close() {
      closing ??= (async () => {
        process.off("exit", killNow);
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill("SIGTERM");
        const timer = setTimeout(killNow, 30_000);
        await exited;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}
