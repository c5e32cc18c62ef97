// The REST error format (docs/rest.md, "Errors"):
//   { "error": { "type": "...", "code": "...", "message": "...", "field": "...",
//                "violations": [{ "field": "...", "description": "..." }] } }
// One table maps Connect codes to HTTP statuses and error types; each route
// names its RestErrorMapping (the fields and codes it renames), which the
// dispatcher applies to whatever its handler throws.

import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { fieldViolations, type FieldViolationInfo } from "@convos-pool/kit/content";
import { limitExceededOf } from "@convos-pool/kit/server";

export interface RestErrorBody {
  error: { type: string; code: string; message: string; field?: string; violations?: FieldViolationInfo[] };
}

/** Connect code → HTTP status and error type. Codes not listed are 500 internal. */
const BY_CODE: Partial<Record<Code, { status: number; type: string }>> = {
  [Code.InvalidArgument]: { status: 400, type: "invalid_request" },
  [Code.OutOfRange]: { status: 400, type: "invalid_request" },
  [Code.Unauthenticated]: { status: 401, type: "unauthenticated" },
  [Code.PermissionDenied]: { status: 403, type: "permission_denied" },
  [Code.NotFound]: { status: 404, type: "not_found" },
  [Code.Aborted]: { status: 409, type: "conflict" },
  // Its requester cancelled it (a claim: docs/claims.md, "Waiting and cancelling").
  [Code.Canceled]: { status: 409, type: "cancelled" },
  [Code.AlreadyExists]: { status: 409, type: "conflict" },
  [Code.FailedPrecondition]: { status: 422, type: "unprocessable_entity" },
  [Code.ResourceExhausted]: { status: 429, type: "rate_limited" },
  [Code.Unimplemented]: { status: 501, type: "not_implemented" },
  [Code.Unavailable]: { status: 503, type: "unavailable" },
  [Code.DeadlineExceeded]: { status: 504, type: "timeout" },
};
const INTERNAL = { status: 500, type: "internal" };

/** An error answered on a REST path. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: Code,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
    /** Every field the error names, each with what is wrong with it; `field` is the first. */
    readonly violations: readonly FieldViolationInfo[] = [],
  ) {
    super(message);
  }

  get body(): RestErrorBody {
    const error: RestErrorBody["error"] = { type: this.type, code: codeToString(this.code), message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.violations.length > 0) error.violations = this.violations.map((v) => ({ ...v }));
    return { error };
  }
}

/** 400 naming a field of the request: `field: description`. */
export function badRequest(field: string, description: string): RestError {
  return badRequests([{ field, description }]);
}

/** 400 naming every field of `violations` (at least one): `a: …; b: …`, `field` the first. */
export function badRequests(violations: readonly FieldViolationInfo[]): RestError {
  const message = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new RestError(400, "invalid_request", Code.InvalidArgument, message, violations[0]?.field, {}, violations);
}

/**
 * A body read field by field, keeping every field a read refuses instead of
 * stopping at the first: `read` runs one getter (undefined when it refused),
 * `add` notes a violation a rule found, `done` throws them all as one 400.
 * Only a 400 naming fields is kept; anything else is thrown at once.
 */
export class Violations {
  private readonly list: FieldViolationInfo[] = [];

  read<T>(get: () => T): T | undefined {
    try {
      return get();
    } catch (err) {
      if (!(err instanceof RestError) || err.status !== 400 || err.violations.length === 0) throw err;
      this.list.push(...err.violations);
      return undefined;
    }
  }

  /** A violation of a rule, unless a read already named its field. */
  add(...violations: FieldViolationInfo[]): void {
    for (const v of violations) if (!this.names(v.field)) this.list.push(v);
  }

  /** Whether any read or rule was refused: the request will be, so faults judged later may join now. */
  any(): boolean {
    return this.list.length > 0;
  }

  names(field: string): boolean {
    return this.list.some((v) => v.field === field);
  }

  done(): void {
    if (this.list.length > 0) throw badRequests(this.list);
  }

  /**
   * Done, and once REST's own reading refused anything, the service's own
   * check of the rest beside it (`service`: the pure check the service runs
   * before it reads or writes anything, on the request as REST read it),
   * each field by `names`, REST's own violations first and a field REST
   * named not named twice. The request is then refused here whole and the
   * service never asked; with nothing of REST's own, `service` is not run
   * and the service judges the request (docs/rest.md, "One contract, every
   * face").
   */
  doneWith(
    names: FieldNames,
    service: () => readonly FieldViolationInfo[],
    sent: (bodyField: string) => boolean = () => false,
  ): void {
    if (this.any()) {
      const own = this.list.map((v) => v.field);
      // A field REST named, a part of one or a whole around one (`content` beside `content.agent_name`), is named once.
      const near = (field: string) => own.some((f) => f === field || within(f, field) || within(field, f));
      for (const v of service()) {
        const field = names.field(v.field, sent);
        if (!near(field)) this.list.push({ field, description: v.description });
      }
    }
    this.done();
  }
}

/** Whether `part` is a path inside `whole`: `content.tools[1]` inside `content`. */
const within = (part: string, whole: string) => part.startsWith(`${whole}.`) || part.startsWith(`${whole}[`);

export function payloadTooLarge(limit: number): RestError {
  return new RestError(413, "payload_too_large", Code.ResourceExhausted, `body: larger than ${limit} bytes`, "body");
}

