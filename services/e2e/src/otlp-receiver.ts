/**
 * TEST HARNESS, NOT PRODUCT CODE. A stand-in for a trace collector (Jaeger,
 * the OpenTelemetry Collector: third-party services): an HTTP server that
 * takes what an OTLP/HTTP exporter POSTs to /v1/traces and keeps its spans.
 *
 * The exporter ships an encoder only (otlp-transformer writes protobuf by
 * hand), so the request is read here with @bufbuild/protobuf's wire reader
 * by the field numbers of opentelemetry-proto's trace.proto and common.proto
 * (ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span); JSON
 * bodies are read as OTLP/JSON.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client (SpanKind of trace.proto). */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** The resource's service.name. */
  service: string;
}

export interface OtlpReceiver {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT names: the exporter POSTs to `${url}/v1/traces`. */
  url: string;
  spans: ReceivedSpan[];
  /** Requests that were not OTLP traces (a wrong path or body). */
  refused: number;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const receiver = { spans, refused: 0 } as OtlpReceiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        if (req.method !== "POST" || req.url !== "/v1/traces") throw new Error(`${req.method} ${req.url}`);
        const body = Buffer.concat(chunks);
        const json = (req.headers["content-type"] ?? "").includes("json");
        spans.push(...(json ? fromJson(JSON.parse(body.toString("utf8"))) : fromProtobuf(body)));
        // An empty ExportTraceServiceResponse: all accepted.
        res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
        res.end(json ? "{}" : Buffer.alloc(0));
      } catch {
        receiver.refused++;
        res.writeHead(400);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** Each length-delimited field of a message, by number; other wire types skipped. */
function fields(bytes: Uint8Array): Array<[number, Uint8Array | bigint | number]> {
  const r = new BinaryReader(bytes);
  const out: Array<[number, Uint8Array | bigint | number]> = [];
  while (r.pos < r.len) {
    const [no, type] = r.tag();
    if (type === WireType.LengthDelimited) out.push([no, r.bytes()]);
    else if (type === WireType.Varint) out.push([no, r.int64() as unknown as bigint]);
    else if (type === WireType.Bit64) out.push([no, r.double()]);
    else r.skip(type);
  }
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** ExportTraceServiceRequest: 1 resource_spans. */
function fromProtobuf(body: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const [no, rs] of fields(body)) {
    if (no !== 1 || !(rs instanceof Uint8Array)) continue;
    // ResourceSpans: 1 resource (1 attributes), 2 scope_spans (2 spans).
    let service = "";
    const scopes: Uint8Array[] = [];
    for (const [n, v] of fields(rs)) {
      if (!(v instanceof Uint8Array)) continue;
      if (n === 1) {
        const attrs = keyValues(fields(v));
        service = String(attrs["service.name"] ?? "");
      } else if (n === 2) scopes.push(v);
    }
    for (const scope of scopes)
      for (const [n, span] of fields(scope)) if (n === 2 && span instanceof Uint8Array) out.push(spanOf(span, service));
  }
  return out;
}

/** Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 9 attributes. */
function spanOf(bytes: Uint8Array, service: string): ReceivedSpan {
  const s: ReceivedSpan = { traceId: "", spanId: "", parentSpanId: "", name: "", kind: 0, attributes: {}, service };
  const attrs: Array<[number, Uint8Array | bigint | number]> = [];
  for (const [n, v] of fields(bytes)) {
    if (n === 1 && v instanceof Uint8Array) s.traceId = hex(v);
    else if (n === 2 && v instanceof Uint8Array) s.spanId = hex(v);
    else if (n === 4 && v instanceof Uint8Array) s.parentSpanId = hex(v);
    else if (n === 5 && v instanceof Uint8Array) s.name = text(v);
    else if (n === 6) s.kind = Number(v);
    else if (n === 9) attrs.push([1, v]);
  }
  s.attributes = keyValues(attrs);
  return s;
}

/** KeyValue (1 key, 2 AnyValue: 1 string, 2 bool, 3 int, 4 double) for each field 1 given. */
function keyValues(list: Array<[number, Uint8Array | bigint | number]>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [n, kv] of list) {
    if (n !== 1 || !(kv instanceof Uint8Array)) continue;
    let key = "";
    let value: string | number | boolean = "";
    for (const [k, v] of fields(kv)) {
      if (k === 1 && v instanceof Uint8Array) key = text(v);
      else if (k === 2 && v instanceof Uint8Array)
        for (const [t, x] of fields(v)) {
          if (t === 1 && x instanceof Uint8Array) value = text(x);
          else if (t === 2) value = Number(x) !== 0;
          else if (t === 3) value = Number(x);
          else if (t === 4) value = Number(x);
        }
    }
    out[key] = value;
  }
  return out;
}

interface JsonValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}
interface JsonKeyValue {
  key: string;
  value: JsonValue;
}

/** OTLP/JSON: ids in hex, the same shape. */
function fromJson(req: {
  resourceSpans?: Array<{
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        attributes?: JsonKeyValue[];
      }>;
    }>;
  }>;
}): ReceivedSpan[] {
  const value = (v: JsonValue) => v.stringValue ?? v.boolValue ?? Number(v.intValue ?? v.doubleValue ?? 0);
  const attrs = (list: JsonKeyValue[] = []) => Object.fromEntries(list.map((kv) => [kv.key, value(kv.value)]));
  return (req.resourceSpans ?? []).flatMap((rs) => {
    const service = String(attrs(rs.resource?.attributes)["service.name"] ?? "");
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? "",
        name: s.name,
        kind: s.kind ?? 0,
        attributes: attrs(s.attributes),
        service,
      })),
    );
  });
}
