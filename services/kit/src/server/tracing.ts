// Traces (OpenTelemetry) for every pool service: a claim or a turn followed
// across the gateway, claims, the host and the agent as one trace
// (docs/runbook.md, "Traces"). The kit carries W3C trace context
// (`traceparent`) on every internal call, client and server side, so a
// service gets it by being a kit service.
//
// Off unless the standard OTLP variables name an endpoint: then spans are
// exported over OTLP/HTTP (protobuf) in batches. Off, the API's no-op tracer
// answers and the interceptors pass calls straight through.
//
// Span attributes carry ids and versions, never a person's words, keys,
// tokens or signatures: every attribute set through `inSpan` passes the same
// key filter as log fields (log.ts).

import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { Code, ConnectError, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";

const TRACER = "convos-pool";

/** Whether spans are recorded in this process (startTracing ran with an endpoint). */
let tracing = false;

export interface Tracing {
  /** Sends the spans ended so far now. */
  flush(): Promise<void>;
  /** Sends what is left, then stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts exporting spans over OTLP/HTTP when the environment names an
 * endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
 * and not OTEL_SDK_DISABLED=true); the exporter reads the rest of the
 * standard variables (headers, timeout). The service is named by
 * OTEL_SERVICE_NAME, else `serviceName`. Undefined when off, or when it runs
 * already in this process (services started in one process share it).
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true" || tracing) return undefined;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  tracing = true;
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      // As before it started: a test's worker goes on to other files without traces.
      tracing = false;
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Whether spans are recorded here: cheap checks before work done only for a trace. */
export function tracingOn(): boolean {
  return tracing;
}

/** The ids of the span a log line is written in, for its `trace_id` and `span_id`; none outside a span. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!tracing) return undefined;
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const sc = span.spanContext();
  return trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}

/** Keys an attribute must not have: the log filter's (log.ts), kept apart to keep this file below log.ts. */
const SECRET_ATTRIBUTE = /secret|token|password|signature|authorization|private|key|credential|cookie/i;

/** Only ids, counts and names: a secret-looking key is dropped, not redacted (a trace has no use for it). */
function safe(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined && !SECRET_ATTRIBUTE.test(k)) out[k] = v;
  return out;
}

/**
 * Runs `fn` in a span named `name` (a child of the active one), ended when
 * `fn` settles; a throw marks it failed, with the error's name and code but
 * not its message (a message may quote a request). Off, `fn` runs alone.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracing) return fn(undefined);
  return trace.getTracer(TRACER).startActiveSpan(name, { attributes: safe(attributes) }, (span) => runIn(span, fn));
}

/** `fn` in `span`, which ends when `fn` settles and is marked failed by a throw (`failed`: the error's name and code only). */
async function runIn<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Sets attributes on the active span (those `inSpan` could not know at its start), by the same rule. */
export function annotate(attributes: Attributes): void {
  if (!tracing) return;
  trace.getActiveSpan()?.setAttributes(safe(attributes));
}

function failed(span: Span, err: unknown): void {
  const code = err instanceof ConnectError ? codeToString(err.code) : undefined;
  span.setStatus({ code: SpanStatusCode.ERROR, ...(code ? { message: code } : {}) });
  span.setAttribute("error.type", code ?? (err instanceof Error ? err.name : "error"));
}

/** The context active now: a batch carries its first item's into its call (batcher.ts). */
export function activeContext(): Context {
  return context.active();
}

/** Runs `fn` in `ctx`. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

const headerGetter: TextMapGetter<Headers> = {
  get: (h, key) => h.get(key) ?? undefined,
  keys: (h) => [...h.keys()],
};
const headerSetter: TextMapSetter<Headers> = { set: (h, key, value) => h.set(key, value) };

/** An HTTP request's headers as Node gives them (a REST path's). */
type NodeHeaders = Record<string, string | string[] | undefined>;
const nodeHeaderGetter: TextMapGetter<NodeHeaders> = {
  get: (h, key) => h[key],
  keys: (h) => Object.keys(h),
};

/**
 * A server span, the child of the trace context that came with the request
 * (`traceparent` in its headers), and the context to handle it in: one for
 * an RPC (the server interceptor) and a REST path (`inServerSpan`) alike.
 */
function startServerSpan<C>(
  name: string,
  headers: C,
  getter: TextMapGetter<C>,
  attributes: Attributes,
): { span: Span; ctx: Context } {
  const parent = propagation.extract(ROOT_CONTEXT, headers, getter);
  const span = trace.getTracer(TRACER).startSpan(name, { kind: SpanKind.SERVER, attributes: safe(attributes) }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

/** A server span for a request that is not an RPC (a REST path), a child of its headers' trace context, `fn` run in it. */
export function inServerSpan<T>(
  name: string,
  headers: NodeHeaders,
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracing) return fn(undefined);
  const { span, ctx } = startServerSpan(name, headers, nodeHeaderGetter, attributes);
  return context.with(ctx, () => runIn(span, fn));
}

/**
 * The server side: a span per RPC, a child of the caller's `traceparent`,
 * the handler run inside it (a stream's messages too). Put it outermost, so
 * the RPC's log line carries its ids.
 */
export function tracingServerInterceptor(service: string): Interceptor {
  return (next) => async (req) => {
    if (!tracing) return next(req);
    const { span, ctx } = startServerSpan(
      `${req.service.typeName}/${req.method.name}`,
      req.header,
      headerGetter,
      rpcAttributes(req.service.typeName, req.method.name, service),
    );
    return traced(span, ctx, () => next(req));
  };
}

/** The client side: a span per call, its `traceparent` sent with the request. */
export function tracingClientInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!tracing) return next(req);
    const span = trace.getTracer(TRACER).startSpan(`${req.service.typeName}/${req.method.name}`, {
      kind: SpanKind.CLIENT,
      attributes: rpcAttributes(req.service.typeName, req.method.name),
    });
    const ctx = trace.setSpan(context.active(), span);
    propagation.inject(ctx, req.header, headerSetter);
    return traced(span, ctx, () => next(req));
  };
}

