// The REST paths of docs/rest.md, served through the server kit's `fallback`.
// Each handler turns a request into an RPC of the same forwarder the Connect
// face uses (so authorization is the same), and the answer into JSON; the
// route table names, beside each handler, how its RPC errors read on REST,
// and the dispatcher applies that mapping to whatever the handler throws.

import { peerAddressOf, type ServerRequest, type ServerResponse } from "@convos-pool/kit/server";
import { ADDRESS_BOOK_ROUTES } from "./address-book-routes.js";
import { AGENT_ROUTES } from "./agent-routes.js";
import { APPROVAL_ROUTES } from "./approval-routes.js";
import { CURATION_ROUTES } from "./curation-routes.js";
import { methodNotAllowed, noRoute, toRestError } from "./errors.js";
import { JsonObject, readJsonBody } from "./json.js";
import { LINEAGE_ROUTES } from "./lineage-routes.js";
import { MEMORY_ROUTES } from "./memory-routes.js";
import { PATTERN_ROUTES } from "./patterns-routes.js";
import { RATING_ROUTES } from "./rating-routes.js";
import { ROLLOUT_ROUTES } from "./rollout-routes.js";
import { BASE, type RestDeps, type RestRequest, type RestResponse, type Route } from "./request.js";
import { SESSION_ROUTES } from "./session-routes.js";
import { SIGNAL_ROUTES } from "./signals-routes.js";
import { TEMPLATE_ROUTES } from "./template-routes.js";

const ROUTES: readonly Route[] = [
  ...SESSION_ROUTES,
  ...TEMPLATE_ROUTES,
  ...ROLLOUT_ROUTES,
  ...AGENT_ROUTES,
  ...LINEAGE_ROUTES,
  ...CURATION_ROUTES,
  ...RATING_ROUTES,
  ...MEMORY_ROUTES,
  ...ADDRESS_BOOK_ROUTES,
  ...APPROVAL_ROUTES,
  ...PATTERN_ROUTES,
  ...SIGNAL_ROUTES,
];

/** Every REST route, method and full path pattern (`:id`, `:rollout_id` for the path parameters): what the fuzz tests drive. */
export const REST_ROUTES: ReadonlyArray<readonly [method: string, pattern: string]> = ROUTES.map(
  ([method, pattern]) => [method, `${BASE}${pattern}`] as const,
);

/** Path parameters when `path` matches `pattern`, else undefined. */
function matchPath(pattern: string, path: string): Record<string, string> | undefined {
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

/** The server kit's `fallback`: answers every path under /api/pool/, leaves others alone. */
export function restApi(deps: RestDeps): (req: ServerRequest, res: ServerResponse) => Promise<boolean> {
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
      const out = await dispatch(method, url, req, aborted.signal, deps);
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
  method: string,
  url: URL,
  req: ServerRequest,
  signal: AbortSignal,
  deps: RestDeps,
): Promise<RestResponse> {
  const allowed: string[] = [];
  for (const [routeMethod, pattern, handler, errors] of ROUTES) {
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
