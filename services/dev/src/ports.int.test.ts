// `npm start` with one of its ports already taken, as when a second pool is
// started beside a first: the real entry point (services/dev/src/main.ts, as
// `npm start` runs it) in a child process, against a real listener on the
// port. It must say what is in the way and which variable moves it, with no
// stack trace, and exit 1 before starting anything.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const servers: Server[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function listen(): Promise<Server> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return s;
}
const portOf = (s: Server) => (s.address() as { port: number }).port;

it("a second npm start on a port in use says that another pool may be running and which variable moves it, and exits 1", {
  timeout: 120_000,
}, async () => {
  // Free ports for every fixed one, so only the taken one is in the way.
  const free: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = await listen();
    free.push(portOf(s));
    await new Promise((r) => s.close(r));
  }
  const taken = await listen();
  servers.push(taken);
  const dataDir = await mkdtemp(join(tmpdir(), "pool-ports-"));
  dirs.push(dataDir);
  const child = spawn(join(root, "node_modules/.bin/tsx"), ["services/dev/src/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      POOL_DATA_DIR: dataDir,
      XMTP_PORT: String(portOf(taken)),
      PORT: String(free[0]),
      CHAIN_PORT: String(free[1]),
      MAIL_PORT: String(free[2]),
      POP3_PORT: String(free[3]),
      SMS_PORT: String(free[4]),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  expect(code).toBe(1);
  expect(stderr).toBe(
    [
      `npm start: port ${portOf(taken)} on 127.0.0.1 is in use, so the local XMTP node cannot listen there.`,
      "Another pool may already be running (`npm start` in another terminal): stop it with Ctrl-C there,",
      "or move this one with XMTP_PORT=<another port> npm start (docs/running.md lists each port's variable).",
      "",
    ].join("\n"),
  );
  expect(stdout).not.toContain("is up");
  // Nothing started: the data directory is as it was made.
  expect(await readdir(dataDir)).toEqual([]);
});
