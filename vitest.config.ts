import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tiers (docs/testing.md):
//   unit         `*.test.ts`: in memory, no PostgreSQL, XMTP node, child process or browser;
//                files share their workers (no isolation), so each must leave no global state behind
//   integration  `*.int.test.ts`: real PostgreSQL, the local XMTP node, services as processes;
//                files share their workers too (the SDKs and MikroORM load once a worker, not once a file)
//   browser      `services/e2e/browser/`: the web app in Chromium against the whole pool
//   system       `*.system.test.ts`: the pool as its operators run it, minutes a file: faults
//                injected into a deployed pool, replicas, `npm start` itself, the services fuzzed,
//                and each benchmark run to its end in quick mode
// `npm run test:unit` runs the first alone; `npm test` runs the first three. `system` exists only
// under POOL_TEST_SYSTEM (`npm run test:system`), and `openclaw` (`*.openclaw-test.ts`) only under
// POOL_TEST_OPENCLAW (`npm run test:openclaw`); CI (`.ci/run`) runs them after `npm test`.
const unit = ["services/*/src/**/*.test.ts", "bench/**/*.test.ts", "scripts/**/*.test.ts"];
const integration = ["services/*/src/**/*.int.test.ts", "bench/**/*.int.test.ts"];
// Integration files that replace a module of the product (vi.mock) for the whole file: each in a worker of its own,
// since a module a file before them loaded is not loaded again where workers are shared.
const isolated = ["services/*/src/**/*.isolated.int.test.ts"];
const system = ["services/*/src/**/*.system.test.ts", "bench/**/*.system.test.ts"];
// Services log JSON lines; keep test output readable unless asked.
const env = { LOG_LEVEL: process.env.LOG_LEVEL ?? "silent" };

export default defineConfig({
  resolve: {
    // The package builds its `test` at import by walking every chain of vitest's modifiers, about 1.7 s of CPU in
    // each worker (3 to 5 s of the unit tier's wall); the tests get what they use of it from the testing kit instead.
    alias: {
      "@fast-check/vitest": fileURLToPath(new URL("services/testing/src/fast-check-vitest.ts", import.meta.url)),
    },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for a condition; its 1 s default is a clock a busy machine misses (a page's list took longer).
    expect: { poll: { timeout: 15_000 } },
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
          exclude: [...integration, ...system],
          isolate: false,
          // Threads, not processes: nothing of a unit test leaves its process, and workers start and load faster (22 s, from 25 s).
          pool: "threads",
          // Vite's transforms kept on disk between runs (node_modules/.experimental-vitest-cache, keyed by each
          // file's content, the lockfile and this config): a run after the first transforms only what changed
          // (the tier's transform time 9 to 11 s without it, 2.7 to 3.5 s with it; docs/testing.md).
          experimental: { fsModuleCache: true },
          // What the harnesses' requireIntegrationTier reads: a unit test that reaches for a real component fails.
          env: { ...env, POOL_TEST_TIER: "unit" },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: integration,
          exclude: isolated,
          isolate: false,
          // Files share a worker: each must stop every process it started.
          setupFiles: ["services/testing/src/no-leftovers.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "isolated",
          include: isolated,
          isolate: true,
          setupFiles: ["services/testing/src/no-leftovers.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: ["services/e2e/browser/**/*.test.ts"],
          // One pool for the tier's files, started before the first and closed after the last (docs/testing.md).
          globalSetup: ["services/e2e/browser/shared-pool.setup.ts"],
        },
      },
      // The pool as its operators run it (`npm run test:system`): minutes a file, not in `npm test`.
      ...(process.env.POOL_TEST_SYSTEM
        ? [
            {
              extends: true as const,
              test: {
                name: "system",
                include: system,
                isolate: false,
                setupFiles: ["services/testing/src/no-leftovers.ts"],
              },
            },
          ]
        : []),
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
