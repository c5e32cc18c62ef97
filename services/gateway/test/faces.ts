/**
 * TEST HELPER. One request on two faces (docs/rest.md, "One contract, every
 * face"): values of an RPC's request generated from its proto descriptor
 * (each field by its type: every value of an enum and one it lacks, any
 * string, any whole number its scalar holds), with the edges of the rule the
 * service applies added; the same values as the REST body of the route that
 * forwards to that RPC (the proto's field names, enums by the route's names,
 * a nested message's fields at the top when the route's body flattens it);
 * and the outcome of either face in one shape, so the two compare.
 * Pure: no server, no network.
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { fieldViolations } from "@convos-pool/kit/content";
import fc from "fast-check";

/** A field's extra values, by its path in the request (`daily_spend_limit_wei`, `permissions.member_sms`). */
export type Edges = Readonly<Record<string, readonly unknown[]>>;

/** An enum's REST names, by the enum's full name: a value's name, undefined for one the route has no name for. */
export type EnumNames = Readonly<Record<string, (value: number) => string | undefined>>;

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const UINT32 = { min: 0, max: 2 ** 32 - 1 };

/** Any value of one scalar type, as its proto type holds it. */
export function scalarArbitrary(scalar: ScalarType): fc.Arbitrary<unknown> {
  switch (scalar) {
    case ScalarType.STRING:
      return fc.string({ maxLength: 100 });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.integer(INT32);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.integer(UINT32);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    default:
      throw new Error(`no values for the scalar type ${ScalarType[scalar]}: add them here`);
  }
}

/**
 * Values of `fields` of `message` (paths, a nested message's as
 * `permissions.member_sms`), each by its proto type or one of its `edges`;
 * the others are left out (the proto's default). A request init, as a
 * Connect client takes it.
 */
export function requestArbitrary(
  message: DescMessage,
  fields: readonly string[],
  edges: Edges = {},
  prefix = "",
): fc.Arbitrary<Record<string, unknown>> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of message.fields) {
    const path = `${prefix}${field.name}`;
    const inner = fields.filter((f) => f.startsWith(`${path}.`));
    if (field.fieldKind === "message" && inner.length > 0) {
      parts[field.localName] = requestArbitrary(field.message, inner, edges, `${path}.`);
      continue;
    }
    if (!fields.includes(path)) continue;
    const typed = fieldArbitrary(field);
    const extra = edges[path] ?? [];
    parts[field.localName] = extra.length > 0 ? fc.oneof(fc.constantFrom(...extra), typed) : typed;
  }
  const missing = fields.filter((f) => !fieldExists(message, f));
  if (prefix === "" && missing.length > 0) throw new Error(`${message.typeName} has no field ${missing.join(", ")}`);
  return fc.record(parts);
}

function fieldExists(message: DescMessage, path: string): boolean {
  const [head, ...rest] = path.split(".");
  const field = message.fields.find((f) => f.name === head);
  if (!field) return false;
  if (rest.length === 0) return true;
  return field.fieldKind === "message" && fieldExists(field.message, rest.join("."));
}

function fieldArbitrary(field: DescField): fc.Arbitrary<unknown> {
  if (field.fieldKind === "enum") {
    const numbers = field.enum.values.map((v) => v.number);
    // Every value it defines, and one it does not (a newer client's).
    return fc.constantFrom(...numbers, Math.max(...numbers) + 1);
  }
  if (field.fieldKind === "scalar") return scalarArbitrary(field.scalar);
  throw new Error(`no values for ${field.name}, a ${field.fieldKind} field: add them here`);
}

/**
 * The REST body of a request init: each field by its proto name, a message
 * named in `flatten` spread at the top; an enum by its route's name, left
 * out at 0 (unset, as the RPC's default), a value without a name sent as a
 * name no route takes; 64-bit numbers as decimal strings.
 */
export function restBodyOf(
  message: DescMessage,
  req: Record<string, unknown>,
  names: EnumNames,
  flatten: readonly string[] = [],
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of message.fields) {
    const value = req[field.localName];
    if (value === undefined) continue;
    if (field.fieldKind === "message") {
      const inner = restBodyOf(field.message, value as Record<string, unknown>, names);
      if (flatten.includes(field.name)) Object.assign(body, inner);
      else body[field.name] = inner;
      continue;
    }
    if (field.fieldKind === "enum") {
      if (value === 0) continue;
      const nameOf = names[field.enum.typeName];
      if (!nameOf) throw new Error(`no REST names for ${field.enum.typeName}`);
      body[field.name] = nameOf(value as number) ?? `not-a-${field.enum.name}-${value as number}`;
      continue;
    }
    body[field.name] = typeof value === "bigint" ? value.toString() : value;
  }
  return body;
}

/** A face's answer to one request: accepted, or refused with a Connect code and the fields it named (sorted). */
export type Outcome = { accepted: true } | { accepted: false; code: string; fields: string[] };

/** A REST answer's outcome: 2xx accepted; otherwise its `code` and the fields of its `violations` (or `field`). */
export function restOutcome(answer: { status: number; json: unknown }): Outcome {
  if (answer.status >= 200 && answer.status < 300) return { accepted: true };
  const error = (answer.json as { error?: { code?: string; field?: string; violations?: { field: string }[] } })?.error;
  const fields = error?.violations?.map((v) => v.field) ?? (error?.field !== undefined ? [error.field] : []);
  return { accepted: false, code: error?.code ?? `http_${answer.status}`, fields: [...new Set(fields)].sort() };
}

/**
 * A Connect call's outcome: accepted when it answered, else its code and the
 * fields of its BadRequest, named as the route's REST body names them
 * (`restField`, the route's error mapping).
 */
export async function connectOutcome(
  call: Promise<unknown>,
  restField: (rpcField: string) => string,
): Promise<Outcome> {
  try {
    await call;
    return { accepted: true };
  } catch (err) {
    const e = ConnectError.from(err);
    const fields = fieldViolations(e).map((v) => restField(v.field));
    return {
      accepted: false,
      code: codeToString(e.code === Code.Unknown ? Code.Internal : e.code),
      fields: [...new Set(fields)].sort(),
    };
  }
}
