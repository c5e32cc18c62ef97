// Bad input for the fuzz tests (docs/reliability.md), shared by every one of
// them: the gateway's (REST and RPC through it), the services' own RPCs
// (services/dev/src/fuzz-services.system.test.ts) and the instance host's. Test-only:
// it imports fast-check, so it is its own entry (@convos-pool/testing/fuzz),
// not part of @convos-pool/testing.
//
// The inputs: wrong types on the pool's field names, huge (200 KB, 1.1 MB)
// and empty strings, unknown enum numbers, invalid UTF-8, lone surrogates,
// JSON 1,000 to 20,000 levels deep, duplicate keys, truncated JSON, random
// bytes as protobuf; and, for an RPC whose request message is known, JSON and protobuf
// of that message's own fields with odd values, whole or cut short, so that
// the input gets past decoding to the service's own checks.
//
// And the check of an answer: an INVALID_ARGUMENT names what is wrong
// (fieldNameProblem).
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, type ConnectError } from "@connectrpc/connect";
import { fc } from "@fast-check/vitest";
import { BadRequestSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";

/** Inputs per route or method; FUZZ_RUNS in the environment, default 25. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 25);

/** Field names the pool's REST bodies and messages use, so generated objects hit real fields with wrong values. */
export const POOL_FIELDS = [
  "requester",
  "templateId",
  "template_id",
  "conversationInvite",
  "conversationId",
  "model",
  "userConfig",
  "signature",
  "ownerSignature",
  "pinned",
  "trustLevel",
  "dailySpendLimitWei",
  "creator_id",
  "creatorId",
  "agent_name",
  "instructions",
  "tools",
  "visibility",
  "version",
  "inbox_id",
  "inboxId",
  "newOwnerId",
  "idempotencyKey",
  "cloneFrom",
  "carry",
  "query",
  "pageSize",
  "pageToken",
  "instanceId",
  "content",
  "expectedVersion",
  "issued_at",
  "issuedAt",
  "nonce",
  "max_trust_level",
  "soul",
  "category",
  "tags",
  "sort",
  "limit",
  "cursor",
] as const;

export const huge = fc.constantFrom(200_000, 1_100_000).map((n) => "x".repeat(n));
/** A well-formed id of nothing that exists. */
export const UNKNOWN_TEMPLATE_ID = "tmpl_AAAAAAAAAAAAAAAA";
export const oddString = fc.oneof(
  fc.string(),
  fc.constant(""),
  huge,
  fc.string({ unit: "binary" }),
  fc.constantFrom("\u0000", "\ud800"),
  fc.constant(UNKNOWN_TEMPLATE_ID),
);
/** Numbers no enum of the pool defines, and out-of-range versions and counts. */
export const oddNumber = fc.constantFrom(2 ** 53, -1, 99999, Number.MAX_SAFE_INTEGER, 2 ** 31, -(2 ** 31) - 1);
export const oddValue = fc.oneof(
  oddString,
  fc.integer(),
  oddNumber,
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.anything(), { maxKeys: 5 }),
);

/** An object of odd values on these field names. */
export function wrongFields(fields: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fc.constantFrom(...fields), oddValue, { minKeys: 1, maxKeys: 6 });
}

/** A raw request body: JSON of every odd shape, and bytes that are not JSON at all. */
export function rawBodies(fields: readonly string[]): fc.Arbitrary<string | Uint8Array | undefined> {
  const wrong = wrongFields(fields);
  const [a = "a", b = a, c = a] = fields;
  return fc.oneof(
    fc.constant(undefined),
    wrong.map((o) => JSON.stringify(o)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.integer({ min: 1_000, max: 20_000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`), // deep
    fc.integer({ min: 1_000, max: 5_000 }).map((n) => `${`{"${a}":`.repeat(n)}1${"}".repeat(n)}`),
    fc.constantFrom(a, b, c).map((f) => `{"${f}":"a","${f}":"b"}`), // duplicate keys
    fc
      .uint8Array({ maxLength: 64 })
      .map((bytes) =>
        Buffer.concat([Buffer.from(`{"${a}":"`), Buffer.from([0xff, 0xfe, ...bytes]), Buffer.from('"}')]),
      ), // invalid UTF-8
    wrong.map((o) => JSON.stringify(o).slice(0, -3)), // truncated
    fc.uint8Array({ maxLength: 256 }),
  );
}

// ---------------------------------------------------------------- one message's own fields

/** The names a message's fields go by in JSON (JSON name and proto name). */
export function fieldNames(schema: DescMessage): string[] {
  return [...new Set(schema.fields.flatMap((f) => [f.jsonName, f.name]))];
}

const oddUtf8 = fc.oneof(
  oddString.map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from([0xff, 0xfe, ...b])), // invalid UTF-8
  fc.constant(Buffer.from([0xc3])), // a sequence cut short
);
const oddVarint = fc.oneof(
  oddNumber.map(BigInt),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(0n, 1n),
);

type Kind = "string" | "bytes" | "varint" | "fixed32" | "fixed64" | "message";

function kindOf(f: DescField): Kind {
  if (f.fieldKind === "message" || f.fieldKind === "map" || (f.fieldKind === "list" && f.listKind === "message"))
    return "message";
  if (f.fieldKind === "enum" || (f.fieldKind === "list" && f.listKind === "enum")) return "varint";
  const scalar = f.fieldKind === "scalar" || f.fieldKind === "list" ? f.scalar : ScalarType.STRING;
  switch (scalar) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BYTES:
      return "bytes";
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return "fixed32";
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.DOUBLE:
      return "fixed64";
    default:
      return "varint";
  }
}

