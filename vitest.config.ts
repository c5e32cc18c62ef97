import { defineConfig } from "vitest/config";

// Three tiers (docs/testing.md):
//   unit         `*.test.ts`: in memory, no PostgreSQL, XMTP node, child process or browser;
//                files share their workers (no isolation), so each must leave no global state behind
//   integration  `*.int.test.ts`: real PostgreSQL, the local XMTP node, services as processes;
//                files share their workers too (the SDKs and MikroORM load once a worker, not once a file)
//   browser      `services/e2e/browser/`: the web app in Chromium against the whole pool
// `npm run test:unit` runs the first alone; `npm test` runs all three. A fourth, `openclaw`
// (`*.openclaw-test.ts`), exists only under POOL_TEST_OPENCLAW: `npm run test:openclaw`.
const unit = ["services/*/src/**/*.test.ts", "bench/**/*.test.ts", "scripts/**/*.test.ts"];
const integration = ["services/*/src/**/*.int.test.ts", "bench/**/*.int.test.ts"];
// Services log JSON lines; keep test output readable unless asked.
const env = { LOG_LEVEL: process.env.LOG_LEVEL ?? "silent" };

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most integration tests wait on other processes (PostgreSQL, the XMTP node, services),
    // so a few files at a time keep both cores busy; more than that and they starve each other.
    maxWorkers: Number(process.env.POOL_TEST_WORKERS ?? 3),
    env,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: unit,
          exclude: integration,
          isolate: false,
          // What the harnesses' requireIntegrationTier reads: a unit test that reaches for a real component fails.
          env: { ...env, POOL_TEST_TIER: "unit" },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: integration,
          isolate: false,
          // Files share a worker: each must stop every process it started.
          setupFiles: ["services/testing/src/no-leftovers.ts"],
        },
      },
      { extends: true, test: { name: "browser", include: ["services/e2e/browser/**/*.test.ts"] } },
      // OpenClaw agents end to end (`npm run test:openclaw`, which installs OpenClaw first): minutes, not in `npm test`.
      ...(process.env.POOL_TEST_OPENCLAW
        ? [
            {
              extends: true as const,
              test: {
                name: "openclaw",
                include: ["services/*/src/**/*.openclaw-test.ts"],
                setupFiles: ["services/testing/src/no-leftovers.ts"],
              },
            },
          ]
        : []),
    ],
  },
});
