/**
 * TEST HELPERS. The node's gRPC API as a plain @grpc/grpc-js client calls it,
 * with bytes in and out (the tests encode and decode with proto.js, or by
 * hand): a client of the node, a unary call, and a server stream that keeps
 * what it receives and how it ended.
 */
import * as grpc from "@grpc/grpc-js";

const asBuffer = (b: Uint8Array) => Buffer.from(b);
const raw = (b: Buffer) => b;

/** A client of the node at `url` (`http://host:port`), over HTTP/2 cleartext. */
export const plainClient = (url: string) =>
  new grpc.Client(url.replace("http://", ""), grpc.credentials.createInsecure());

/** The answer's bytes, or the call's error (a grpc.ServiceError). */
export function unaryCall(client: grpc.Client, path: string, request: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(path, asBuffer, raw, request, (err, res) => (err ? reject(err) : resolve(res!))),
  );
}

/** A server stream's messages, each decoded as it comes, and its final status once it ended (by the node, or cancelled). */
export function serverStream<T>(client: grpc.Client, path: string, request: Uint8Array, decode: (b: Buffer) => T) {
  const items: T[] = [];
  let ended: grpc.StatusObject | undefined;
  const stream = client.makeServerStreamRequest(path, asBuffer, raw, request);
  stream.on("data", (b: Buffer) => items.push(decode(b)));
  // An error is told by the status that follows it.
  stream.on("error", () => {});
  stream.on("status", (s: grpc.StatusObject) => (ended ??= s));
  return {
    items,
    get ended() {
      return ended;
    },
    cancel: () => stream.cancel(),
  };
}
