import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// npm run test:deploy's tests (scripts/test-deploy.sh runs them once the images exist):
// one file at a time, since each brings up containers on this machine.
export default defineConfig({
  root: resolve(import.meta.dirname, "../.."),
  test: {
    include: ["deploy/test/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "silent" },
  },
});
