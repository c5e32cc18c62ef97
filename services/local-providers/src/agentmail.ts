// A local stand-in of AgentMail's REST API v0 (https://api.agentmail.to),
// the production mailbox provider, which we cannot reach from here: the same
// endpoints, bodies, Bearer keys and `{name, message}` errors, so the claims
// service's provider and the agent's client (instance tools/agentmail.ts)
// work unchanged against either. An inbox's id is its address; the
// organization's key may do anything, an inbox-scoped key only read and send
// for its own inbox. Mail from one inbox here to another is delivered to it
// (label "received"); mail to any other address stays here, in that
// address's outbox, as the local mail server keeps people's mail.
//
// Everything is in memory: a restart forgets the inboxes, their keys and mail.
// The `/local/` routes take no key and answer loopback clients only: a person
// writes to an agent (`POST /local/messages`) and reads its replies
// (`GET /local/outbox/{address}`) with curl.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { sameSecret, type Logger } from "@convos-pool/kit";
import { isLoopback, readJsonObject, serveJsonApi, type ApiErrors, type JsonObject } from "./json-api.js";

export interface LocalAgentMailOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The organization's key (`Authorization: Bearer <key>`); default: a fresh one. */
  apiKey?: string;
  /** The inboxes' domain; default "agentmail.localhost". */
  domain?: string;
  log?: Logger;
}

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

export interface LocalAgentMail {
  /** http://host:port: the API's base, as https://api.agentmail.to is AgentMail's. */
  url: string;
  /** The organization's key. */
  apiKey: string;
  domain: string;
  /** Mail arriving from outside to an inbox here; throws when there is no such inbox. */
  deliver(to: string, mail: { from: string; subject: string; text?: string; html?: string }): LocalMail;
  /** What inboxes here sent to `address` (an address outside the stand-in), oldest first. */
  outbox(address: string): LocalMail[];
  /** The first mail (already, or within `ms`) that reached `address`, an inbox here or an outbox, and that `pred` accepts. */
  waitForMail(address: string, pred?: (m: LocalMail) => boolean, ms?: number): Promise<LocalMail>;
  close(): Promise<void>;
}

export const DEFAULT_AGENTMAIL_DOMAIN = "agentmail.localhost";
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const MAX_RECIPIENTS = 50;
const PAGE_LIMIT = { default: 20, max: 100 };
const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/;
const USERNAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

