import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["services/*/src/**/*.test.ts", "services/*/e2e/**/*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file gets its own database; files run in parallel.
    pool: "forks",
    // Services log JSON lines; keep test output readable unless asked.
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "silent" },
  },
});
