// Strict JSON request bodies: a size limit (413), well-formed UTF-8 JSON
// (else 400 naming `body`), no unknown fields and the right type for every
// field (else 400 naming the field, e.g. `tools[0].provisioning`). Field
// names are snake_case (docs/rest.md); a camelCase one is told its spelling.

import type { ServerRequest } from "@convos-pool/kit/server";
import { badRequest, payloadTooLarge } from "./errors.js";
import { snakeCase } from "@convos-pool/kit/content";

/**
 * Reads the whole body and parses it. 413 as soon as it exceeds `limit` bytes
 * (the rest is drained, not read into memory, so the client still gets the
 * answer). An empty body is undefined.
 */
export async function readJsonBody(req: ServerRequest, limit: number): Promise<unknown> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw badRequest("body", "is not valid UTF-8");
  }
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest("body", `malformed JSON (${(err as Error).message})`);
  }
}

function readBody(req: ServerRequest, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limit) return Promise.reject(payloadTooLarge(limit));
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) return;
      if (size > limit) {
        tooLarge = true;
        chunks = [];
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!tooLarge) resolve(Buffer.concat(chunks, size));
    });
    req.on("error", reject);
  });
}

/** `templateId` → `template_id`: the REST API's one casing. */

/**
 * The description of a field or query parameter nobody defined: "unknown
 * field", with the snake_case spelling when that is one (`templateId:
 * unknown field; did you mean template_id?`).
 */
export function unknownName(name: string, allowed: readonly string[], what = "unknown field"): string {
  const snake = snakeCase(name);
  return snake !== name && allowed.includes(snake) ? `${what}; did you mean ${snake}?` : what;
}

/** A JSON object: not null, not an array. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `tools[0].id`; a key that is no plain name (empty, with dots, long) quoted and cut, `[""]`, so the path still says where. */
function child(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (key.length > 100 || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key))
    return `${parent}[${JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key)}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

/**
 * One JSON object of a request, checked against the fields it may have.
 * Getters take a fallback for optional fields; without one the field is
 * required. `null` is a wrong type, never "absent".
 */
export class JsonObject {
  private constructor(
    /** Path of this object in the body: "" for the body itself, "tools[0]", "signature". */
    readonly path: string,
    private readonly value: Record<string, unknown>,
  ) {}

  static of(value: unknown, path: string, allowed: readonly string[]): JsonObject {
    if (!isPlainObject(value)) throw badRequest(path || "body", "must be a JSON object");
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) throw badRequest(child(path, key), unknownName(key, allowed));
    }
    return new JsonObject(path, value);
  }

  /** The request body: an object with only `allowed` fields (an empty body counts as {}). */
  static body(value: unknown, allowed: readonly string[]): JsonObject {
    return JsonObject.of(value ?? {}, "", allowed);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined;
  }

  field(key: string): string {
    return child(this.path, key);
  }

  private get(key: string, fallback: unknown): unknown {
    const v = this.value[key];
    if (v !== undefined) return v;
    if (fallback === undefined) throw badRequest(this.field(key), "is required");
    return fallback;
  }

  string(key: string, fallback?: string): string {
    const v = this.get(key, fallback);
    if (typeof v !== "string") throw badRequest(this.field(key), "must be a string");
    return v;
  }

  boolean(key: string, fallback?: boolean): boolean {
    const v = this.get(key, fallback);
    if (typeof v !== "boolean") throw badRequest(this.field(key), "must be true or false");
    return v;
  }

  /** A safe integer of at least `min`. */
  integer(key: string, min: number, fallback?: number): number {
    const v = this.get(key, fallback);
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw badRequest(this.field(key), "must be an integer");
    if (v < min) throw badRequest(this.field(key), `must be at least ${min}`);
    return v;
  }

  /**
   * A whole number as the RPC's int32 carries it, 0 when absent: its range
   * is the service's to judge, named with the request's other faults; refused
   * here is only what no int32 carries.
   */
  int32(key: string): number {
    const v = this.integer(key, -(2 ** 31), 0);
    if (v > 2 ** 31 - 1) throw badRequest(this.field(key), "must be a whole number below 2^31");
    return v;
  }

  /** A whole number as the RPC's uint32 carries it (0 to 2^32 - 1), 0 when absent: its range within is the service's. */
  uint32(key: string): number {
    const v = this.integer(key, 0, 0);
    if (v > 2 ** 32 - 1) throw badRequest(this.field(key), "must be a whole number below 2^32");
    return v;
  }

  /** A finite JSON number. */
  number(key: string, fallback?: number): number {
    const v = this.get(key, fallback);
    if (typeof v !== "number" || !Number.isFinite(v)) throw badRequest(this.field(key), "must be a number");
    return v;
  }

  /** One of `values`; the message lists them, e.g. `must be "pool" or "user"`. */
  oneOf<T extends string>(key: string, values: readonly T[], fallback?: T): T {
    const v = this.get(key, fallback);
    if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
      throw badRequest(this.field(key), `must be ${values.map((x) => JSON.stringify(x)).join(" or ")}`);
    }
    return v as T;
  }

  /** A nested object, or undefined when absent. */
  object(key: string, allowed: readonly string[]): JsonObject | undefined {
    const v = this.value[key];
    return v === undefined ? undefined : JsonObject.of(v, this.field(key), allowed);
  }

  /** The value as sent, for a reader of its own (the kit's readSoulJson); undefined when absent. */
  raw(key: string): unknown {
    return this.value[key];
  }

  private array(key: string): unknown[] | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw badRequest(this.field(key), "must be an array");
    const items: unknown[] = v;
    return items;
  }

  strings(key: string): string[] | undefined {
    return this.array(key)?.map((item, i) => {
      if (typeof item !== "string") throw badRequest(child(this.field(key), i), "must be a string");
      return item;
    });
  }

  /** An object whose values are all strings (any keys), or undefined when absent. */
  stringMap(key: string): Record<string, string> | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) throw badRequest(this.field(key), "must be a JSON object of strings");
    const entries = Object.entries(v);
    for (const [k, item] of entries) {
      if (typeof item !== "string") throw badRequest(`${this.field(key)}.${k}`, "must be a string");
    }
    // Defined, not assigned: `out["__proto__"] = …` would set the prototype and lose the key.
    return Object.fromEntries(entries) as Record<string, string>;
  }

  objects(key: string, allowed: readonly string[]): JsonObject[] | undefined {
    return this.array(key)?.map((item, i) => JsonObject.of(item, child(this.field(key), i), allowed));
  }
}

/** Proto JSON in the REST API's casing (the lineage and signals paths too): the proto's own (snake_case) field names, every field present. */
export const PROTO_JSON = { alwaysEmitImplicit: true, useProtoFieldName: true } as const;

/**
 * A body a path accepts, by the field names it takes (its `*_FIELDS`): each
 * optional, of any value. A client that builds its body `satisfies` this
 * fails its type check on a name the path does not take; the values are the
 * path's own checks (400 naming the field).
 */
export type BodyOf<Fields extends readonly string[]> = { [K in Fields[number]]?: unknown };
