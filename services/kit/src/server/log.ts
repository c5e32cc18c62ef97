// Structured logs: one JSON object per line on stderr, no dependencies.
// Secrets must never reach a log line (docs/architecture.md, "Security model"), so every field
// whose key looks like a secret is replaced before the line is written.

import { Code, ConnectError, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { activeTraceIds } from "./tracing.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly name: string;
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Default: env LOG_LEVEL, else "info". */
  level?: LogLevel;
  /** Where lines go (without trailing newline). Default: process.stderr. Tests capture here. */
  sink?: (line: string) => void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Keys whose values are replaced by "[redacted]", at any depth. */
export const SECRET_KEY_PATTERN = /secret|token|password|signature|authorization|private|key|credential|cookie/i;
export const REDACTED = "[redacted]";

function levelFromEnv(): LogLevel {
  const v = process.env.LOG_LEVEL?.trim().toLowerCase();
  return v !== undefined && v in RANK ? (v as LogLevel) : "info";
}

export function createLogger(name: string, opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? levelFromEnv();
  const sink = opts.sink ?? ((line: string) => void process.stderr.write(`${line}\n`));
  return makeLogger(name, level, sink, {});
}

function makeLogger(name: string, level: LogLevel, sink: (line: string) => void, base: LogFields): Logger {
  const min = RANK[level];
  const withStack = level === "debug";
  const emit = (lvl: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return;
    const entry = {
      time: new Date().toISOString(),
      level: lvl,
      name,
      msg,
      // A line written inside a span names it, so that a trace and its lines find each other (tracing.ts).
      ...activeTraceIds(),
      ...(sanitize({ ...base, ...fields }, withStack, new WeakSet()) as LogFields),
    };
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ time: entry.time, level: lvl, name, msg, logError: "fields not serializable" });
    }
    sink(line);
  };
  return {
    name,
    level,
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => makeLogger(name, level, sink, { ...base, ...fields }),
  };
}

/** Makes a value JSON-safe: redacts secret keys, flattens errors, cuts cycles. */
function sanitize(value: unknown, withStack: boolean, seen: WeakSet<object>): unknown {
  if (value === null || value === undefined) return value;
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "function":
    case "symbol":
      return undefined;
    case "object":
      break;
    default:
      return value;
  }
  const obj = value;
  if (seen.has(obj)) return "[circular]";
  seen.add(obj);
  try {
    if (obj instanceof Error) return errorFields(obj, withStack, seen);
    if (obj instanceof Date) return obj.toISOString();
    // Raw bytes are never useful in a log line and may be key material.
    if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return `[${obj.byteLength} bytes]`;
    if (Array.isArray(obj)) return obj.map((v) => sanitize(v, withStack, seen));
    if (obj instanceof Map) return sanitize(Object.fromEntries(obj), withStack, seen);
    if (obj instanceof Set) return sanitize([...obj], withStack, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      out[k] = SECRET_KEY_PATTERN.test(k) ? REDACTED : sanitize(v, withStack, seen);
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

function errorFields(err: Error, withStack: boolean, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  if (err instanceof ConnectError) {
    out.message = err.rawMessage;
    out.code = codeToString(err.code);
  } else {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" || typeof code === "number") out.code = code;
  }
  if (withStack && err.stack) out.stack = err.stack;
  if (err.cause !== undefined) out.cause = sanitize(err.cause, withStack, seen);
  return out;
}

/** Codes that mean the server failed, not the caller: logged at error level. */
const SERVER_FAULTS = new Set<Code>([Code.Unknown, Code.Internal, Code.DataLoss, Code.Unimplemented]);
const HEALTH_SERVICE = "grpc.health.v1.Health";

export interface LoggingOptions {
  /**
   * Procedures (`package.Service/Method`) that other services poll, logged at
   * debug level when they succeed, as health probes are: the warm pool's
   * ListInstances on every host every 5 s would otherwise be most of a
   * host's log. A failure is logged as any other.
   */
  routine?: readonly string[];
}

/**
 * One line per RPC: procedure, protocol, code and duration. Never bodies.
 * Health probes are logged at debug level (they arrive every few seconds),
 * and so are the successful calls of `routine` procedures.
 * Streaming calls are logged when their response stream ends.
 */
export function loggingInterceptor(log: Logger, opts: LoggingOptions = {}): Interceptor {
  const routine = new Set(opts.routine ?? []);
  return (next) => async (req) => {
    const started = performance.now();
    const procedure = `${req.service.typeName}/${req.method.name}`;
    const contentType = req.header.get("content-type") ?? "";
    const protocol = contentType.startsWith("application/grpc-web")
      ? "grpc-web"
      : contentType.startsWith("application/grpc")
        ? "grpc"
        : "connect";
    const done = (err?: unknown) => {
      const code = err === undefined ? "ok" : codeToString(ConnectError.from(err).code);
      const fields: LogFields = {
        procedure,
        protocol,
        code,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      };
      if (err !== undefined) fields.error = err;
      if (req.service.typeName === HEALTH_SERVICE || (err === undefined && routine.has(procedure)))
        log.debug("rpc", fields);
      else if (err !== undefined && SERVER_FAULTS.has(ConnectError.from(err).code)) log.error("rpc", fields);
      else log.info("rpc", fields);
    };
    let res: UnaryResponse | StreamResponse;
    try {
      res = await next(req);
    } catch (err) {
      done(err);
      throw err;
    }
    if (!res.stream) {
      done();
      return res;
    }
    // Streaming: the call ends when the response stream ends (or is abandoned).
    const source = res.message;
    return {
      ...res,
      message: (async function* () {
        let outcome: { err?: unknown } | undefined;
        try {
          yield* source;
          outcome = {};
        } catch (err) {
          outcome = { err };
          throw err;
        } finally {
          done(outcome ? outcome.err : new ConnectError("stream abandoned", Code.Canceled));
        }
      })(),
    };
  };
}
