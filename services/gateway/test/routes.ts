/**
 * TEST HELPER. Every REST route against its RPC, generated from the
 * contracts (docs/rest.md, "One contract, every face"): any request of an
 * RPC, drawn from its input descriptor (every field, nested messages,
 * lists, maps and oneofs); the same request as the REST call of a route
 * (path parameters, query for a GET, a body otherwise, `expected_version` as
 * If-Match, names by the route's own error mapping); and the route's handler
 * run in memory over recording forwarders, which says which RPC a route
 * forwards to and with what. Pure: no server, no network.
 */
import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  ScalarType,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { TemplateContentSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplatePatchSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentToJson, patchToJson } from "@convos-pool/kit/content";
import { createLogger } from "@convos-pool/kit/server";
import fc from "fast-check";
import { FORWARDED } from "../src/connect/forward.js";
import type { RestErrorMapping } from "../src/rest/core/errors.js";
import { JsonObject } from "../src/rest/core/json.js";
import { CONTENT_FIELDS, contentFromBody, patchFromBody } from "../src/rest/templates/json.js";
import { BASE, type RestDeps, type Route } from "../src/rest/core/request.js";
import { ENUM_NAMES } from "./enum-names.js";
import { scalarArbitrary, type EnumNames } from "./faces.js";
import type { RouteRpc } from "./route-rpcs.js";

type Init = Record<string, unknown>;

/**
 * Any request init of `message`, each field present or not: scalars and
 * enums as faces.ts draws them, nested messages `depth` levels down, lists
 * and maps of up to two, one case of each oneof or none. `fixed` draws a
 * top-level field another way (a path parameter, never empty).
 */
export function anyRequest(
  message: DescMessage,
  fixed: Readonly<Record<string, fc.Arbitrary<unknown>>> = {},
  depth = 2,
): fc.Arbitrary<Init> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of message.fields) {
    if (field.oneof) continue;
    const arb = fixed[field.name] ?? drawField(field, depth);
    if (arb) parts[field.localName] = arb;
  }
  for (const oneof of message.oneofs) {
    const cases = oneof.fields.flatMap((f) => {
      const arb = drawField(f, depth);
      return arb ? [arb.map((value) => ({ case: f.localName, value }))] : [];
    });
    if (cases.length > 0) parts[oneof.localName] = fc.oneof(...cases);
  }
  const required = Object.keys(fixed).flatMap((name) => message.fields.find((f) => f.name === name)?.localName ?? []);
  return fc.record(parts, { requiredKeys: required });
}

function drawField(field: DescField, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return scalarOf(field.scalar);
    case "enum":
      return enumOf(field.enum.values.map((v) => v.number));
    case "message":
      return depth > 0 ? anyRequest(field.message, {}, depth - 1) : undefined;
    case "list": {
      const item =
        field.listKind === "scalar"
          ? scalarOf(field.scalar)
          : field.listKind === "enum"
            ? enumOf(field.enum.values.map((v) => v.number))
            : depth > 0
              ? anyRequest(field.message, {}, depth - 1)
              : undefined;
      return item && fc.array(item, { maxLength: 2 });
    }
    case "map": {
      const value =
        field.mapKind === "scalar"
          ? scalarOf(field.scalar)
          : field.mapKind === "enum"
            ? enumOf(field.enum.values.map((v) => v.number))
            : depth > 0
              ? anyRequest(field.message, {}, depth - 1)
              : undefined;
      return value && fc.dictionary(fc.string({ maxLength: 12 }), value, { maxKeys: 2 });
    }
  }
}

/** 64-bit numbers within JSON's safe integers: what a REST body can carry (docs/rest.md). */
const SAFE = { min: BigInt(Number.MIN_SAFE_INTEGER), max: BigInt(Number.MAX_SAFE_INTEGER) };

/** Small whole numbers first (where the rules' edges are: versions, stars, limits), any of the type's after. */
function scalarOf(scalar: ScalarType): fc.Arbitrary<unknown> {
  if (scalar === ScalarType.INT64 || scalar === ScalarType.SINT64 || scalar === ScalarType.SFIXED64)
    return fc.oneof(fc.bigInt({ min: -2n, max: 12n }), fc.bigInt(SAFE));
  if (scalar === ScalarType.UINT64 || scalar === ScalarType.FIXED64)
    return fc.oneof(fc.bigInt({ min: 0n, max: 12n }), fc.bigInt({ min: 0n, max: SAFE.max }));
  if (scalar === ScalarType.INT32 || scalar === ScalarType.SINT32 || scalar === ScalarType.SFIXED32)
    return fc.oneof(fc.integer({ min: -2, max: 12 }), scalarArbitrary(scalar));
  if (scalar === ScalarType.UINT32 || scalar === ScalarType.FIXED32)
    return fc.oneof(fc.integer({ min: 0, max: 12 }), scalarArbitrary(scalar));
  if (scalar === ScalarType.BYTES) return fc.uint8Array({ maxLength: 8 });
  if (scalar === ScalarType.DOUBLE || scalar === ScalarType.FLOAT) return fc.double({ noNaN: true });
  return scalarArbitrary(scalar);
}

