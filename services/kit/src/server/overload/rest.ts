// The admission of a server's REST face (its `fallback`: the gateway's REST
// paths), the same as its RPCs' (docs/server-kit.md, "Overload"). A REST
// request is judged from its method, path and headers alone, before its
// body is read: the server says which RPC a route calls (`Service/Method`),
// and the route takes that RPC's criticality (criticality.ts), so a store
// listing is shed before a claim and an owner's approval waits first; a
// route of no RPC is `default`. A refusal is REST's error (docs/rest.md,
// "Errors"): 429 `rate_limited` with Retry-After and the delay in its
// message, or 504 `timeout` for a deadline already passed. A request let in
// holds one slot until its response ends, however many RPCs its handler
// makes (they are admitted by the services they go to, not here), and runs
// to the deadline read on arrival: each RPC carries what is left of it and
// the request's criticality (deadline.ts).

import type * as http from "node:http";
import type * as http2 from "node:http2";
import { Code, type ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { limitExceededOf } from "../limits.js";
import { runAsCall } from "./deadline.js";
import type { AdmissionGate } from "./interceptor.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** The RPC a REST route calls, `Service/Method` (short names), by the request's method and path; undefined: none. */
export type RestRpcOf = (method: string, path: string) => string | undefined;

/** What admission judges a REST request as: the RPC its route calls, or its HTTP method under `REST` (default). */
export function restCallOf(method: string, rpc: string | undefined): { service: string; method: string } {
  const slash = rpc?.indexOf("/") ?? -1;
  if (rpc === undefined || slash < 0) return { service: "REST", method };
  return { service: rpc.slice(0, slash), method: rpc.slice(slash + 1) };
}

export interface RestRefusal {
  status: number;
  headers: Record<string, string>;
  body: { error: { type: string; code: string; message: string } };
}

/** An admission's refusal in REST's shape: the overloaded server's 429 with Retry-After, a passed deadline's 504. */
export function restRefusal(error: ConnectError): RestRefusal {
  const limit = limitExceededOf(error);
  const [status, type] = limit
    ? [429, "rate_limited"]
    : error.code === Code.DeadlineExceeded
      ? [504, "timeout"]
      : [503, "unavailable"];
  const headers: Record<string, string> = limit?.retryAfterSeconds
    ? { "retry-after": String(limit.retryAfterSeconds) }
    : {};
  return { status, headers, body: { error: { type, code: codeToString(error.code), message: error.rawMessage } } };
}

/**
 * Runs `serve` for a REST request when the admission lets it in, in its
 * slot and to its deadline; else answers the refusal (the body left unread
 * and dropped) and returns true, as a fallback that answered does.
 */
export async function admitRest(
  gate: AdmissionGate,
  rpcOf: RestRpcOf | undefined,
  req: Request,
  res: Response,
  path: string,
  serve: () => Promise<boolean>,
): Promise<boolean> {
  const method = req.method ?? "GET";
  const call = restCallOf(method, rpcOf?.(method, path));
  // The caller may go while its request waits for a slot: a slot given then is handed back at once.
  let gone = false;
  res.once("close", () => (gone = true));
  const verdict = await gate.decide(call.service, call.method, {
    get(name) {
      const value = req.headers[name.toLowerCase()];
      return typeof value === "string" ? value : Array.isArray(value) ? value.join(", ") : null;
    },
  });
  if (verdict.kind === "exempt") return serve();
  if (verdict.kind === "refuse") {
    if (gone) return true;
    // Over HTTP/2 unread data holds the session's memory (unread-requests.ts).
    req.resume();
    const refusal = restRefusal(verdict.error);
    const text = JSON.stringify(refusal.body);
    res.writeHead(refusal.status, {
      ...refusal.headers,
      "content-type": "application/json; charset=utf-8",
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
    return true;
  }
  const { ticket, deadline, criticality } = verdict.admitted;
  if (gone) {
    ticket.done();
    return true;
  }
  res.once("close", () => ticket.done());
  try {
    return await runAsCall({ deadline, criticality }, serve);
  } finally {
    ticket.done();
  }
}
