// bench/templates.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts); and a
// benchmark stopped midway stops every process it started.
import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { waitFor } from "@convos-pool/testing/wait";
import { listening, marked, number, runsToItsEnd, start } from "./quick.js";

runsToItsEnd("bench/templates.ts", [
  new RegExp(`store search \\(service, gRPC\\)\\s+${number}\\s+${number}`),
  new RegExp(`ratio service / bare SQL\\s+${number}`),
  /signed creates: \d+ per second/,
]);

it("a benchmark stopped midway stops every process it started", { timeout: 120_000 }, async () => {
  const mark = randomUUID();
  // A large store, so that it is still loading it, its templates service up (listening) and quiet, when it is stopped.
  const { child, done } = start("bench/templates.ts", mark, { BENCH_TEMPLATES: "200000" });
  await waitFor("the templates service listening", () => listening(marked(mark, child.pid)), 60_000, 100);
  const service = marked(mark, child.pid);
  expect(service.length).toBeGreaterThan(0);
  child.kill("SIGTERM");
  const run = await done;
  expect(run.code, run.output).toBe(143);
  await waitFor("every process it started gone", () => marked(mark).length === 0, 5_000, 100);
});
