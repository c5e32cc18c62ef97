// bench/claims.ts still runs: in quick mode, to its end, printing its figures (bench/quick.ts), and with
// BENCH_HEAP_PROFILE, writing its heap profile.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { expect, it, onTestFinished } from "vitest";
import { number, runsToItsEnd, start } from "./quick.js";

runsToItsEnd("bench/claims.ts", [
  new RegExp(`claims/s service / bare query\\s+${number}`),
  new RegExp(`claim without join at 200/s, first ${number} s\\s+${number}\\s+${number}`),
  new RegExp(`claim with XMTP join \\(2, 10 concurrent\\)\\s+${number}`),
]);

it("bench/claims.ts with BENCH_HEAP_PROFILE writes the claims service's heap profile and prints its sources", {
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "heap-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "claims.heapprofile");
  const { done } = start("bench/claims.ts", randomUUID(), { BENCH_CLAIMS_JOIN: "0", BENCH_HEAP_PROFILE: file });
  const run = await done;
  expect(run.code, run.output).toBe(0);
  expect(run.stdout).toMatch(
    new RegExp(
      `filled its old generation with \\(sampled\\) ${number} KB a claim: RPC \\(HTTP/2, Connect\\) ${number} KB`,
    ),
  );
  const profile = JSON.parse(readFileSync(file, "utf8")) as { head: { children: unknown[] } };
  expect(profile.head.children.length).toBeGreaterThan(0);
});
