// What the app shows for a failed call: the server's own message, and its
// field violations by the field they name, so that a form can show each
// beside its input.
import { Code, ConnectError } from "@connectrpc/connect";
import { fieldViolations } from "@convos-pool/kit/browser";

export interface ShownError {
  /** Shown above the form (or alone): the whole message, or what no field took. */
  message: string;
  /** Field path (as the server names it: "content.agent_name") to its description. */
  fields: Record<string, string>;
  code: Code | undefined;
}

const CODE_HINTS: Partial<Record<Code, string>> = {
  [Code.Unauthenticated]: "Sign in again.",
  [Code.Unavailable]: "The pool cannot be reached right now; try again.",
  [Code.ResourceExhausted]: "Too many at once; wait a moment and try again.",
};

/** A mistake the app finds itself, in what one field holds (a key file, the JSON view). */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The pool answered without what the page asked it for: its answer is at fault, not the person. */
export function missingFromAnswer(what: string): Error {
  return new Error(`The pool's answer has no ${what}; try again.`);
}

export function shownError(err: unknown): ShownError {
  if (err instanceof FieldError) return { message: err.message, fields: { [err.field]: err.message }, code: undefined };
  if (!(err instanceof ConnectError)) {
    const message = err instanceof Error ? err.message : String(err);
    // A wallet that refused to sign says so in its own words.
    return { message, fields: {}, code: undefined };
  }
  const fields: Record<string, string> = {};
  for (const v of fieldViolations(err)) fields[v.field] = v.description;
  const hint = CODE_HINTS[err.code];
  return {
    message: hint && !err.rawMessage.endsWith(".") ? `${err.rawMessage}. ${hint}` : err.rawMessage,
    fields,
    code: err.code,
  };
}