/** An error as AgentMail writes it: `{name, message}` with its status. */
class ApiError extends Error {
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

const invalid = (field: string, why: string) => new ApiError(400, "ValidationError", `${field} ${why}`);
const notFound = (what: string) => new ApiError(404, "NotFoundError", `${what} not found`);
const forbidden = () =>
  new ApiError(
    403,
    "ForbiddenError",
    "this key may not do that: an inbox's key reads and sends for its own inbox only",
  );

const API_ERRORS: ApiErrors = {
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

type Body = JsonObject;

/** A message as AgentMail stores it in an inbox (sent or received). */
interface Message {
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

interface Inbox {
  pod_id: string;
  inbox_id: string;
  display_name: string | null;
  client_id: string | null;
  created_at: string;
  updated_at: string;
  /** Oldest first. */
  messages: Message[];
}

interface ScopedKey {
  api_key_id: string;
  prefix: string;
  name: string;
  inbox_id: string;
  created_at: string;
}

function optionalString(body: Body, field: string, max = 998): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalid(field, "must be a string");
  if (v.length > max) throw invalid(field, `is longer than ${max} characters`);
  return v;
}

/** The bare address of "Name <addr>" or "addr", lower-cased. */
function bareAddress(s: string): string {
  return (/<([^<>]*)>\s*$/.exec(s)?.[1] ?? s).trim().toLowerCase();
}

/** A string or a list of strings, each an address ("Name <addr>" allowed). */
function addressList(body: Body, field: string, required = false): string[] {
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

/** The new text of a reply: its text without the quoted mail at its end (`On ... wrote:` and `>` lines). */
function extractedText(text: string): string {
  const lines = text.split("\n");
  let end = lines.length;
  while (end > 0 && (/^>/.test(lines[end - 1]!) || lines[end - 1]!.trim() === "")) end--;
  if (end === lines.length) return text;
  if (end > 0 && /^On .+ wrote:\s*$/.test(lines[end - 1]!)) end--;
  const kept = lines.slice(0, end).join("\n").trimEnd();
  return kept || text;
}

function preview(m: { text?: string; html?: string }): string {
  const plain = m.text ?? (m.html ?? "").replace(/<[^>]*>/g, " ");
  return plain.replace(/\s+/g, " ").trim().slice(0, 200);
}

function summary(m: Message) {
  const { text: _t, html: _h, extracted_text: _e, in_reply_to: _r, ...rest } = m;
  return rest;
}

function randomLetters(n: number): string {
  return [...randomBytes(n)].map((b) => String.fromCharCode(97 + (b % 26))).join("");
}

const hashOf = (secret: string) => createHash("sha256").update(secret).digest("hex");

interface Waiter {
  address: string;
  pred: (m: LocalMail) => boolean;
  resolve: (m: LocalMail) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** AgentMail's side: inboxes, their keys, their mail, and the outboxes of addresses outside. */
class Post {
  readonly inboxes = new Map<string, Inbox>();
  readonly byClientId = new Map<string, string>();
  /** sha256 of a scoped key → the key. */
  readonly keys = new Map<string, ScopedKey>();
  private readonly outboxes = new Map<string, LocalMail[]>();
  private readonly waiters = new Set<Waiter>();

  constructor(
    readonly domain: string,
    private readonly log?: Logger,
  ) {}

  createInbox(body: Body): Inbox {
    const clientId = optionalString(body, "client_id", 128);
    const existing = clientId === undefined ? undefined : this.inboxes.get(this.byClientId.get(clientId) ?? "");
    if (existing) return existing;
    const domain = optionalString(body, "domain")?.toLowerCase() ?? this.domain;
    if (domain !== this.domain) throw invalid("domain", `must be a verified domain; this one has ${this.domain} only`);
    const username = optionalString(body, "username")?.toLowerCase() ?? randomLetters(16);
    if (!USERNAME.test(username))
      throw invalid("username", "may hold letters, digits, dots, dashes and underscores only");
    const inboxId = `${username}@${domain}`;
    if (this.inboxes.has(inboxId)) throw invalid("username", `is taken: ${inboxId} exists`);
    const now = new Date().toISOString();
    const inbox: Inbox = {
      pod_id: randomUUID(),
      inbox_id: inboxId,
      display_name: optionalString(body, "display_name", 200) ?? null,
      client_id: clientId ?? null,
      created_at: now,
      updated_at: now,
      messages: [],
    };
    this.inboxes.set(inboxId, inbox);
    if (clientId !== undefined) this.byClientId.set(clientId, inboxId);
    this.log?.info("inbox created", { inbox: inboxId });
    return inbox;
  }

  /** Deletes the inbox, its mail and its keys. */
  deleteInbox(inbox: Inbox): void {
    this.inboxes.delete(inbox.inbox_id);
    if (inbox.client_id !== null) this.byClientId.delete(inbox.client_id);
    for (const [hash, key] of this.keys) if (key.inbox_id === inbox.inbox_id) this.keys.delete(hash);
    this.log?.info("inbox deleted", { inbox: inbox.inbox_id, messages: inbox.messages.length });
  }

  /** A new key for one inbox; its secret is in the answer only. */
  createKey(inbox: Inbox, name: string) {
    const apiKey = `am_${randomBytes(24).toString("base64url")}`;
    const key: ScopedKey = {
      api_key_id: randomUUID(),
      prefix: apiKey.slice(0, 10),
      name,
      inbox_id: inbox.inbox_id,
      created_at: new Date().toISOString(),
    };
    this.keys.set(hashOf(apiKey), key);
    this.log?.info("inbox key created", { inbox: inbox.inbox_id, id: key.api_key_id });
    return { ...key, api_key: apiKey };
  }

  deleteKey(inbox: Inbox, keyId: string): void {
    const found = [...this.keys].find(([, k]) => k.inbox_id === inbox.inbox_id && k.api_key_id === keyId);
    if (!found) throw notFound(`api key ${keyId}`);
    this.keys.delete(found[0]);
    this.log?.info("inbox key deleted", { inbox: inbox.inbox_id, id: keyId });
  }

  /** Sends from an inbox: a "sent" copy in it, a "received" copy in each recipient's inbox here, the rest to outboxes. */
  send(from: Inbox, body: Body) {
    const to = addressList(body, "to", true);
    const cc = addressList(body, "cc");
    const bcc = addressList(body, "bcc");
    addressList(body, "reply_to");
    const subject = optionalString(body, "subject") ?? "";
    const text = optionalString(body, "text", MAX_BODY_BYTES);
    const html = optionalString(body, "html", MAX_BODY_BYTES);
    if (text === undefined && html === undefined) throw invalid("text", "or html is required");
    const recipients = [...new Set([...to, ...cc, ...bcc].map(bareAddress))];
    if (recipients.length > MAX_RECIPIENTS)
      throw invalid("to", `may name at most ${MAX_RECIPIENTS} recipients in all (with cc and bcc)`);
    const headers = headersField(body);
    const inReplyTo = Object.entries(headers).find(([h]) => h.toLowerCase() === "in-reply-to")?.[1];
    const sender = from.display_name ? `${from.display_name} <${from.inbox_id}>` : from.inbox_id;
    const mail = { from: sender, to, cc, subject, text, html, inReplyTo };
    const messageId = `<${randomBytes(12).toString("hex")}@${this.domain}>`;

    const sent = this.store(from, messageId, ["sent"], mail);
    let outside = 0;
    for (const address of recipients) {
      const inbox = this.inboxes.get(address);
      if (inbox) this.store(inbox, messageId, ["received"], mail);
      else {
        outside++;
        this.toOutbox(address, this.localMail(messageId, sent.thread_id, mail));
      }
    }
    this.log?.info("mail sent", { from: from.inbox_id, recipients: recipients.length, outside });
    return { message_id: messageId, thread_id: sent.thread_id };
  }

  /** Mail from outside to an inbox here. */
  receive(inbox: Inbox, mail: { from: string; subject: string; text?: string; html?: string }): LocalMail {
    const messageId = `<${randomBytes(12).toString("hex")}@outside.localhost>`;
    const stored = this.store(inbox, messageId, ["received"], { ...mail, to: [inbox.inbox_id], cc: [] });
    this.log?.info("mail received", { to: inbox.inbox_id });
    return this.localMail(messageId, stored.thread_id, { ...mail, to: [inbox.inbox_id], cc: [] });
  }

  outbox(address: string): LocalMail[] {
    return [...(this.outboxes.get(bareAddress(address)) ?? [])];
  }

  waitFor(address: string, pred: (m: LocalMail) => boolean, ms: number): Promise<LocalMail> {
    const key = bareAddress(address);
    const inbox = this.inboxes.get(key);
    const arrived = inbox
      ? inbox.messages.filter((m) => m.labels.includes("received")).map((m) => this.asLocal(m))
      : this.outbox(key);
    const found = arrived.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        address: key,
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`no matching mail reached ${key} within ${ms} ms`));
        }, ms),
      };
      this.waiters.add(waiter);
    });
  }

  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`the local AgentMail closed before a matching mail reached ${w.address}`));
    }
    this.waiters.clear();
  }

  private store(inbox: Inbox, messageId: string, labels: string[], mail: MailParts): Message {
    const now = new Date().toISOString();
    // A reply joins the thread of the message it answers, when this inbox has it.
    const threadId =
      inbox.messages.find((m) => mail.inReplyTo !== undefined && m.message_id === mail.inReplyTo)?.thread_id ??
      randomUUID();
    const message: Message = {
      inbox_id: inbox.inbox_id,
      thread_id: threadId,
      message_id: messageId,
      labels,
      timestamp: now,
      from: mail.from,
      to: mail.to,
      cc: mail.cc,
      subject: mail.subject,
      preview: preview(mail),
      size: Buffer.byteLength(mail.subject) + Buffer.byteLength(mail.text ?? "") + Buffer.byteLength(mail.html ?? ""),
      created_at: now,
      updated_at: now,
      ...(mail.text !== undefined ? { text: mail.text, extracted_text: extractedText(mail.text) } : {}),
      ...(mail.html !== undefined ? { html: mail.html } : {}),
      ...(mail.inReplyTo !== undefined ? { in_reply_to: mail.inReplyTo } : {}),
    };
    inbox.messages.push(message);
    if (labels.includes("received")) this.arrived(inbox.inbox_id, this.asLocal(message));
    return message;
  }

  private toOutbox(address: string, mail: LocalMail): void {
    let box = this.outboxes.get(address);
    if (!box) this.outboxes.set(address, (box = []));
    box.push(mail);
    this.arrived(address, mail);
  }

  private arrived(address: string, mail: LocalMail): void {
    for (const w of this.waiters) {
      if (w.address !== address || !w.pred(mail)) continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(mail);
    }
  }

  private asLocal(m: Message): LocalMail {
    return this.localMail(m.message_id, m.thread_id, { ...m, inReplyTo: m.in_reply_to });
  }

  private localMail(messageId: string, threadId: string, mail: MailParts): LocalMail {
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
      at: new Date().toISOString(),
    };
  }
}

