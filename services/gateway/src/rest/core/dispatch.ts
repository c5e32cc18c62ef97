// The dispatcher of the REST paths (docs/rest.md), served through the server
// kit's `fallback`: it matches a request to its route, reads the body only
// as the route's handler asks, and turns whatever the handler throws into a
// REST error through the mapping its route names beside it. It knows no
// area: the table of routes is rest/routes.ts's.

import { peerAddressOf, type ServerRequest, type ServerResponse } from "@convos-pool/kit/server";
import { methodNotAllowed, noRoute, toRestError } from "./errors.js";
import { JsonObject, readJsonBody } from "./json.js";
import { BASE, type RestDeps, type RestRequest, type RestResponse, type Route } from "./request.js";

/** Path parameters when `path` matches `pattern` (under BASE), else undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = `${BASE}${pattern}`.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? "";
    const g = got[i] ?? "";
    if (w.startsWith(":")) {
      if (g === "") return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** The server kit's `fallback` serving `routes`: answers every path under /api/pool/, leaves others alone. */
export function serveRoutes(
  routes: readonly Route[],
  deps: RestDeps,
): (req: ServerRequest, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://gateway.invalid");
    if (url.pathname !== BASE && !url.pathname.startsWith(`${BASE}/`)) return false;
    const started = performance.now();
    const method = req.method ?? "GET";
    const aborted = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) aborted.abort();
    });
    let status: number;
    try {
      const out = await dispatch(routes, method, url, req, aborted.signal, deps);
      status = out.status;
      send(res, out.status, out.body, out.headers);
    } catch (err) {
      const e = toRestError(err);
      status = e.status;
      if (e.status >= 500) deps.log.error("rest request failed", { method, path: url.pathname, err });
      if (!res.headersSent) send(res, e.status, e.body, e.headers);
      else res.end();
    }
    // Never headers or bodies: they carry session tokens and signatures.
    deps.log.info("rest", { method, path: url.pathname, status, durationMs: Math.round(performance.now() - started) });
    return true;
  };
}

async function dispatch(
  routes: readonly Route[],
  method: string,
  url: URL,
  req: ServerRequest,
  signal: AbortSignal,
  deps: RestDeps,
): Promise<RestResponse> {
  const allowed: string[] = [];
  for (const [routeMethod, pattern, handler, errors] of routes) {
    const params = matchPath(pattern, url.pathname);
    if (!params) continue;
    if (routeMethod !== method) {
      allowed.push(routeMethod);
      continue;
    }
    let read: JsonObject | undefined;
    const r: RestRequest = {
      id: params.id ?? "",
      params,
      url,
      headers: req.headers,
      body: async (fields) => (read = JsonObject.body(await readJsonBody(req, deps.maxBodyBytes), fields)),
      call: {
        authorization: req.headers.authorization,
        origin: req.headers.origin,
        peer: peerAddressOf(req),
        forwardedFor: req.headers["x-forwarded-for"],
        signal,
      },
    };
    try {
      return await handler(r, deps);
    } catch (err) {
      throw toRestError(err, errors, (field) => read?.has(field) ?? false);
    }
  }
  if (allowed.length === 0) throw noRoute(method, url.pathname);
  if (method === "OPTIONS") return { status: 204, headers: { allow: [...allowed, "OPTIONS"].join(", ") } };
  throw methodNotAllowed(method, url.pathname, [...allowed, "OPTIONS"]);
}
