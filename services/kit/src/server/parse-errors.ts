// A request that does not decode is the caller's mistake, and the answer
// says where (docs/reliability.md). connect-es decodes before any
// interceptor sees the call, so startServer wraps every handler with this,
// which rewrites two of its answers, in each protocol (the Connect error
// body, the gRPC trailers, the gRPC-web trailer frame); nothing else is
// touched:
//
// - Protobuf that does not parse: connect-es answers INTERNAL ("parse
//   binary: …"), as if it were our fault. It becomes INVALID_ARGUMENT. No
//   field can be named (the bytes say nothing reliable about which field
//   they were meant to be), so the request message is, as a whole, as
//   protobuf-es does for JSON that does not parse: "cannot decode message
//   convos.pool.v1.ClaimRequest from binary: premature EOF".
// - JSON of the wrong shape inside the request: connect-es answers
//   INVALID_ARGUMENT, but protobuf-es names the nested message's type or an
//   enum's, not where it is ("cannot decode message convos.pool.v1.Signature
//   from JSON: false", and a request may hold several signatures). The body
//   read is kept while the call runs; on that answer the field is found in
//   it and named as every other invalid argument is: a BadRequest and
//   "owner_signature: cannot decode …". JSON that does not parse at all, or
//   is not an object, keeps protobuf-es's answer, which names the request
//   message.

import { gunzipSync } from "node:zlib";
import { fromJson, type DescField, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  createAsyncIterable,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { boundedError } from "./bounded-errors.js";
import { fieldViolations, invalidArgument } from "../content/errors.js";

const PARSE_BINARY = "parse binary:";
const CANNOT_DECODE = "cannot decode ";
const JSON_TYPES = /^application\/(json|grpc\+json|grpc-web\+json|connect\+json)(;|$)/i;

/**
 * The handler, with its answers to requests that do not decode rewritten as
 * above. `maxRequestBytes`: what connect-es reads of a request at most, and
 * so what is kept of a JSON one.
 */
export function parseErrorsAsInvalidArgument(handler: UniversalHandler, maxRequestBytes = Infinity): UniversalHandler {
  const schema = handler.method.input;
  const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const kept = keepJsonBody(req, maxRequestBytes);
    const fix = (err: ConnectError) => rewrite(err, schema, kept);
    let res: UniversalServerResponse;
    try {
      res = await handler(kept ? { ...req, body: kept.body } : req);
    } catch (err) {
      // connect-es could not write its gRPC answer: grpc-message is UTF-8, and protobuf-es
      // quotes short strings of the request, lone surrogates included. Answered here instead.
      const type = req.header.get("content-type") ?? "";
      const decoding = kept && /^application\/grpc/i.test(type) ? decodeError(schema, kept) : undefined;
      if (!decoding) throw err;
      return grpcAnswer(type, boundedError(fix(decoding) ?? decoding));
    }
    const type = res.header?.get("content-type") ?? "";
    if (res.status !== 200 && type.startsWith("application/json")) return connectError(res, fix);
    if (type.startsWith("application/grpc-web"))
      return { ...res, body: grpcWebTrailers(res.body, res.header?.get("grpc-encoding") ?? "", fix) };
    if (type.startsWith("application/grpc") && res.trailer)
      return { ...res, body: grpcTrailers(res.body, res.trailer, fix) };
    return res;
  };
  return Object.assign(wrapped, handler);
}

interface KeptBody {
  body: AsyncIterable<Uint8Array>;
  /** What connect-es read: all of the request, or (enveloped) at least its message. */
  bytes(): Buffer | undefined;
  /** gRPC's: messages in length-prefixed envelopes. */
  enveloped: boolean;
}

/** A JSON request's body, passed through to connect-es and kept (uncompressed ones only; up to `limit`). */
function keepJsonBody(req: UniversalServerRequest, limit: number): KeptBody | undefined {
  const type = req.header.get("content-type") ?? "";
  const body = req.body;
  if (
    !JSON_TYPES.test(type) ||
    req.header.has("content-encoding") ||
    body === null ||
    typeof body !== "object" ||
    !(Symbol.asyncIterator in body)
  )
    return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  let whole = false;
  async function* tee(): AsyncIterable<Uint8Array> {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size <= limit + 5) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      yield chunk;
    }
    whole = true;
  }
  const enveloped = !/^application\/json/i.test(type);
  return {
    body: tee(),
    // gRPC's message is read once its envelope is complete, maybe before the stream ends.
    bytes: () => ((whole || enveloped) && size <= limit + 5 ? Buffer.concat(chunks) : undefined),
    enveloped,
  };
}

