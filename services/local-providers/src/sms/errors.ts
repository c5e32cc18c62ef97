// Telnyx's errors, `{"errors":[{code, title, detail, source}]}` with their
// HTTP status, and each one this stand-in answers, named for what it refuses.
import type { ApiErrors } from "../json-api.js";

/** Where the refused value was: a JSON pointer into the body, or a query or path parameter. */
export type ErrorSource = { pointer: string } | { parameter: string };

/** An error as Telnyx writes it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly source?: ErrorSource,
  ) {
    super(detail);
  }

  body() {
    return {
      errors: [
        { code: this.code, title: this.title, detail: this.message, ...(this.source ? { source: this.source } : {}) },
      ],
    };
  }
}

export const notFound = (detail: string) => new ApiError(404, "10005", "Resource not found", detail);
export const missing = (field: string) =>
  new ApiError(422, "10004", "Missing required parameter", `${field} is required`, { pointer: `/${field}` });
export const invalid = (field: string, detail: string) =>
  new ApiError(422, "10015", "Bad Request", detail, { pointer: `/${field}` });
export const invalidParameter = (parameter: string, detail: string) =>
  new ApiError(422, "10015", "Bad Request", detail, { parameter });
export const invalidUrl = (detail: string) =>
  new ApiError(422, "10003", "Invalid URL", detail, { pointer: "/webhook_url" });
export const notANumber = (detail: string, source: ErrorSource) =>
  new ApiError(422, "10016", "Phone number must be in +E.164 format", detail, source);
export const noSuchProfile = () =>
  new ApiError(422, "10017", "Associated resource does not exist", "messaging_profile_id names no messaging profile", {
    pointer: "/messaging_profile_id",
  });
export const notOnProfile = () =>
  new ApiError(422, "40013", "Invalid source number", "from is not assigned to a messaging profile on this account", {
    pointer: "/from",
  });
export const unavailable = (index: number, phoneNumber: string) =>
  new ApiError(
    422,
    "10015",
    "Phone number not available",
    `${phoneNumber} is not available to order; search /v2/available_phone_numbers for numbers that are`,
    { pointer: `/phone_numbers/${index}/phone_number` },
  );
export const unauthenticated = () =>
  new ApiError(
    401,
    "10009",
    "Authentication failed",
    "the Authorization header must be Bearer and this server's API key",
  );
export const notLoopback = () =>
  new ApiError(403, "10010", "Authorization failed", "local phones answer loopback clients only");

export const API_ERRORS: ApiErrors = {
  answerOf: (err) => (err instanceof ApiError ? { status: err.status, body: err.body() } : undefined),
  tooLarge: (max) => new ApiError(413, "10015", "Bad Request", `the body is larger than ${max} bytes`),
  notJson: () => new ApiError(400, "10023", "Invalid JSON", "the body is not JSON"),
  notObject: () => new ApiError(400, "10015", "Bad Request", "the body must be a JSON object"),
  badPath: () => ({ status: 404, body: notFound("the path is not valid").body() }),
  failed: () => ({
    status: 500,
    body: new ApiError(500, "10007", "Unexpected error", "the local SMS server failed; see its log").body(),
  }),
};
