/**
 * Just enough of the protobuf wire format to handle identity updates as opaque
 * bytes: the node must store and return an `IdentityUpdate` exactly as the
 * client sent it, so it is cut out of the request and spliced into responses
 * without a decode/encode round trip (which could reorder or drop fields).
 */

export class WireError extends Error {}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export interface WireField {
  field: number;
  wireType: number;
  /** For length-delimited fields: the payload bytes (a view, not a copy). */
  bytes?: Uint8Array;
  /** For varint fields. */
  varint?: bigint;
}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos++];
    if (b === undefined) throw new WireError("truncated varint");
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new WireError("varint longer than 10 bytes");
}

/** The top-level fields of one protobuf message, in wire order. Throws WireError on malformed input. */
export function readFields(buf: Uint8Array): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    pos = afterKey;
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new WireError("field number 0");
    switch (wireType) {
      case WIRE_VARINT: {
        const [v, next] = readVarint(buf, pos);
        out.push({ field, wireType, varint: v });
        pos = next;
        break;
      }
      case WIRE_I64:
        if (pos + 8 > buf.length) throw new WireError("truncated fixed64");
        out.push({ field, wireType, bytes: buf.subarray(pos, pos + 8) });
        pos += 8;
        break;
      case WIRE_LEN: {
        const [len, next] = readVarint(buf, pos);
        const end = next + Number(len);
        if (len > BigInt(buf.length) || end > buf.length) throw new WireError("truncated length-delimited field");
        out.push({ field, wireType, bytes: buf.subarray(next, end) });
        pos = end;
        break;
      }
      case WIRE_I32:
        if (pos + 4 > buf.length) throw new WireError("truncated fixed32");
        out.push({ field, wireType, bytes: buf.subarray(pos, pos + 4) });
        pos += 4;
        break;
      default:
        // Groups (3, 4) are long deprecated and never used by XMTP's protos.
        throw new WireError(`unsupported wire type ${wireType}`);
    }
  }
  return out;
}

/** A small protobuf writer: varints, length-delimited bytes and strings. */
export class WireWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }

  private varintBytes(v: bigint): Uint8Array {
    const bytes: number[] = [];
    let x = v;
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) b |= 0x80;
      bytes.push(b);
    } while (x > 0n);
    return Uint8Array.from(bytes);
  }

  /** A uint64 field; zero is omitted (proto3 default). */
  uint64(field: number, v: bigint): this {
    if (v === 0n) return this;
    this.push(this.varintBytes(BigInt((field << 3) | WIRE_VARINT)));
    return this.push(this.varintBytes(v));
  }

  /** A length-delimited field (bytes, string or an already encoded message); always written. */
  bytes(field: number, b: Uint8Array): this {
    this.push(this.varintBytes(BigInt((field << 3) | WIRE_LEN)));
    this.push(this.varintBytes(BigInt(b.length)));
    return this.push(b);
  }

  /** A string field; empty is omitted (proto3 default). */
  string(field: number, s: string): this {
    if (s === "") return this;
    return this.bytes(field, Buffer.from(s, "utf8"));
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}