const WIRE: Record<Kind, WireType> = {
  string: WireType.LengthDelimited,
  bytes: WireType.LengthDelimited,
  message: WireType.LengthDelimited,
  varint: WireType.Varint,
  fixed32: WireType.Bit32,
  fixed64: WireType.Bit64,
};

/** One field in protobuf: its own wire type with an odd value (nested messages two levels deep), or a wrong wire type. */
function protoField(f: DescField, depth: number): fc.Arbitrary<Uint8Array> {
  const kind = kindOf(f);
  const nested =
    f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message") ? f.message : undefined;
  const payload: fc.Arbitrary<(w: BinaryWriter) => void> = (() => {
    switch (kind) {
      case "string":
        return oddUtf8.map((b) => (w: BinaryWriter) => w.bytes(b));
      case "bytes":
        return fc
          .oneof(
            fc.uint8Array({ maxLength: 64 }),
            huge.map((s) => Buffer.from(s)),
          )
          .map((b) => (w: BinaryWriter) => w.bytes(b));
      case "varint":
        return oddVarint.map((v) => (w: BinaryWriter) => w.int64(v));
      case "fixed32":
        return fc.integer().map((v) => (w: BinaryWriter) => w.sfixed32(v));
      case "fixed64":
        return oddVarint.map((v) => (w: BinaryWriter) => w.sfixed64(v));
      case "message":
        return (
          nested && depth < 2
            ? fc.oneof(protoMessage(nested, depth + 1), fc.uint8Array({ maxLength: 64 }))
            : fc.uint8Array({ maxLength: 64 })
        ).map((b) => (w: BinaryWriter) => w.bytes(b));
    }
  })();
  const right = payload.map((write) => {
    const w = new BinaryWriter().tag(f.number, WIRE[kind]);
    write(w);
    return w.finish();
  });
  const wrongWire = fc
    .constantFrom(WireType.Varint, WireType.Bit64, WireType.LengthDelimited, WireType.StartGroup, WireType.Bit32)
    .filter((t) => t !== WIRE[kind])
    .chain((t) =>
      fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.concat([new BinaryWriter().tag(f.number, t).finish(), b])),
    );
  return fc.oneof({ arbitrary: right, weight: 4 }, { arbitrary: wrongWire, weight: 1 });
}

/** A message's own fields in protobuf, each with an odd value (repeated fields repeated). */
export function protoMessage(schema: DescMessage, depth = 0): fc.Arbitrary<Uint8Array> {
  if (schema.fields.length === 0) return fc.uint8Array({ maxLength: 32 });
  return fc
    .array(
      fc.constantFrom(...schema.fields).chain((f) => protoField(f, depth)),
      { minLength: 1, maxLength: 6 },
    )
    .map((parts) => Buffer.concat(parts));
}

/** Protobuf for a request: its own fields with odd values, whole or cut short, and random bytes. */
export function protoBodies(schema: DescMessage): fc.Arbitrary<Uint8Array> {
  const own = protoMessage(schema);
  return fc.oneof(
    own,
    own.chain((b) => fc.integer({ min: 0, max: Math.max(0, b.length - 1) }).map((n) => b.subarray(0, n))), // truncated
    fc.uint8Array({ maxLength: 512 }),
  );
}

/** A JSON value of the field's own type with odd contents: it decodes, and reaches the service's checks. */
function jsonField(f: DescField, depth: number): fc.Arbitrary<unknown> {
  const one = (kind: Kind, message: DescMessage | undefined): fc.Arbitrary<unknown> => {
    switch (kind) {
      case "string":
        return oddString;
      case "bytes":
        return fc.oneof(fc.base64String({ maxLength: 64 }), fc.constant(""));
      case "message":
        return message && depth < 2 ? jsonMessage(message, depth + 1) : fc.constant({});
      default:
        return f.fieldKind === "enum" || (f.fieldKind === "list" && f.listKind === "enum")
          ? fc.constantFrom(99999, -1, 2 ** 31 - 1)
          : oddVarint.map((v) =>
              v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString(),
            );
    }
  };
  const kind = kindOf(f);
  if (f.fieldKind === "list")
    return fc.array(one(kind, f.listKind === "message" ? f.message : undefined), { maxLength: 3 });
  if (f.fieldKind === "map")
    return fc.dictionary(
      oddString.map((s) => s.slice(0, 40)),
      f.mapKind === "message" ? one("message", f.message) : fc.oneof(oddString, fc.integer()),
      { maxKeys: 3 },
    );
  return one(kind, f.fieldKind === "message" ? f.message : undefined);
}

