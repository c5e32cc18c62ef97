// The stand-in's data and AgentMail's JSON for it: inboxes, their keys,
// messages as an inbox keeps them, and mail as the stand-in's callers see it
// (LocalMail). Pure: each record is built from its arguments alone.
import { pageToken, type PageQuery } from "./fields.js";

/** A mail as it reached an inbox here or an outside address's outbox. */
export interface LocalMail {
  messageId: string;
  threadId: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  html?: string;
  /** The message it answers (its In-Reply-To header), if any. */
  inReplyTo?: string;
  /** When it arrived, ISO 8601. */
  at: string;
}

/** A message as AgentMail stores it in an inbox (sent or received). */
export interface Message {
  inbox_id: string;
  thread_id: string;
  message_id: string;
  labels: string[];
  timestamp: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  preview: string;
  size: number;
  created_at: string;
  updated_at: string;
  text?: string;
  html?: string;
  extracted_text?: string;
  in_reply_to?: string;
}

export interface Inbox {
  pod_id: string;
  inbox_id: string;
  display_name: string | null;
  client_id: string | null;
  created_at: string;
  updated_at: string;
  /** Oldest first. */
  messages: Message[];
}

export interface ScopedKey {
  api_key_id: string;
  prefix: string;
  name: string;
  inbox_id: string;
  created_at: string;
}

/** A mail's parts, whoever sent it. */
export interface MailParts {
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  text?: string | undefined;
  html?: string | undefined;
  inReplyTo?: string | undefined;
}

/** The new text of a reply: its text without the quoted mail at its end (`On ... wrote:` and `>` lines). */
export function extractedText(text: string): string {
  const lines = text.split("\n");
  // Past the last line that is neither quoted (">") nor blank.
  let end = lines.findLastIndex((l) => !/^>/.test(l) && l.trim() !== "") + 1;
  if (end === lines.length) return text;
  const attribution = lines[end - 1];
  if (attribution !== undefined && /^On .+ wrote:\s*$/.test(attribution)) end--;
  const kept = lines.slice(0, end).join("\n").trimEnd();
  return kept || text;
}

/** The first 200 characters of its text (or its html without tags), white space collapsed. */
export function preview(m: { text?: string | undefined; html?: string | undefined }): string {
  const plain = m.text ?? (m.html ?? "").replace(/<[^>]*>/g, " ");
  return plain.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** A message as an inbox stores it, with `labels` ("sent", "received"), in thread `threadId`, at `at`. */
export function messageOf(
  inboxId: string,
  threadId: string,
  messageId: string,
  labels: string[],
  mail: MailParts,
  at: string,
): Message {
  return {
    inbox_id: inboxId,
    thread_id: threadId,
    message_id: messageId,
    labels,
    timestamp: at,
    from: mail.from,
    to: mail.to,
    cc: mail.cc,
    subject: mail.subject,
    preview: preview(mail),
    size: Buffer.byteLength(mail.subject) + Buffer.byteLength(mail.text ?? "") + Buffer.byteLength(mail.html ?? ""),
    created_at: at,
    updated_at: at,
    ...(mail.text !== undefined ? { text: mail.text, extracted_text: extractedText(mail.text) } : {}),
    ...(mail.html !== undefined ? { html: mail.html } : {}),
    ...(mail.inReplyTo !== undefined ? { in_reply_to: mail.inReplyTo } : {}),
  };
}

/** A mail as the stand-in's callers see it (tests, people, the /local routes). */
export function localMailOf(messageId: string, threadId: string, mail: MailParts, at: string): LocalMail {
  return {
    messageId,
    threadId,
    from: mail.from,
    to: mail.to,
    cc: mail.cc,
    subject: mail.subject,
    text: mail.text ?? "",
    ...(mail.html !== undefined ? { html: mail.html } : {}),
    ...(mail.inReplyTo !== undefined ? { inReplyTo: mail.inReplyTo } : {}),
    at,
  };
}

/** A message an inbox keeps, as its callers see it. */
export const messageAsLocal = (m: Message, at: string): LocalMail =>
  localMailOf(m.message_id, m.thread_id, { ...m, inReplyTo: m.in_reply_to }, at);

/** A message in a list: without its bodies. */
export function summary(m: Message) {
  const { text: _t, html: _h, extracted_text: _e, in_reply_to: _r, ...rest } = m;
  return rest;
}

export const inboxRecord = ({ messages: _, ...inbox }: Inbox) => inbox;

/** One page of an inbox's mail (oldest first), newest first; the page token is where the next page starts. */
export function pageOf(messages: readonly Message[], { limit, start, labels }: PageQuery) {
  const all = messages.filter((m) => labels.every((l) => m.labels.includes(l))).reverse();
  const page = all.slice(start, start + limit).map(summary);
  const next = start + limit < all.length ? pageToken(start + limit) : undefined;
  return { count: page.length, limit, ...(next ? { next_page_token: next } : {}), messages: page };
}
