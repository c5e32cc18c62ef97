import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./ports.js";
import { startServiceProcess } from "./processes.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "processes-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A process that says it serves and then, on SIGTERM, does what `onTerm` says. */
async function serving(name: string, onTerm: string) {
  const script = join(dir, `${name}.mjs`);
  await writeFile(
    script,
    `process.on("SIGTERM", () => { ${onTerm} });\nconsole.log("ready");\nsetInterval(() => {}, 1000);\n`,
  );
  return startServiceProcess(script, { readyPrefix: "ready", stopGraceMs: 500 });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("a service process stopped", () => {
  it("exits on SIGTERM as it chooses to", async () => {
    const p = await serving("graceful", "process.exit(0)");
    await p.stop();
    expect(alive(p.pid)).toBe(false);
  });

  it("is killed when it does not stop within its grace: a stop never hangs its caller", async () => {
    const p = await serving("stuck", "/* ignores it */");
    const started = Date.now();
    await p.stop();
    expect(alive(p.pid)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });
});

describe("a service process whose port is taken before it listens", () => {
  it("starts again on another port: a program that binds without asking freePort cannot fail the start", async () => {
    // Taken as such a program would: listening, with no hold.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const taken = (squatter.address() as AddressInfo).port;
    const script = join(dir, "listens.mjs");
    await writeFile(
      script,
      `import { createServer } from "node:net";\n` +
        `createServer().listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));\n`,
    );
    const given: number[] = [];
    const ports = [taken, await freePort()];
    const p = await startServiceProcess(script, {
      readyPrefix: "ready",
      stopGraceMs: 500,
      ports: async () => {
        given.push(ports[given.length]!);
        return given.at(-1)!;
      },
    }).finally(() => squatter.close());
    try {
      expect(given).toEqual(ports);
      expect(p.port).toBe(ports[1]);
      expect(p.url).toBe(`http://127.0.0.1:${ports[1]}`);
    } finally {
      await p.stop();
    }
  });

  it("fails at once on a port it was given: the caller named that port", async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const taken = (squatter.address() as AddressInfo).port;
    try {
      await expect(
        startServiceProcess(join(dir, "listens.mjs"), { port: taken, readyPrefix: "ready" }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      squatter.close();
    }
  });
});
