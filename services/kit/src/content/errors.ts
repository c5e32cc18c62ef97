// Errors every service returns: a ConnectError with the right code and a
// message that names what is wrong. Details are google.rpc's, the ones gRPC
// clients decode: a google.rpc.BadRequest names the fields of an invalid
// argument (the gateway turns it into its REST error format), a
// google.rpc.PreconditionFailure says what someone else must lift. The
// readers also read the convos.pool.v1 details that servers wrote before,
// for one release (docs/decisions.md).

import type { DescEnum } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  FieldViolationSchema as OldFieldViolationSchema,
  PreconditionFailureSchema as OldPreconditionFailureSchema,
} from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { BadRequestSchema, PreconditionFailureSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";

export interface FieldViolationInfo {
  field: string;
  description: string;
}

/** Code.InvalidArgument, message "field: description", with a BadRequest detail. */
export function invalidArgument(field: string, description: string): ConnectError {
  return invalidArguments([{ field, description }]);
}

/** Several violations at once; the message lists them all. */
export function invalidArguments(violations: FieldViolationInfo[]): ConnectError {
  const message = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new ConnectError(message, Code.InvalidArgument, undefined, [badRequest(violations)]);
}

/**
 * The field violations of every check that refuses (INVALID_ARGUMENT with a
 * BadRequest), in the checks' order, thrown by none: what is wrong with a
 * request, each by the check that knows it, pure when the checks are.
 * Anything else a check throws is thrown at once.
 */
export function violationsOf(...checks: (() => unknown)[]): FieldViolationInfo[] {
  const violations: FieldViolationInfo[] = [];
  for (const check of checks) {
    try {
      check();
    } catch (err) {
      const found = err instanceof ConnectError && err.code === Code.InvalidArgument ? fieldViolations(err) : [];
      if (found.length === 0) throw err;
      violations.push(...found);
    }
  }
  return violations;
}

/**
 * Throws `violations`, if there are any, as one INVALID_ARGUMENT naming each
 * field: the one place a service refuses a request's bad fields, all at once.
 */
export function refuseViolations(violations: readonly FieldViolationInfo[]): void {
  if (violations.length > 0) throw invalidArguments([...violations]);
}

/** Runs every check and throws all their violations at once (violationsOf, then refuseViolations). */
export function checkAll(...checks: (() => unknown)[]): void {
  refuseViolations(violationsOf(...checks));
}

/** One google.rpc.BadRequest detail holding every violation. */
export function badRequest(violations: FieldViolationInfo[]) {
  return {
    desc: BadRequestSchema,
    value: { fieldViolations: violations.map((v) => ({ field: v.field, description: v.description })) },
  };
}

/** Code.NotFound, message "<what> not found", e.g. notFound(`template ${id}`). */
export function notFound(what: string): ConnectError {
  return new ConnectError(`${what} not found`, Code.NotFound);
}

/** Optimistic-concurrency conflict (stale If-Match / expected version): Code.Aborted. */
export function conflict(message: string): ConnectError {
  return new ConnectError(message, Code.Aborted);
}

export function alreadyExists(message: string): ConnectError {
  return new ConnectError(message, Code.AlreadyExists);
}

export function permissionDenied(message: string): ConnectError {
  return new ConnectError(message, Code.PermissionDenied);
}

export function unauthenticated(message: string): ConnectError {
  return new ConnectError(message, Code.Unauthenticated);
}

export function failedPrecondition(message: string): ConnectError {
  return new ConnectError(message, Code.FailedPrecondition);
}

/**
 * Code.FailedPrecondition about one field of the request, message "field:
 * description", with a BadRequest detail: a client can show what to set
 * (a refusal that an acknowledgment lifts, say).
 */
export function failedPreconditionOn(field: string, description: string): ConnectError {
  return errorOn(Code.FailedPrecondition, field, description);
}

/**
 * Any code about one field of the request, message "field: description",
 * with a BadRequest detail naming the field (a PERMISSION_DENIED or a
 * NOT_FOUND that a client shows beside the field, say).
 */
export function errorOn(code: Code, field: string, description: string): ConnectError {
  return new ConnectError(`${field}: ${description}`, code, undefined, [badRequest([{ field, description }])]);
}

export interface PreconditionFailureInfo {
  /** What is missing, for example "pool tool grant". */
  type: string;
  /** What it is missing for, for example "template:tmpl_…". */
  subject: string;
  /** How it is lifted: who does what, with the command they run. */
  description: string;
}

/**
 * Code.FailedPrecondition that only someone else lifts (an operator's
 * permission), with a google.rpc.PreconditionFailure detail saying what is missing and
 * how it is lifted: waiting does not help, so it is no limit (docs/limits.md).
 */
export function preconditionFailed(message: string, failure: PreconditionFailureInfo): ConnectError {
  return new ConnectError(message, Code.FailedPrecondition, undefined, [
    { desc: PreconditionFailureSchema, value: { violations: [{ ...failure }] } },
  ]);
}

/** The PreconditionFailure detail of an error (any protocol), if it has one. */
export function preconditionFailureOf(err: unknown): PreconditionFailureInfo | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  const d =
    err.findDetails(PreconditionFailureSchema)[0]?.violations[0] ?? err.findDetails(OldPreconditionFailureSchema)[0];
  return d && { type: d.type, subject: d.subject, description: d.description };
}