const enumOf = (numbers: number[]) => fc.constantFrom(...numbers, Math.max(...numbers) + 1);

/** The request's field a path parameter carries: `:id` the template's, agent's or claim's id. */
export function pathFieldOf(input: DescMessage, param: string): DescField | undefined {
  const names = param === "id" ? ["template_id", "instance_id", "idempotency_key", "id"] : [param];
  for (const name of names) {
    const field = input.fields.find((f) => f.name === name);
    if (field) return field;
  }
  return undefined;
}

export const pathParams = (pattern: string) => [...pattern.matchAll(/:([a-z_]+)/g)].map((m) => m[1] ?? "");

/** A REST call of a route: its path, query, body and If-Match. */
export interface RestForm {
  path: string;
  query: URLSearchParams;
  body?: Record<string, unknown>;
  ifMatch?: string;
}

/**
 * `req` as the REST call of `method pattern` (the pattern without BASE):
 * each field under the name the route's errors give it (`page_size` as
 * `limit`, `expected_version` as If-Match, a message whose fields the route
 * names bare, `content`, spread at the top); in the path when a path
 * parameter carries it, in the query of a GET (zero values, proto3's unset,
 * left out), else in the JSON body (enums by the route's names, 64-bit
 * numbers and bytes as strings, a Signature in its REST form; a message
 * whose every field the route names as a parameter of its own, in a GET,
 * sent as those parameters).
 */
export function restFormOf(
  method: string,
  pattern: string,
  input: DescMessage,
  req: Init,
  names: EnumNames,
  errors: RestErrorMapping,
  /** Fields the route sets itself: not sent. */
  routeSets: Readonly<Record<string, unknown>> = {},
  /** Fields in the query though the route takes a body. */
  inQuery: readonly string[] = [],
): RestForm {
  // Each field sent under its own name: a mapping that names a field by what the body sent (an alias) says its own.
  const rename = (rpc: string) => errors.field(rpc, (sent) => sent === rpc);
  let path = pattern;
  const inPath = new Set<string>();
  for (const param of pathParams(pattern)) {
    const field = pathFieldOf(input, param);
    if (!field) continue;
    inPath.add(field.name);
    path = path.replace(`:${param}`, encodeURIComponent(scalarText(req[field.localName])));
  }
  const form: RestForm = { path: `${BASE}${path}`, query: new URLSearchParams() };
  const body: Record<string, unknown> = {};
  for (const field of input.fields) {
    if (inPath.has(field.name) || field.name in routeSets) continue;
    const value = field.oneof ? oneofValue(req, field) : req[field.localName];
    if (value === undefined || unsayableZero(field, value, names)) continue;
    const name = rename(field.name);
    if (name === "If-Match") {
      if (value !== 0n) form.ifMatch = scalarText(value);
      continue;
    }
    const json = jsonOf(field, value, names, errors, field.name);
    if (field.fieldKind === "message" && rename(`${field.name}.x`) === "x") {
      Object.assign(body, json);
      continue;
    }
    const apart =
      method === "GET" && field.fieldKind === "message" ? namesApart(field.message, field.name, rename) : [];
    if (apart.length > 0) {
      // A message a GET takes as parameters of its own (a listing's signature: `signature`, `issued_at`, `nonce`), each sent.
      for (const [sub, param] of apart) form.query.set(param, scalarText((json as Init)[sub]));
      continue;
    }
    if (method === "GET" || inQuery.includes(field.name)) {
      if (isZero(value)) continue;
      // A list as one parameter, its items joined by commas, as the listing routes take one.
      form.query.set(
        name,
        Array.isArray(json)
          ? json.map(scalarText).join(",")
          : typeof json === "object"
            ? JSON.stringify(json)
            : scalarText(json),
      );
    } else body[name] = json;
  }
  if (method !== "GET") form.body = body;
  return form;
}

