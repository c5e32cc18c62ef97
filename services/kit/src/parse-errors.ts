// A request whose protobuf cannot be parsed is the caller's mistake:
// INVALID_ARGUMENT. connect-es answers it with INTERNAL ("parse binary: …",
// from its binary serialization, before any interceptor sees the call), as
// if it were our fault; a JSON body that does not parse is INVALID_ARGUMENT
// already. startServer wraps every handler with this, which rewrites that one
// answer in each protocol: the Connect error body, the gRPC trailers and the
// gRPC-web trailer frame. Nothing else is touched.

import { Code } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalHandler, type UniversalServerResponse } from "@connectrpc/connect/protocol";

const PARSE_BINARY = "parse binary:";
const GRPC_INTERNAL = String(Code.Internal);
const GRPC_INVALID_ARGUMENT = String(Code.InvalidArgument);

export function parseErrorsAsInvalidArgument(handler: UniversalHandler): UniversalHandler {
  const wrapped = async (req: Parameters<UniversalHandler>[0]): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    const type = res.header?.get("content-type") ?? "";
    if (res.status === 500 && type.startsWith("application/json")) return connectError(res);
    if (type.startsWith("application/grpc-web")) return { ...res, body: grpcWebTrailers(res.body) };
    if (type.startsWith("application/grpc") && res.trailer) return { ...res, body: grpcTrailers(res.body, res.trailer) };
    return res;
  };
  return Object.assign(wrapped, handler);
}

async function bytesOf(body: UniversalServerResponse["body"]): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Connect unary: HTTP 500 with `{"code":"internal","message":"parse binary: …"}`. */
async function connectError(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const bytes = await bytesOf(res.body);
  try {
    const err = JSON.parse(Buffer.from(bytes).toString("utf8")) as { code?: string; message?: string };
    if (err.code === "internal" && err.message?.startsWith(PARSE_BINARY)) {
      const fixed = Buffer.from(JSON.stringify({ ...err, code: "invalid_argument" }));
      const header = new Headers(res.header);
      if (header.has("content-length")) header.set("content-length", String(fixed.length));
      return { ...res, status: 400, header, body: createAsyncIterable([fixed]) };
    }
  } catch {
    // not an error body of ours: as it was
  }
  return { ...res, body: createAsyncIterable([bytes]) };
}

const parseFailure = (status: string | null, message: string | null) =>
  status === GRPC_INTERNAL && decodeURIComponent(message ?? "").startsWith(PARSE_BINARY);

/** gRPC: the status is in the trailers, which are complete once the body has ended. */
async function* grpcTrailers(body: UniversalServerResponse["body"], trailer: Headers): AsyncIterable<Uint8Array> {
  if (body) yield* body;
  if (parseFailure(trailer.get("grpc-status"), trailer.get("grpc-message"))) trailer.set("grpc-status", GRPC_INVALID_ARGUMENT);
}

/** gRPC-web: the trailers are the body's last frame (flag 0x80, length, `name: value` lines). */
async function* grpcWebTrailers(body: UniversalServerResponse["body"]): AsyncIterable<Uint8Array> {
  const chunks = body ?? [];
  for await (const chunk of chunks) {
    if (chunk.length < 5 || (chunk[0]! & 0x80) === 0) {
      yield chunk;
      continue;
    }
    const text = Buffer.from(chunk.subarray(5)).toString("latin1");
    const field = (name: string) => new RegExp(`^${name}: ?(.*)\\r$`, "mi").exec(text)?.[1] ?? null;
    if (!parseFailure(field("grpc-status"), field("grpc-message"))) {
      yield chunk;
      continue;
    }
    const fixed = Buffer.from(text.replace(/^grpc-status: ?13\r$/im, `grpc-status: ${GRPC_INVALID_ARGUMENT}\r`), "latin1");
    const frame = Buffer.alloc(5 + fixed.length);
    frame[0] = chunk[0]!;
    frame.writeUInt32BE(fixed.length, 1);
    fixed.copy(frame, 5);
    yield frame;
  }
}