/** The answer rewritten, or undefined to leave it as it is. */
function rewrite(err: ConnectError, schema: DescMessage, kept: KeptBody | undefined): ConnectError | undefined {
  if (err.code === Code.Internal && err.rawMessage.startsWith(PARSE_BINARY)) {
    return new ConnectError(
      `cannot decode message ${schema.typeName} from binary: ${err.rawMessage.slice(PARSE_BINARY.length).trim()}`,
      Code.InvalidArgument,
    );
  }
  if (
    err.code !== Code.InvalidArgument ||
    !err.rawMessage.startsWith(CANNOT_DECODE) ||
    fieldViolations(err).length > 0 ||
    !kept
  )
    return undefined;
  const json = jsonOf(kept);
  const field = json === undefined ? undefined : failingField(schema, json, "");
  return field === undefined ? undefined : boundedError(invalidArgument(field, err.rawMessage));
}

/** The error decoding the kept JSON request gives, if it does not decode. */
function decodeError(schema: DescMessage, kept: KeptBody): ConnectError | undefined {
  const json = jsonOf(kept);
  if (json === undefined) return undefined;
  try {
    fromJson(schema, json, { ignoreUnknownFields: true });
    return undefined;
  } catch (e) {
    return ConnectError.from(e, Code.InvalidArgument);
  }
}

/** The request's JSON, if it parses. */
function jsonOf(kept: KeptBody): JsonValue | undefined {
  let bytes = kept.bytes();
  if (bytes === undefined) return undefined;
  if (kept.enveloped) {
    // One message: flags (compressed: not kept), length, then the message.
    if (bytes.length < 5 || (bytes.readUInt8(0) & 0b1) !== 0 || bytes.length < 5 + bytes.readUInt32BE(1))
      return undefined;
    bytes = bytes.subarray(5, 5 + bytes.readUInt32BE(1));
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as JsonValue;
  } catch {
    return undefined;
  }
}

const decodes = (schema: DescMessage, json: JsonValue) => {
  try {
    fromJson(schema, json, { ignoreUnknownFields: true });
    return true;
  } catch {
    return false;
  }
};

const isObject = (v: JsonValue): v is { [k: string]: JsonValue } =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The path of the first field of `json` that does not decode as `schema`
 * (proto names, `events[2].at`), or undefined when the value is not an
 * object: then no field of it is to blame.
 */
function failingField(schema: DescMessage, json: JsonValue, at: string): string | undefined {
  if (!isObject(json)) return undefined;
  const path = (f: { name: string }) => (at === "" ? f.name : `${at}.${f.name}`);
  const seen = new Map<DescField, number>();
  for (const [key, value] of Object.entries(json)) {
    const f = schema.fields.find((x) => x.name === key || x.jsonName === key);
    if (!f) continue; // unknown fields are ignored
    seen.set(f, (seen.get(f) ?? 0) + 1);
    if (decodes(schema, { [key]: value })) continue;
    return inside(f, value, path(f)) ?? path(f);
  }
  // Each field decodes alone: one set twice (by its proto and JSON names), or two of a oneof.
  for (const [f, n] of seen) if (n > 1) return path(f);
  for (const o of schema.oneofs) if (o.fields.filter((f) => seen.has(f)).length > 1) return path(o);
  return undefined;
}

/** Where inside a field's value the fault is: the list item, the map entry, the nested field. */
function inside(f: DescField, value: JsonValue, at: string): string | undefined {
  if (f.fieldKind === "message" && !f.message.typeName.startsWith("google.protobuf."))
    return failingField(f.message, value, at);
  if (f.fieldKind === "list" && Array.isArray(value)) {
    const i = value.findIndex((item) => !decodes(f.parent, { [f.jsonName]: [item] }));
    const bad = value[i];
    if (bad === undefined) return undefined;
    const item = `${at}[${i}]`;
    return (
      (f.listKind === "message" && !f.message.typeName.startsWith("google.protobuf.")
        ? failingField(f.message, bad, item)
        : undefined) ?? item
    );
  }
  if (f.fieldKind === "map" && isObject(value)) {
    const bad = Object.entries(value).find(([k, v]) => !decodes(f.parent, { [f.jsonName]: { [k]: v } }));
    if (bad === undefined) return undefined;
    const [key, v] = bad;
    const entry = `${at}.${key}`;
    return (f.mapKind === "message" ? failingField(f.message, v, entry) : undefined) ?? entry;
  }
  return undefined;
}

