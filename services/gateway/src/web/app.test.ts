// The web app's files as the gateway serves them (app.ts), over real HTTP.
// The whole app on a whole gateway is services/e2e/browser's.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_SECURITY_HEADERS, webApp } from "./app.js";

let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-web-"));
  await mkdir(join(dir, "assets"));
  await writeFile(join(dir, "index.html"), "<!doctype html><title>app</title>");
  await writeFile(join(dir, "assets", "index-abc123.js"), "console.log(1)");
  const app = await webApp(dir);
  server = createServer((req, res) => {
    if (!app(req, res)) {
      res.statusCode = 404;
      res.end("not the app's");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("the web app on the gateway", () => {
  it("answers every page of the app with index.html, never cached, with its security headers", async () => {
    for (const path of ["/", "/studio", "/templates/tmpl_abcdefghijklmnop", "/agents?x=1"]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      for (const [k, v] of Object.entries(WEB_SECURITY_HEADERS)) expect(res.headers.get(k)).toBe(v);
      expect(await res.text()).toContain("<title>app</title>");
    }
  });

  it("serves the build's hashed assets as immutable, with their type", async () => {
    const res = await fetch(`${base}/assets/index-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect(await res.text()).toBe("console.log(1)");
  });

  it("leaves to others what is not its own: files it lacks, the API, writes", async () => {
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/../../etc/passwd.txt`)).status).toBe(404);
    expect((await fetch(`${base}/api/pool/templates`)).status).toBe(404);
    expect((await fetch(`${base}/studio`, { method: "POST" })).status).toBe(404);
  });

  it("answers HEAD without a body", async () => {
    const res = await fetch(`${base}/`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("refuses to start on a directory without a build", async () => {
    const empty = await mkdtemp(join(tmpdir(), "pool-web-empty-"));
    try {
      await expect(webApp(empty)).rejects.toThrow(/no index.html/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
