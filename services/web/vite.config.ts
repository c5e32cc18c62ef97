// The web app's build: `npm run build -w @convos-pool/web` (or ensureWebBuild()
// from npm start) writes dist/, which the gateway serves at /. `vite` (dev
// mode) proxies the API to a gateway on :8080 (`npm start`).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const gateway = process.env.POOL_GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // One bundle of about 200 kB gzipped (React, viem, the generated contracts): fine for an app opened once.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1000 },
  server: { proxy: { "/convos.pool.v1.": gateway, "/api/": gateway } },
});