// ---- the answer, in each protocol

async function bytesOf(body: UniversalServerResponse["body"]): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Connect unary: the error is the JSON body. */
async function connectError(
  res: UniversalServerResponse,
  fix: (err: ConnectError) => ConnectError | undefined,
): Promise<UniversalServerResponse> {
  const bytes = await bytesOf(res.body);
  const unchanged = { ...res, body: createAsyncIterable([bytes]) };
  let err: ConnectError;
  try {
    err = errorFromJsonBytes(bytes, undefined, new ConnectError("not an error body"));
  } catch {
    return unchanged; // not an error body of ours: as it was
  }
  const fixed = fix(err);
  if (!fixed) return unchanged;
  const body = errorToJsonBytes(fixed, {});
  const header = new Headers(res.header);
  if (header.has("content-length")) header.set("content-length", String(body.length));
  return { ...res, status: codeToHttpStatus(fixed.code), header, body: createAsyncIterable([body]) };
}

/** gRPC: the status is in the trailers, which are complete once the body has ended. */
async function* grpcTrailers(
  body: UniversalServerResponse["body"],
  trailer: Headers,
  fix: (err: ConnectError) => ConnectError | undefined,
): AsyncIterable<Uint8Array> {
  if (body) yield* body;
  try {
    const err = findTrailerError(trailer);
    const fixed = err && fix(err);
    if (fixed) setStatus(trailer, fixed);
  } catch {
    // trailers this cannot read: as they were
  }
}

/**
 * gRPC-web: the trailers are the body's last frame (flag 0x80, length,
 * `name: value` lines), gzipped when large and the client accepts it (flag
 * 0x01 too); a rewritten one goes uncompressed.
 */
async function* grpcWebTrailers(
  body: UniversalServerResponse["body"],
  encoding: string,
  fix: (err: ConnectError) => ConnectError | undefined,
): AsyncIterable<Uint8Array> {
  for await (const chunk of body ?? [])
    yield ((chunk[0] ?? 0) & trailerFlag) !== 0 && chunk.length >= 5
      ? (rewriteTrailerFrame(chunk, encoding, fix) ?? chunk)
      : chunk;
}

function rewriteTrailerFrame(
  frame: Uint8Array,
  encoding: string,
  fix: (err: ConnectError) => ConnectError | undefined,
): Uint8Array | undefined {
  try {
    let payload = frame.subarray(5);
    if (((frame[0] ?? 0) & 0b1) !== 0) {
      if (encoding !== "gzip") return undefined; // no other encoding is offered (connect-node's default)
      payload = gunzipSync(payload);
    }
    const trailer = trailerParse(payload);
    const err = findTrailerError(trailer);
    const fixed = err && fix(err);
    if (!fixed) return undefined;
    setStatus(trailer, fixed);
    return trailerFrame(trailer);
  } catch {
    return undefined; // not a frame this can read: as it was
  }
}

/** A whole gRPC or gRPC-web answer of one error: no message, the status in the trailers. */
function grpcAnswer(contentType: string, err: ConnectError): UniversalServerResponse {
  const trailer = setTrailerStatus(new Headers(), err);
  const header = new Headers({ "content-type": contentType });
  if (!/^application\/grpc-web/i.test(contentType))
    return { status: 200, header, trailer, body: createAsyncIterable([]) };
  return { status: 200, header, body: createAsyncIterable([trailerFrame(trailer)]) };
}

/** A gRPC-web trailer frame, uncompressed. */
function trailerFrame(trailer: Headers): Uint8Array {
  const text = trailerSerialize(trailer);
  const frame = Buffer.alloc(5 + text.length);
  frame[0] = trailerFlag;
  frame.writeUInt32BE(text.length, 1);
  frame.set(text, 5);
  return frame;
}

function setStatus(trailer: Headers, err: ConnectError): void {
  trailer.delete("grpc-status-details-bin");
  setTrailerStatus(trailer, err);
}
