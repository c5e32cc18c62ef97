// AgentMail's side: the inboxes, their keys and their mail, delivery from
// one inbox here to another, and the outboxes of addresses outside, which
// tests and people read and wait on.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "@convos-pool/kit/server";
import { Waiters } from "../waiters.js";
import type { JsonObject } from "../json-api.js";
import { invalid, notFound } from "./errors.js";
import { bareAddress, optionalString, outgoingMailOf, USERNAME } from "./fields.js";
import {
  localMailOf,
  messageAsLocal,
  messageOf,
  type Inbox,
  type LocalMail,
  type MailParts,
  type Message,
  type ScopedKey,
} from "./messages.js";

/** How a scoped key is kept: its sha256, never the key itself. */
export const hashOf = (secret: string) => createHash("sha256").update(secret).digest("hex");

function randomLetters(n: number): string {
  return [...randomBytes(n)].map((b) => String.fromCharCode(97 + (b % 26))).join("");
}

const now = () => new Date().toISOString();

export class Post {
  readonly inboxes = new Map<string, Inbox>();
  readonly byClientId = new Map<string, string>();
  /** sha256 of a scoped key → the key. */
  readonly keys = new Map<string, ScopedKey>();
  private readonly outboxes = new Map<string, LocalMail[]>();
  /** Address → who waits for mail to it. */
  private readonly waiters = new Map<string, Waiters<LocalMail>>();

  constructor(
    readonly domain: string,
    private readonly log?: Logger,
  ) {}

  createInbox(body: JsonObject): Inbox {
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
    const at = now();
    const inbox: Inbox = {
      pod_id: randomUUID(),
      inbox_id: inboxId,
      display_name: optionalString(body, "display_name", 200) ?? null,
      client_id: clientId ?? null,
      created_at: at,
      updated_at: at,
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
      created_at: now(),
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
  send(from: Inbox, body: JsonObject) {
    const { to, cc, subject, text, html, recipients, inReplyTo } = outgoingMailOf(body);
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
        this.toOutbox(address, localMailOf(messageId, sent.thread_id, mail, now()));
      }
    }
    this.log?.info("mail sent", { from: from.inbox_id, recipients: recipients.length, outside });
    return { message_id: messageId, thread_id: sent.thread_id };
  }

  /** Mail from outside to an inbox here. */
  receive(
    inbox: Inbox,
    mail: { from: string; subject: string; text?: string | undefined; html?: string | undefined },
  ): LocalMail {
    const messageId = `<${randomBytes(12).toString("hex")}@outside.localhost>`;
    const stored = this.store(inbox, messageId, ["received"], { ...mail, to: [inbox.inbox_id], cc: [] });
    this.log?.info("mail received", { to: inbox.inbox_id });
    return localMailOf(messageId, stored.thread_id, { ...mail, to: [inbox.inbox_id], cc: [] }, now());
  }

  outbox(address: string): LocalMail[] {
    return [...(this.outboxes.get(bareAddress(address)) ?? [])];
  }

  waitFor(address: string, pred: (m: LocalMail) => boolean, ms: number): Promise<LocalMail> {
    const key = bareAddress(address);
    const inbox = this.inboxes.get(key);
    const arrived = inbox
      ? inbox.messages.filter((m) => m.labels.includes("received")).map((m) => messageAsLocal(m, now()))
      : this.outbox(key);
    const found = arrived.find(pred);
    if (found) return Promise.resolve(found);
    let waiters = this.waiters.get(key);
    if (!waiters) {
      waiters = new Waiters();
      this.waiters.set(key, waiters);
    }
    return waiters.wait(pred, ms, {
      timedOut: `no matching mail reached ${key} within ${ms} ms`,
      closed: `the local AgentMail closed before a matching mail reached ${key}`,
    });
  }

  close(): void {
    for (const waiters of this.waiters.values()) waiters.close();
  }

  private store(inbox: Inbox, messageId: string, labels: string[], mail: MailParts): Message {
    // A reply joins the thread of the message it answers, when this inbox has it.
    const threadId =
      inbox.messages.find((m) => mail.inReplyTo !== undefined && m.message_id === mail.inReplyTo)?.thread_id ??
      randomUUID();
    const message = messageOf(inbox.inbox_id, threadId, messageId, labels, mail, now());
    inbox.messages.push(message);
    if (labels.includes("received")) this.arrived(inbox.inbox_id, messageAsLocal(message, now()));
    return message;
  }

  private toOutbox(address: string, mail: LocalMail): void {
    let box = this.outboxes.get(address);
    if (!box) {
      box = [];
      this.outboxes.set(address, box);
    }
    box.push(mail);
    this.arrived(address, mail);
  }

  private arrived(address: string, mail: LocalMail): void {
    this.waiters.get(address)?.offer(mail);
  }
}