interface MailParts {
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  text?: string | undefined;
  html?: string | undefined;
  inReplyTo?: string | undefined;
}

/** One page of an inbox's mail, newest first; the page token is where the next page starts. */
function page(inbox: Inbox, query: URLSearchParams) {
  const rawLimit = query.get("limit");
  const limit = rawLimit === null ? PAGE_LIMIT.default : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT.max)
    throw invalid("limit", `must be a whole number from 1 to ${PAGE_LIMIT.max}`);
  const token = query.get("page_token");
  const start = token === null ? 0 : Number(Buffer.from(token, "base64url").toString("utf8"));
  if (!Number.isInteger(start) || start < 0) throw invalid("page_token", "is not a token this API gave");
  const labels = query.getAll("labels");
  const all = inbox.messages.filter((m) => labels.every((l) => m.labels.includes(l))).reverse();
  const messages = all.slice(start, start + limit).map(summary);
  const next = start + limit < all.length ? Buffer.from(String(start + limit)).toString("base64url") : undefined;
  return { count: messages.length, limit, ...(next ? { next_page_token: next } : {}), messages };
}

const inboxRecord = ({ messages: _, ...inbox }: Inbox) => inbox;

export async function startLocalAgentMail(opts: LocalAgentMailOptions = {}): Promise<LocalAgentMail> {
  const host = opts.host ?? "127.0.0.1";
  const apiKey = opts.apiKey ?? `am_local_${randomBytes(24).toString("base64url")}`;
  const log = opts.log;
  const post = new Post((opts.domain ?? DEFAULT_AGENTMAIL_DOMAIN).toLowerCase(), log);

  function inboxOf(id: string): Inbox {
    const inbox = post.inboxes.get(id.toLowerCase());
    if (!inbox) throw notFound(`inbox ${id}`);
    return inbox;
  }

  /** Who is calling: the organization, or the inbox a scoped key belongs to. */
  function caller(req: IncomingMessage): { org: true } | { org: false; inboxId: string } {
    const auth = req.headers.authorization ?? "";
    if (sameSecret(auth, `Bearer ${apiKey}`)) return { org: true };
    const scoped = auth.startsWith("Bearer ") ? post.keys.get(hashOf(auth.slice(7))) : undefined;
    if (scoped) return { org: false, inboxId: scoped.inbox_id };
    throw new ApiError(
      401,
      "UnauthorizedError",
      "the Authorization header must be Bearer and an API key of this organization",
    );
  }

  async function local(req: IncomingMessage, path: string[]): Promise<unknown> {
    if (!isLoopback(req.socket.remoteAddress))
      throw new ApiError(403, "ForbiddenError", "the /local routes answer loopback clients only");
    const [, what, address] = path;
    if (req.method === "POST" && what === "messages" && path.length === 2) {
      const body = await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS);
      const [to] = addressList(body, "to", true);
      const from = addressList(body, "from", true)[0]!;
      const text = optionalString(body, "text", MAX_BODY_BYTES);
      const html = optionalString(body, "html", MAX_BODY_BYTES);
      if (text === undefined && html === undefined) throw invalid("text", "or html is required");
      const mail = post.receive(inboxOf(bareAddress(to!)), {
        from,
        subject: optionalString(body, "subject") ?? "",
        text,
        html,
      });
      return { message_id: mail.messageId, thread_id: mail.threadId };
    }
    if (req.method === "GET" && what === "outbox" && address !== undefined && path.length === 3) {
      const messages = post.outbox(address);
      return { count: messages.length, messages };
    }
    throw notFound(`route ${req.method} ${req.url ?? ""}`);
  }

  async function route(
    req: IncomingMessage,
    path: string[],
    query: URLSearchParams,
  ): Promise<{ status: number; body?: unknown }> {
    const method = req.method ?? "GET";
    if (path[0] === "local") return { status: 200, body: await local(req, path) };
    const [version, inboxes, inboxId, collection, id, action] = path;
    if (version !== "v0" || inboxes !== "inboxes") throw notFound(`route ${method} ${req.url ?? ""}`);
    const who = caller(req);
    // A scoped key reads its inbox and its mail, and sends from it; nothing else.
    const mayRead = inboxId !== undefined && (who.org || who.inboxId === inboxId.toLowerCase());
    const orgOnly = () => {
      if (!who.org) throw forbidden();
    };
    const readable = () => {
      if (!mayRead) throw forbidden();
      return inboxOf(inboxId!);
    };

    if (inboxId === undefined && method === "POST") {
      orgOnly();
      return {
        status: 200,
        body: inboxRecord(post.createInbox(await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS))),
      };
    }
    if (inboxId !== undefined && collection === undefined) {
      if (method === "GET") return { status: 200, body: inboxRecord(readable()) };
      if (method === "DELETE") {
        orgOnly();
        post.deleteInbox(inboxOf(inboxId));
        return { status: 204 };
      }
    }
    if (collection === "api-keys" && action === undefined) {
      orgOnly();
      const inbox = inboxOf(inboxId!);
      if (method === "POST" && id === undefined) {
        const name = optionalString(await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS), "name", 200);
        if (!name) throw invalid("name", "is required");
        return { status: 200, body: post.createKey(inbox, name) };
      }
      if (method === "DELETE" && id !== undefined) {
        post.deleteKey(inbox, id);
        return { status: 204 };
      }
    }
    if (collection === "messages") {
      if (method === "POST" && id === "send" && action === undefined) {
        const inbox = readable();
        return { status: 200, body: post.send(inbox, await readJsonObject(req, MAX_BODY_BYTES, API_ERRORS)) };
      }
      if (method === "GET" && id === undefined) return { status: 200, body: page(readable(), query) };
      if (method === "GET" && id !== undefined && action === undefined) {
        const message = [...readable().messages].reverse().find((m) => m.message_id === id);
        if (!message) throw notFound(`message ${id}`);
        return { status: 200, body: message };
      }
    }
    throw notFound(`route ${method} ${req.url ?? ""}`);
  }

  const api = await serveJsonApi({
    name: "local AgentMail",
    host,
    port: opts.port ?? 0,
    log,
    errors: API_ERRORS,
    route,
  });
  const url = api.url;
  log?.info("local AgentMail up", { url, domain: post.domain });

  return {
    url,
    apiKey,
    domain: post.domain,
    deliver(to, mail) {
      const inbox = post.inboxes.get(bareAddress(to));
      if (!inbox) throw new Error(`no inbox ${to} in the local AgentMail`);
      if (mail.text === undefined && mail.html === undefined) throw new Error("a mail needs a text or an html body");
      return post.receive(inbox, mail);
    },
    outbox: (address) => post.outbox(address),
    waitForMail: (address, pred = () => true, ms = 10_000) => post.waitFor(address, pred, ms),
    async close() {
      post.close();
      await api.close();
    },
  };
}
