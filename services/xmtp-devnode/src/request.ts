/** Reading a request's bytes, for the handlers of both APIs. */
import type { Codec } from "./proto.js";
import { invalidArgument } from "./rpc-error.js";

/** The request decoded, or INVALID_ARGUMENT naming what could not be. */
export function decode<T>(codec: Codec<T>, bytes: Uint8Array, what: string): T {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw invalidArgument(`cannot decode ${what}: ${(err as Error).message}`);
  }
}

/** Bytes as the hex of a topic or a map key. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** The same bytes as a Buffer, without a copy. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
