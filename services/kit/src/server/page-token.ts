import { invalidArgument } from "../content/errors.js";

/**
 * Opaque keyset cursors: the sort key values of the last row of a page,
 * base64url JSON. Keyset (not offset) so that a page costs the same however
 * deep it is and rows inserted meanwhile do not shift it.
 */
export function encodePageToken(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString("base64url");
}

/**
 * The values of a page token, or undefined for the first page. `valid` checks
 * them further (a date that is a date, a count that is a number), so a forged
 * token is the caller's INVALID_ARGUMENT, never a database error.
 */
export function decodePageToken(
  token: string,
  arity: number,
  field = "page_token",
  valid: (values: (string | number)[]) => boolean = () => true,
): (string | number)[] | undefined {
  if (token === "") return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(parsed)) {
      const values: unknown[] = parsed;
      if (values.length === arity && values.every(isKeyPart) && valid(values)) return values;
    }
  } catch {
    // fall through to the error below
  }
  throw invalidArgument(field, "is not a page token of this listing; pass the next_page_token of the previous page");
}

export function pageSize(value: number, field = "page_size"): number {
  if (value === 0) return 20;
  if (!Number.isInteger(value) || value < 1 || value > 100) throw invalidArgument(field, "must be 1 to 100");
  return value;
}

/** A value a page token may hold: a string, or a finite number. */
const isKeyPart = (v: unknown): v is string | number =>
  typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

/** For keyset cursors of (timestamp, id). */
export const isDateAndId = (v: (string | number)[]) =>
  typeof v[0] === "string" && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === "string";
