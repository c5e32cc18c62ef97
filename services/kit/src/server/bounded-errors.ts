// Every error a server answers, cut to a size every protocol carries (docs/server-kit.md, "Errors").
// Over gRPC an error's message and details travel in HTTP/2 trailers, and
// trailers past what the peer accepts (64 KiB in Node) break the stream: the
// caller reads INTERNAL instead of the code, and the connection goes away.
// A message that quotes the request (`instance <id> not found`, a map's keys
// in field violations) could get there, so every error a server answers is
// cut to these sizes (startServer's boundedErrorsInterceptor). The log keeps
// the whole error.
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { FieldViolationSchema as OldFieldViolationSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { BadRequestSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";
import { badRequest, fieldViolations } from "../content/errors.js";

/** Characters of an error's message; each field violation's field and description get MAX_VIOLATION_TEXT. */
export const MAX_ERROR_MESSAGE = 2_000;
const MAX_VIOLATION_TEXT = 500;
/** Field violations answered at most; the message counts the rest. */
const MAX_VIOLATIONS = 20;

/** A lone UTF-16 surrogate: gRPC percent-encodes a message as UTF-8, which cannot hold one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function cut(text: string, max: number): string {
  const chars = [...text.replace(new RegExp(LONE_SURROGATE, "g"), "\uFFFD")];
  return chars.length <= max
    ? chars.join("")
    : `${chars.slice(0, max).join("")}… (${chars.length - max} more characters)`;
}

/** The error with its message and field violations cut to size; the same error when they fit. */
export function boundedError(err: ConnectError): ConnectError {
  const violations = fieldViolations(err);
  const long = (s: string, max: number) => s.length > max || LONE_SURROGATE.test(s);
  if (
    !long(err.rawMessage, MAX_ERROR_MESSAGE) &&
    violations.length <= MAX_VIOLATIONS &&
    !violations.some((v) => long(v.field, MAX_VIOLATION_TEXT) || long(v.description, MAX_VIOLATION_TEXT))
  ) {
    return err;
  }
  // The violations, read from either detail, go back as one BadRequest.
  const violationTypes: string[] = [BadRequestSchema.typeName, OldFieldViolationSchema.typeName];
  const others = err.details.filter((d) => !violationTypes.includes("desc" in d ? d.desc.typeName : d.type));
  const kept = violations
    .slice(0, MAX_VIOLATIONS)
    .map((v) => ({ field: cut(v.field, MAX_VIOLATION_TEXT), description: cut(v.description, MAX_VIOLATION_TEXT) }));
  const more = violations.length > MAX_VIOLATIONS ? ` (and ${violations.length - MAX_VIOLATIONS} more)` : "";
  const bounded = new ConnectError(
    cut(err.rawMessage, MAX_ERROR_MESSAGE) + more,
    err.code,
    err.metadata,
    undefined,
    err.cause,
  );
  bounded.details = kept.length > 0 ? [...others, badRequest(kept)] : others;
  return bounded;
}

/** Cuts every error a handler (or an interceptor after this one) throws to size: boundedError. */
export function boundedErrorsInterceptor(): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      throw err instanceof ConnectError ? boundedError(err) : err;
    }
  };
}
