// AgentMail's errors, `{name, message}` with their HTTP status, and each one
// this stand-in answers, named for what it refuses.
import type { ApiErrors } from "../json-api.js";

/** An error as AgentMail writes it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }

  body() {
    return { name: this.name, message: this.message };
  }
}

export const invalid = (field: string, why: string) => new ApiError(400, "ValidationError", `${field} ${why}`);
export const notFound = (what: string) => new ApiError(404, "NotFoundError", `${what} not found`);
export const forbidden = () =>
  new ApiError(
    403,
    "ForbiddenError",
    "this key may not do that: an inbox's key reads and sends for its own inbox only",
  );
export const unauthorized = () =>
  new ApiError(401, "UnauthorizedError", "the Authorization header must be Bearer and an API key of this organization");
export const notLoopback = () => new ApiError(403, "ForbiddenError", "the /local routes answer loopback clients only");

export const API_ERRORS: ApiErrors = {
  answerOf: (err) => (err instanceof ApiError ? { status: err.status, body: err.body() } : undefined),
  tooLarge: (max) => new ApiError(413, "PayloadTooLargeError", `the body is larger than ${max} bytes`),
  notJson: () => new ApiError(400, "ValidationError", "the body is not JSON"),
  notObject: () => new ApiError(400, "ValidationError", "the body must be a JSON object"),
  badPath: () => ({ status: 404, body: notFound("the path").body() }),
  failed: () => ({
    status: 500,
    body: new ApiError(500, "ServerError", "the local AgentMail failed; see its log").body(),
  }),
};