/** Code.DeadlineExceeded: something we waited for did not happen in time. */
export function deadlineExceeded(message: string): ConnectError {
  return new ConnectError(message, Code.DeadlineExceeded);
}

/**
 * Reads the field violations back from an error (any protocol): its
 * BadRequest details, else the FieldViolation details of a server a release
 * older. [] if none.
 */
export function fieldViolations(err: unknown): FieldViolationInfo[] {
  if (!(err instanceof ConnectError)) return [];
  const standard = err.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations);
  const violations = standard.length > 0 ? standard : err.findDetails(OldFieldViolationSchema);
  return violations.map((v) => ({ field: v.field, description: v.description }));
}

// ---- Request field validation -------------------------------------------
// Each helper returns the value when valid and throws invalidArgument(field)
// otherwise. Lengths count Unicode code points, not UTF-16 units.

const utf8 = new TextEncoder();

export interface StringRule {
  /** Minimum length; default 1 (required). Use 0 for optional strings. */
  min?: number;
  max?: number;
  /** Maximum size in UTF-8 bytes (for large texts such as instructions). */
  maxBytes?: number;
  pattern?: RegExp;
  /** Shown instead of the regular expression, e.g. "a lower-case hex string". */
  patternHint?: string;
}

export function requireString(field: string, value: unknown, rule: StringRule = {}): string {
  if (typeof value !== "string") throw invalidArgument(field, "must be a string");
  const min = rule.min ?? 1;
  const length = codePoints(value);
  if (length < min) {
    throw invalidArgument(field, min === 1 ? "is required" : `must be at least ${min} characters`);
  }
  if (rule.max !== undefined && length > rule.max) {
    throw invalidArgument(field, `must be at most ${rule.max} characters`);
  }
  if (rule.maxBytes !== undefined && utf8.encode(value).length > rule.maxBytes) {
    throw invalidArgument(field, `must be at most ${rule.maxBytes} bytes`);
  }
  // An empty optional string is not checked against the pattern.
  if (rule.pattern && value.length > 0 && !rule.pattern.test(value)) {
    throw invalidArgument(field, `must be ${rule.patternHint ?? `matching ${rule.pattern}`}`);
  }
  return value;
}

/** An enum value that the schema defines; the zero value (UNSPECIFIED) only if allowed. */
export function requireEnum<T extends number>(
  field: string,
  value: T,
  schema: DescEnum,
  opts: { allowUnspecified?: boolean } = {},
): T {
  if (value === 0 && !opts.allowUnspecified) throw invalidArgument(field, "is required");
  if (!schema.values.some((v) => v.number === value)) {
    throw invalidArgument(field, `unknown value ${value}`);
  }
  return value;
}

export function requireInt<T extends number | bigint>(
  field: string,
  value: T,
  rule: { min?: number | bigint; max?: number | bigint } = {},
): T {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw invalidArgument(field, "must be an integer");
  }
  if (rule.min !== undefined && value < rule.min) throw invalidArgument(field, `must be at least ${rule.min}`);
  if (rule.max !== undefined && value > rule.max) throw invalidArgument(field, `must be at most ${rule.max}`);
  return value;
}

/** A message field (or any value) that must be set. */
export function requirePresent<T>(field: string, value: T | null | undefined): T {
  if (value === undefined || value === null) throw invalidArgument(field, "is required");
  return value;
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