export function noRoute(method: string, path: string): RestError {
  return new RestError(404, "not_found", Code.NotFound, `no route for ${method} ${path}`);
}

export function methodNotAllowed(method: string, path: string, allowed: string[]): RestError {
  return new RestError(
    405,
    "method_not_allowed",
    Code.Unimplemented,
    `${method} is not allowed on ${path}`,
    undefined,
    {
      allow: allowed.join(", "),
    },
  );
}

/**
 * Renames the request-message field paths of an RPC error to the REST body's:
 * `content.tools[1].prompt` → `tools[1].prompt`, `patch.tags[0]` → `tags[0]`.
 * A few fields live outside the body on REST (If-Match, query parameters).
 */
const RENAMED: Record<string, string> = {
  content: "body",
  patch: "body",
  expected_version: "If-Match",
  page_size: "limit",
  page_token: "cursor",
  query: "q",
};

export function restField(rpcField: string): string {
  const stripped = rpcField.replace(/^(content|patch)\./, "");
  return RENAMED[stripped] ?? stripped;
}

/** How one route turns RPC errors into REST errors. */
export interface RestErrorMapping {
  /**
   * RPC field path → REST field path. `sent(name)` says whether the request's
   * body had that field, for a route whose body may name a field by an alias.
   */
  field: (rpcField: string, sent: (bodyField: string) => boolean) => string;
  /** Codes this route maps differently (for example RESOURCE_EXHAUSTED → 503 on a claim). */
  byCode?: Partial<Record<Code, { status: number; type: string; headers?: Record<string, string> }>>;
}

/**
 * A route's mapping whose `names` says every top-level field of its RPC's
 * request in REST's words (contract.test.ts holds it whole): the field as
 * it is, its name elsewhere (`expected_version` as `If-Match`), "" for a
 * message whose fields are the body's own (`content.tools[1].prompt` as
 * `tools[1].prompt`, `content` itself as `body`), or a choice by what the
 * body sent (an alias). A nested path keeps the rest of its path.
 */
export interface FieldNames extends RestErrorMapping {
  names: Readonly<Record<string, string | ((sent: (bodyField: string) => boolean) => string)>>;
}

export function fieldNames(names: FieldNames["names"], byCode?: RestErrorMapping["byCode"]): FieldNames {
  return {
    names,
    ...(byCode ? { byCode } : {}),
    field: (rpcField, sent) => {
      const top = /^[^.[]+/.exec(rpcField)?.[0] ?? rpcField;
      const name = names[top];
      if (name === undefined) return rpcField;
      const to = typeof name === "string" ? name : name(sent);
      const rest = rpcField.slice(top.length);
      if (to !== "") return `${to}${rest}`;
      return rest === "" ? "body" : rest.replace(/^\./, "");
    },
  };
}

/** The field path as it is: the RPC's snake_case names are the REST body's. */
const asIs = (rpcField: string) => rpcField;

/**
 * A mapping that renames the RPC field paths in `names` (whole paths: the
 * query parameters of a listing, `page_size` → `limit`) and the others by
 * `rest` (default: as they are).
 */
export function renaming(
  names: Record<string, string>,
  rest: (rpcField: string) => string = asIs,
): RestErrorMapping["field"] {
  return (rpcField) => names[rpcField] ?? rest(rpcField);
}

/** The template paths' mapping (restField), and the one for errors that reach no route. */
export const TEMPLATE_ERRORS: RestErrorMapping = { field: restField };

/**
 * The agent paths' errors (claims, lineage, memory): the services' field
 * paths are the body's names (`template_id`, `user_config.personal-email`,
 * `owner_signature.issued_at`), but for the query parameters of listings.
 */
export const AGENT_ERRORS: RestErrorMapping = {
  field: renaming({ owner_id: "owner", include_ended: "ended", page_size: "limit", page_token: "cursor" }),
};

/** Any error of a REST request as a RestError: RestErrors as they are, RPC errors through the table. */
export function toRestError(
  err: unknown,
  mapping: RestErrorMapping = TEMPLATE_ERRORS,
  sent: (bodyField: string) => boolean = () => false,
): RestError {
  if (err instanceof RestError) return err;
  const e = ConnectError.from(err);
  // A limit of the pool is the caller's: 429, whatever the route maps RESOURCE_EXHAUSTED to (docs/limits.md).
  const limit = limitExceededOf(e);
  if (limit) {
    const headers: Record<string, string> =
      limit.retryAfterSeconds > 0 ? { "retry-after": String(limit.retryAfterSeconds) } : {};
    return new RestError(429, "rate_limited", Code.ResourceExhausted, e.rawMessage, undefined, headers);
  }
  const special = mapping.byCode?.[e.code];
  const { status, type } = special ?? BY_CODE[e.code] ?? INTERNAL;
  const headers = special?.headers ?? {};
  if (status === 500) {
    // Internal details (SQL, stack traces) stay in the log.
    return new RestError(status, type, e.code === Code.Unknown ? Code.Internal : e.code, "internal error");
  }
  const violations = fieldViolations(e);
  if (violations.length === 0) return new RestError(status, type, e.code, e.rawMessage, undefined, headers);
  const renamed = violations.map((v) => ({ field: mapping.field(v.field, sent), description: v.description }));
  const message = renamed.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new RestError(status, type, e.code, message, renamed[0]?.field, headers, renamed);
}
