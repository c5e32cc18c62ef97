// The harness's freePort against the real network stack: real sockets on
// loopback, a real child process killed with SIGKILL. A port's hold is checked
// by trying to take its name in the abstract namespace, as another asker
// would (kit's reservePort and this freePort both do).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { freePort } from "./ports.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Whether another socket could take the port's hold now (and lets go of it at once). */
const holdFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const taker = createServer();
    taker.once("error", () => resolve(false));
    taker.listen(`\0convos-pool-port-${port}`, () => taker.close(() => resolve(true)));
  });

const listenOnce = async (port: number) => {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  await new Promise((resolve) => server.close(resolve));
};

it.runIf(process.platform === "linux")(
  "holds the port it gave while this process lives, a server's stop on it and its restart included",
  async () => {
    const port = await freePort();
    expect(await holdFree(port)).toBe(false);
    await listenOnce(port);
    // Between a stop and a restart nobody else is given it.
    expect(await holdFree(port)).toBe(false);
    await listenOnce(port);
  },
);

it.runIf(process.platform === "linux")(
  "lets go of its ports when its process ends, even killed with SIGKILL: nothing is left to clean",
  { timeout: 30_000 },
  async () => {
    const module = new URL("./ports.ts", import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(module)}); console.log(await m.freePort()); setInterval(() => {}, 1000);`,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const port = await new Promise<number>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(Number(d))));
      expect(await holdFree(port)).toBe(false);
      child.kill("SIGKILL");
      await exited;
      expect(await holdFree(port)).toBe(true);
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
  },
);
