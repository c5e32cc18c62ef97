// A service main as a process runs it: what a wrong configuration does.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("runService", () => {
  it("exits with status 2 and the message when the configuration is wrong, before starting anything", () => {
    const dir = mkdtempSync(join(tmpdir(), "run-service-"));
    const main = join(dir, "main.mts");
    writeFileSync(
      main,
      `import { runService } from ${JSON.stringify(join(import.meta.dirname, "run.ts"))};
       await runService("example", (env) => ({ url: env.required("EXAMPLE_URL", "where it listens") }), async () => {
         console.log("started");
         return { close: async () => {} };
       });`,
    );
    const run = spawnSync(process.execPath, ["--import", "tsx", main], {
      env: { ...process.env, LOG_LEVEL: "info", POOL_METRICS_TOKEN: "a metrics token long enough" },
      encoding: "utf8",
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("EXAMPLE_URL is required: where it listens");
    expect(run.stdout).not.toContain("started");
  });
});
