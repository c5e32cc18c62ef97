import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