/** A message's own fields in JSON, each with an odd value of its own type. */
export function jsonMessage(schema: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  if (schema.fields.length === 0) return fc.constant({});
  return fc
    .uniqueArray(fc.constantFrom(...schema.fields), { minLength: 1, maxLength: 6, selector: (f) => f.number })
    .chain((fields) => fc.tuple(...fields.map((f) => jsonField(f, depth).map((v) => [f.jsonName, v] as const))))
    .map((entries) => Object.fromEntries(entries));
}

export interface RpcBody {
  type: "application/json" | "application/proto";
  body: string | Uint8Array;
}

/** Every kind of bad request body for one RPC (Connect unary: JSON or protobuf). */
export function rpcBodies(schema: DescMessage, extraFields: readonly string[] = []): fc.Arbitrary<RpcBody> {
  const found = [...new Set([...fieldNames(schema), ...extraFields])];
  const names = found.length > 0 ? found : ["a"];
  const json = (a: fc.Arbitrary<string | Uint8Array | undefined>) =>
    a.map((body): RpcBody => ({ type: "application/json", body: body ?? "" }));
  return fc.oneof(
    json(jsonMessage(schema).map((o) => JSON.stringify(o))),
    json(wrongFields(names).map((o) => JSON.stringify(o))),
    json(rawBodies(names)),
    protoBodies(schema).map((body): RpcBody => ({ type: "application/proto", body })),
  );
}

// ---------------------------------------------------------------- the answer names the field

/**
 * Whether an error names what is wrong; undefined when it does, else why
 * not. Only INVALID_ARGUMENT must (docs/reliability.md, "What an invalid
 * argument names"): every field violation detail names a field path of the
 * request (`content.tools[1].prompt`, `user_config.<key>`; proto or JSON
 * names, a oneof's own name) or one of `headers`, request headers the
 * service reads as fields (the instance host's `x-pool-instance`). Without
 * details, the message names a field of the request as protobuf-es does
 * (`cannot decode field convos.pool.v1.X.name`), or the request message as
 * a whole when it does not decode at all (`cannot decode message
 * convos.pool.v1.ClaimRequest from binary: …`).
 */
export function fieldNameProblem(
  schema: DescMessage,
  err: ConnectError,
  opts: { headers?: readonly string[] } = {},
): string | undefined {
  if (err.code !== Code.InvalidArgument) return undefined;
  const violations = err.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations);
  if (violations.length > 0) {
    const bad = violations.filter((v) => !isFieldPath(schema, v.field) && !opts.headers?.includes(v.field));
    return bad.length === 0
      ? undefined
      : `field violation names no field of ${schema.typeName}: ${bad.map((v) => JSON.stringify(v.field)).join(", ")}`;
  }
  const message = err.rawMessage;
  const field = /^cannot decode field ([\w.]+)\.(\w+) from JSON/.exec(message);
  if (field && messagesOf(schema).some((m) => m.typeName === field[1] && m.fields.some((f) => f.name === field[2])))
    return undefined;
  if (new RegExp(`\\bmessage ${schema.typeName.replace(/\./g, "\\.")}\\b`).test(message)) return undefined;
  return `INVALID_ARGUMENT without a field violation or a field of ${schema.typeName} in its message: ${JSON.stringify(message.slice(0, 200))}`;
}

/** `a.b[2].c`, `user_config.<key>` through the message's fields (proto or JSON names; a oneof's own name too). */
export function isFieldPath(schema: DescMessage, path: string): boolean {
  const segments = path.replace(/\[[^\]]*\]/g, "").split(".");
  let at: DescMessage | undefined = schema;
  for (let i = 0; i < segments.length; i++) {
    const name = segments[i]!;
    if (!at || name === "") return false;
    const f: DescField | undefined = at.fields.find((x) => x.name === name || x.jsonName === name);
    if (!f) return i === segments.length - 1 && at.oneofs.some((o) => o.name === name || o.localName === name);
    if (f.fieldKind === "map") {
      // The next segment is a key, whatever it holds; a message value's fields follow it.
      if (f.mapKind !== "message" || i + 1 >= segments.length - 1) return true;
      i++;
      at = f.message;
      continue;
    }
    at =
      f.fieldKind === "message"
        ? f.message
        : f.fieldKind === "list" && f.listKind === "message"
          ? f.message
          : undefined;
    if (i < segments.length - 1 && !at) return false;
  }
  return true;
}

/** The message and every message type under it. */
function messagesOf(schema: DescMessage, seen = new Set<DescMessage>()): DescMessage[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  for (const f of schema.fields) {
    const m =
      f.fieldKind === "message"
        ? f.message
        : f.fieldKind === "list" && f.listKind === "message"
          ? f.message
          : f.fieldKind === "map" && f.mapKind === "message"
            ? f.message
            : undefined;
    if (m) messagesOf(m, seen);
  }
  return [...seen];
}
