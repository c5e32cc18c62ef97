// Reading a request as AgentMail reads it: each field of a JSON body or
// query checked, and refused naming it. Pure: no state.
import type { JsonObject } from "../json-api.js";
import { invalid } from "./errors.js";

/** The largest body, and so the largest text or html of a mail. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
const MAX_RECIPIENTS = 50;
const PAGE_LIMIT = { default: 20, max: 100 };
const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/;
export const USERNAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

type Body = JsonObject;

export function optionalString(body: Body, field: string, max = 998): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalid(field, "must be a string");
  if (v.length > max) throw invalid(field, `is longer than ${max} characters`);
  return v;
}

/** The bare address of "Name <addr>" or "addr", lower-cased. */
export function bareAddress(s: string): string {
  return (/<([^<>]*)>\s*$/.exec(s)?.[1] ?? s).trim().toLowerCase();
}

/** The first address of a required address field. */
export function firstAddress(body: Body, field: string): string {
  const [first] = addressList(body, field, true);
  if (first === undefined) throw invalid(field, "is required");
  return first;
}

/** A string or a list of strings, each an address ("Name <addr>" allowed). */
export function addressList(body: Body, field: string, required = false): string[] {
  const v = body[field];
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) {
    if (required) throw invalid(field, "is required");
    return [];
  }
  const list = Array.isArray(v) ? v : [v];
  for (const a of list) {
    if (typeof a !== "string" || !ADDRESS.test(bareAddress(a)))
      throw invalid(field, `must be email addresses; ${JSON.stringify(a)} is not one`);
  }
  return list as string[];
}

function headersField(body: Body): Record<string, string> {
  const v = body.headers;
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v) || !Object.values(v).every((h) => typeof h === "string"))
    throw invalid("headers", "must be an object of strings");
  return v as Record<string, string>;
}

/** A mail's body: a text, an html or both, at least one. */
export function mailBodyFields(body: Body): { text: string | undefined; html: string | undefined } {
  const text = optionalString(body, "text", MAX_BODY_BYTES);
  const html = optionalString(body, "html", MAX_BODY_BYTES);
  if (text === undefined && html === undefined) throw invalid("text", "or html is required");
  return { text, html };
}

/** A mail an inbox sends (`POST .../messages/send`), as its body asks. */
export interface OutgoingMail {
  to: string[];
  cc: string[];
  subject: string;
  text: string | undefined;
  html: string | undefined;
  /** Every bare address it goes to (to, cc and bcc), once each. */
  recipients: string[];
  /** Its In-Reply-To header, if it has one. */
  inReplyTo: string | undefined;
}

export function outgoingMailOf(body: Body): OutgoingMail {
  const to = addressList(body, "to", true);
  const cc = addressList(body, "cc");
  const bcc = addressList(body, "bcc");
  addressList(body, "reply_to");
  const subject = optionalString(body, "subject") ?? "";
  const { text, html } = mailBodyFields(body);
  const recipients = [...new Set([...to, ...cc, ...bcc].map(bareAddress))];
  if (recipients.length > MAX_RECIPIENTS)
    throw invalid("to", `may name at most ${MAX_RECIPIENTS} recipients in all (with cc and bcc)`);
  const headers = headersField(body);
  const inReplyTo = Object.entries(headers).find(([h]) => h.toLowerCase() === "in-reply-to")?.[1];
  return { to, cc, subject, text, html, recipients, inReplyTo };
}

/** Which page of a list: how many, from where (`page_token`, which an earlier page gave), with which labels. */
export interface PageQuery {
  limit: number;
  start: number;
  labels: string[];
}

export function pageQueryOf(query: URLSearchParams): PageQuery {
  const rawLimit = query.get("limit");
  const limit = rawLimit === null ? PAGE_LIMIT.default : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT.max)
    throw invalid("limit", `must be a whole number from 1 to ${PAGE_LIMIT.max}`);
  const token = query.get("page_token");
  const start = token === null ? 0 : Number(Buffer.from(token, "base64url").toString("utf8"));
  if (!Number.isInteger(start) || start < 0) throw invalid("page_token", "is not a token this API gave");
  return { limit, start, labels: query.getAll("labels") };
}

/** The token of the page starting at `start`. */
export const pageToken = (start: number) => Buffer.from(String(start)).toString("base64url");
