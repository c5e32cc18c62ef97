// The web app (services/web) on the gateway's own port: same origin as the
// API, so the browser needs no CORS. The built files are read once at start
// (the app is a few hundred kilobytes). A path with a file extension is a
// file of the build, or 404; any other GET is a page of the app, answered
// with index.html (the app routes in the browser). The API's paths never
// reach here: Connect routes its own, REST takes /api/ first.
import { readFile, readdir } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import type { ServerRequest, ServerResponse } from "@convos-pool/kit/server";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * What every answer of the app carries: scripts, styles and connections to
 * this origin only (the signing key lives in this page: no third-party
 * script may run beside it), never framed, no sniffing, no referrer outside.
 */
export const WEB_SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
};

interface WebFile {
  body: Buffer;
  type: string;
  /** Vite's hashed assets never change under their name. */
  immutable: boolean;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The app's `fallback` handler, from a built directory holding index.html. */
export async function webApp(dir: string): Promise<(req: ServerRequest, res: ServerResponse) => boolean> {
  const files = new Map<string, WebFile>();
  for (const path of await filesUnder(dir)) {
    const url = `/${relative(dir, path).split(sep).join("/")}`;
    files.set(url, {
      body: await readFile(path),
      type: TYPES[extname(path)] ?? "application/octet-stream",
      immutable: url.startsWith("/assets/"),
    });
  }
  const index = files.get("/index.html");
  if (!index)
    throw new Error(`${dir} holds no index.html: build the web app first (npm run build -w @convos-pool/web)`);

  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const path = new URL(req.url ?? "/", "http://gateway.invalid").pathname;
    if (path.startsWith("/api/")) return false;
    const file = extname(path) ? files.get(path) : index;
    if (!file) return false;
    const headers: Record<string, string> = {
      ...WEB_SECURITY_HEADERS,
      "content-type": file.type,
      "content-length": String(file.body.length),
      "cache-control": file.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    };
    res.statusCode = 200;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (req.method === "HEAD") res.end();
    else res.end(file.body);
    return true;
  };
}