function rpcAttributes(service: string, method: string, poolService?: string): Attributes {
  return {
    "rpc.system": "connect_rpc",
    "rpc.service": service,
    "rpc.method": method,
    ...(poolService ? { "pool.service": poolService } : {}),
  };
}

/** Runs the call in `ctx` and ends `span` with its outcome: a stream's when the stream ends. */
async function traced(
  span: Span,
  ctx: Context,
  call: () => Promise<UnaryResponse | StreamResponse>,
): Promise<UnaryResponse | StreamResponse> {
  const end = (err?: unknown) => {
    if (err !== undefined) failed(span, err);
    span.setAttribute("rpc.connect_rpc.code", err === undefined ? "ok" : codeToString(ConnectError.from(err).code));
    span.end();
  };
  let res: UnaryResponse | StreamResponse;
  try {
    res = await context.with(ctx, call);
  } catch (err) {
    end(err);
    throw err;
  }
  if (!res.stream) {
    end();
    return res;
  }
  // A stream's messages are made as they are read: each step runs in the span's context.
  const source = res.message[Symbol.asyncIterator]();
  let ended = false;
  const endOnce = (err?: unknown) => {
    if (ended) return;
    ended = true;
    end(err);
  };
  return {
    ...res,
    message: {
      [Symbol.asyncIterator]: () => ({
        async next() {
          try {
            const r = await context.with(ctx, () => source.next());
            if (r.done) endOnce();
            return r;
          } catch (err) {
            endOnce(err);
            throw err;
          }
        },
        async return(value?: unknown) {
          endOnce(new ConnectError("stream abandoned", Code.Canceled));
          return (await source.return?.(value)) ?? { done: true, value: undefined };
        },
      }),
    },
  };
}