/** Each field of `message` with the query parameter the route names it by, when every one is a parameter of its own. */
function namesApart(message: DescMessage, at: string, rename: (rpc: string) => string): [string, string][] {
  const names = message.fields.map((f): [string, string] => [f.name, rename(`${at}.${f.name}`)]);
  return names.every(([, param]) => !/[.[]/.test(param)) ? names : [];
}

function oneofValue(req: Init, field: DescField): unknown {
  const chosen = field.oneof && (req[field.oneof.localName] as { case?: string; value?: unknown } | undefined);
  return chosen?.case === field.localName ? chosen.value : undefined;
}

/** A path segment, header or query value: strings as they are, numbers and booleans as JSON writes them. */
const scalarText = (v: unknown): string =>
  typeof v === "string" ? v : typeof v === "object" || v === undefined ? JSON.stringify(v ?? "") : `${v as number}`;

/**
 * An enum at 0 that the route has no name for: proto3's unset, which a REST
 * caller says by leaving the field out (a word for it would be no value).
 */
const unsayableZero = (field: DescField, value: unknown, names: EnumNames) =>
  field.fieldKind === "enum" && value === 0 && names[field.enum.typeName]?.(0) === undefined;

const isZero = (v: unknown) => v === 0 || v === 0n || v === "" || v === false;

function jsonOf(field: DescField, value: unknown, names: EnumNames, errors: RestErrorMapping, at: string): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalarJson(value);
    case "enum":
      return enumJson(field.enum.typeName, field.enum.name, value as number, names);
    case "message":
      return messageJson(field.message, value as Init, names, errors, at);
    case "list":
      return (value as unknown[]).map((item) =>
        field.listKind === "message"
          ? messageJson(field.message, item as Init, names, errors, at)
          : field.listKind === "enum"
            ? enumJson(field.enum.typeName, field.enum.name, item as number, names)
            : scalarJson(item),
      );
    case "map":
      return Object.fromEntries(
        Object.entries(value as Init).map(([k, v]) => [
          k,
          field.mapKind === "message"
            ? messageJson(field.message, v as Init, names, errors, at)
            : field.mapKind === "enum"
              ? enumJson(field.enum.typeName, field.enum.name, v as number, names)
              : scalarJson(v),
        ]),
      );
  }
}

/** The messages REST writes in a JSON of their own: a signature's three fields, a template's content as the kit writes it. */
const MESSAGE_JSON: Readonly<Record<string, (m: DescMessage, value: Init) => unknown>> = {
  "convos.pool.v1.Signature": (_m, v) => ({
    signature: v.signature ?? "",
    issued_at: Number(v.issuedAt ?? 0n),
    nonce: v.nonce ?? "",
  }),
  "convos.pool.v1.TemplateContent": (m, v) => contentToJson(create(m as typeof TemplateContentSchema, v)),
  "convos.pool.v1.TemplatePatch": (m, v) => patchToJson(create(m as typeof TemplatePatchSchema, v)),
};

function messageJson(message: DescMessage, value: Init, names: EnumNames, errors: RestErrorMapping, at: string) {
  const own = MESSAGE_JSON[message.typeName];
  if (own) return own(message, value);
  const out: Record<string, unknown> = {};
  for (const field of message.fields) {
    const v = field.oneof ? oneofValue(value, field) : value[field.localName];
    if (v !== undefined && !unsayableZero(field, v, names))
      out[field.name] = jsonOf(field, v, names, errors, `${at}.${field.name}`);
  }
  return out;
}

function scalarJson(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

function enumJson(typeName: string, name: string, value: number, names: EnumNames): unknown {
  const nameOf = names[typeName];
  if (!nameOf) return value;
  return nameOf(value) ?? `not-a-${name}-${value}`;
}

/**
 * Any request of `of`'s RPC as `route` can carry it: path parameters never
 * empty (a path has no empty segment) nor a dot segment, the fields the route sets at its
 * values, the messages REST always sends present, no value it cannot carry.
 */
export function routeRequests(route: Route, of: RouteRpc): fc.Arbitrary<Init> {
  const input = of.rpc.input;
  const fixed: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of pathParams(route[1])) {
    const field = pathFieldOf(input, p);
    // "." and ".." are no segment a URL keeps: the client resolves them away before REST sees the path.
    if (field) fixed[field.name] = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s !== "." && s !== "..");
  }
  for (const [name, value] of Object.entries(of.sets ?? {})) fixed[name] = fc.constant(value);
  return anyRequest(input, fixed)
    .map((req) => {
      const out = sayable(input, req);
      for (const name of of.always ?? []) {
        const field = input.fields.find((f) => f.name === name);
        if (field && out[field.localName] === undefined) out[field.localName] = {};
      }
      return out;
    })
    .filter((req) => !of.cannotCarry?.holds(req));
}

