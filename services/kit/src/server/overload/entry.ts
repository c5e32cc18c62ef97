// The admission in the server's request handler, before Connect reads a call
// (docs/server-kit.md, "Overload"). A call Connect has begun to read already
// cost the server most of what an answer does (the RPC machinery is most of
// a short call's CPU), so a refusal decided in an interceptor came late and
// dear under overload. Here a unary call is judged from its path
// (Service/Method) and headers (timeout, pool-criticality) alone, and a
// refusal is written in the shape its protocol's clients decode (Connect:
// 429 and its JSON error; gRPC: trailers; gRPC-Web: its trailer frame), with
// the same RESOURCE_EXHAUSTED, QuotaFailure, RetryInfo and Retry-After the
// interceptor throws (interceptor.ts). A call let in keeps the slot taken
// here until it ends: the interceptor runs it there and takes no other.
// What this cannot judge (an unknown path, a stream, gRPC-Web's text
// encoding) goes on to Connect, whose interceptor admits it as before.

import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { ConnectError } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  errorToJsonBytes,
  parseContentType as parseConnect,
} from "@connectrpc/connect/protocol-connect";
import { parseContentType as parseGrpc, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { parseContentType as parseGrpcWeb, trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { codeLabel, type Metrics } from "../metrics.js";
import type { HeaderReader } from "./deadline.js";
import type { Admitted, AdmissionGate, Verdict } from "./interceptor.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** A unary RPC the server routes, by its request path (`/pkg.Service/Method`). */
export type UnaryCalls = ReadonlyMap<string, { service: string; method: string }>;

/** The protocol a refusal is written in, and whether its messages are binary. */
export interface Wire {
  protocol: "connect" | "grpc" | "grpc-web";
  binary: boolean;
}

/** The wire of a unary call from its HTTP method and content type; undefined where the entry leaves the call to Connect. */
export function wireOf(method: string | undefined, contentType: string | undefined): Wire | undefined {
  // A Connect GET (an idempotent method's call in its URL) carries no content type; its errors are JSON.
  if (method === "GET") return { protocol: "connect", binary: false };
  if (method !== "POST" || contentType === undefined) return undefined;
  const web = parseGrpcWeb(contentType);
  if (web) return web.text ? undefined : { protocol: "grpc-web", binary: web.binary };
  const grpc = parseGrpc(contentType);
  if (grpc) return { protocol: "grpc", binary: grpc.binary };
  const connect = parseConnect(contentType);
  return connect && !connect.stream ? { protocol: "connect", binary: connect.binary } : undefined;
}

/** `error` as Connect would answer it for a unary call on `wire`. */
export function refusalResponse(wire: Wire, error: ConnectError): UniversalServerResponse {
  if (wire.protocol === "connect") {
    const body = errorToJsonBytes(error, {});
    const header = new Headers(error.metadata);
    header.set("content-type", "application/json");
    header.set("content-length", String(body.byteLength));
    return { status: codeToHttpStatus(error.code), header, body: once(body) };
  }
  const trailer = setTrailerStatus(new Headers(), error);
  const type = `application/${wire.protocol}+${wire.binary ? "proto" : "json"}`;
  if (wire.protocol === "grpc") return { status: 200, header: new Headers({ "content-type": type }), trailer };
  return {
    status: 200,
    header: new Headers({ "content-type": type }),
    body: once(encodeEnvelope(trailerFlag, trailerSerialize(trailer))),
  };
}

/** The server's entry: `handle` judges a request before `next` hands it to Connect; `admittedOf` tells Connect's context its slot. */
export interface Entry {
  handle(req: Request, res: Response, next: () => void): void;
  admittedOf(req: Request): Admitted | undefined;
}

/** `metrics`: where a refusal here is counted among the RPCs, as the interceptor's were (the share of calls refused keeps its meaning). */
export function entryAdmission(gate: AdmissionGate, unary: UnaryCalls, metrics?: Metrics): Entry {
  const admitted = new WeakMap<Request, Admitted>();
  return {
    admittedOf: (req) => admitted.get(req),
    handle(req, res, next) {
      const call = unary.get((req.url ?? "").split("?", 1)[0] ?? "");
      const wire = call && wireOf(req.method, req.headers["content-type"]);
      if (!call || !wire) {
        next();
        return;
      }
      // The caller may go while its call waits for a slot: a slot given then is handed back at once.
      const arrived = process.hrtime.bigint();
      let gone = false;
      let ticket: Admitted["ticket"] | undefined;
      res.once("close", () => {
        gone = true;
        ticket?.done();
      });
      const act = (verdict: Verdict): void => {
        if (verdict.kind === "exempt") next();
        else if (verdict.kind === "start") {
          ticket = verdict.admitted.ticket;
          if (gone) ticket.done();
          else {
            admitted.set(req, verdict.admitted);
            next();
          }
        } else if (!gone) {
          // The body is left unread and dropped: over HTTP/2 unread data holds the session's memory (unread-requests.ts).
          req.resume();
          const labels = { service: call.service, method: call.method, code: codeLabel(verdict.error.code) };
          metrics?.rpcs.inc(labels);
          metrics?.rpcSeconds.observe(labels, Number(process.hrtime.bigint() - arrived) / 1e9);
          universalResponseToNodeResponse(refusalResponse(wire, verdict.error), res).catch(() => {
            // the caller went while its refusal was written: nothing is left to tell
          });
        }
      };
      const verdict = gate.decide(call.service, call.method, nodeHeader(req));
      if (verdict instanceof Promise) void verdict.then(act);
      else act(verdict);
    },
  };
}

function nodeHeader(req: Request): HeaderReader {
  return {
    get(name) {
      const value = req.headers[name.toLowerCase()];
      return typeof value === "string" ? value : Array.isArray(value) ? value.join(", ") : null;
    },
  };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