/**
 * A template's content and patch travel on REST in the kit's JSON form
 * (docs/rest.md), which fills defaults and leaves out what it cannot say (a
 * `clear_tools` beside tools): each faces gets what that form says of them,
 * as REST's own reader reads it back. A value the reader refuses stays as
 * drawn, for the faces to refuse.
 */
const SAYABLE: Readonly<Record<string, (m: DescMessage, value: Init) => unknown>> = {
  "convos.pool.v1.TemplateContent": (m, v) =>
    contentFromBody(JsonObject.body(contentToJson(create(m as typeof TemplateContentSchema, v)), CONTENT_FIELDS)),
  "convos.pool.v1.TemplatePatch": (m, v) =>
    patchFromBody(JsonObject.body(patchToJson(create(m as typeof TemplatePatchSchema, v)), CONTENT_FIELDS)),
};

function sayable(input: DescMessage, req: Init): Init {
  const out = { ...req };
  for (const field of input.fields) {
    const say = field.fieldKind === "message" ? SAYABLE[field.message.typeName] : undefined;
    const value = out[field.localName];
    if (!say || field.fieldKind !== "message" || value === undefined) continue;
    try {
      out[field.localName] = say(field.message, value as Init);
    } catch {
      // Refused by REST's reader: the faces compare the refusals.
    }
  }
  return out;
}

/** `req` as `route`'s REST call for `of`, with the query that picks that RPC. */
export function routeForm(route: Route, of: RouteRpc, req: Init): RestForm {
  const form = restFormOf(route[0], route[1], of.rpc.input, req, ENUM_NAMES, route[3], of.sets, of.inQuery);
  for (const [key, value] of Object.entries(of.picks ?? {})) if (!form.query.has(key)) form.query.set(key, value);
  return form;
}

// ---------------------------------------------------------------- the handler in memory

/** One RPC a handler called: its service and method, and the request it sent. */
export interface Forwarded {
  method: DescMethod;
  request: Init;
}

/** Forwarders that record each call and answer an empty response (or throw `answer`'s error). */
export function recordingDeps(calls: Forwarded[]): RestDeps {
  const forwarder = (service: DescService) =>
    new Proxy(
      {},
      {
        get: (_t, prop) => {
          const method = service.methods.find((m) => m.localName === prop);
          if (!method) return undefined;
          return async (request: Init) => {
            calls.push({ method, request });
            return create(method.output, filled(method.output, 3));
          };
        },
      },
    );
  const forwarders = Object.fromEntries(
    Object.entries(FORWARDED).map(([name, { service }]) => [name, forwarder(service)]),
  );
  return {
    ...(forwarders as unknown as Pick<RestDeps, keyof typeof FORWARDED & keyof RestDeps>),
    claimsNotConfigured: "no claims service",
    lineageNotConfigured: "no lineage service",
    createSession: () => Promise.reject(new ConnectError("not in memory", Code.Unimplemented)),
    endSession: () => Promise.resolve(),
    signingDomain: { poolId: "pool", name: "pool", version: "1", salt: "0x00" },
    log: createLogger("routes", { level: "silent" }),
    maxBodyBytes: 1 << 20,
  };
}

/** Every singular message field of `message` set (to its own filled message), `depth` levels down: an answer handlers can read. */
function filled(message: DescMessage, depth: number): Init {
  const out: Init = {};
  if (depth === 0) return out;
  for (const field of message.fields) {
    if (field.fieldKind === "message" && !field.oneof) out[field.localName] = filled(field.message, depth - 1);
  }
  return out;
}

/** `form` through `route`'s handler over `deps`: what it answered, or the error it threw. */
export async function runRoute(route: Route, form: RestForm, deps: RestDeps): Promise<unknown> {
  const [, pattern, handler] = route;
  const url = new URL(`http://gateway.invalid${form.path}?${form.query.toString()}`);
  const params: Record<string, string> = {};
  const want = `${BASE}${pattern}`.split("/");
  const got = form.path.split("/");
  want.forEach((w, i) => {
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(got[i] ?? "");
  });
  try {
    return await handler(
      {
        id: params.id ?? "",
        params,
        url,
        headers: form.ifMatch !== undefined ? { "if-match": form.ifMatch } : {},
        body: async (fields) => JsonObject.body(form.body, fields),
        call: { authorization: undefined },
      },
      deps,
    );
  } catch (err) {
    return err;
  }
}
