// The agent's mail client for AgentMail (https://api.agentmail.to, REST v0),
// the production mailbox provider, or the local stand-in that speaks its API
// (local-providers agentmail/). The claims service made the inbox and a key
// scoped to it, so the agent reads and sends as itself and nothing else. The
// same Mailbox as MailClient (mail.ts), with its helpers: HTML mail turned
// into text, text cut at 16 KiB. Failures are MailErrors in plain words for
// the conversation: never the key, never a stack. The calls go through the
// kit's HttpClient: reading is sent again after a failure that may pass,
// sending never (a mail could go twice).

import { Code } from "@connectrpc/connect";
import { HttpClient, HttpError, type HttpRequest } from "@convos-pool/kit/server";
import {
  MailError,
  cutText,
  htmlAsText,
  type Mailbox,
  type MailMessage,
  type MailSummary,
  type OutgoingMail,
} from "./mail.js";

export interface AgentMailClientOptions {
  /** https://api.agentmail.to, or the stand-in's url; `/v0/...` is appended. */
  apiUrl: string;
  /** The inbox; its id is its address. */
  inboxId: string;
  /** The key scoped to the inbox. A secret. */
  apiKey: string;
  /** Per request; default 15 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** A message as AgentMail lists it (and, with its bodies, shows it). */
interface AgentMailMessage {
  message_id: string;
  from?: string;
  to?: string[];
  subject?: string;
  timestamp?: string;
  size?: number;
  labels?: string[];
  text?: string;
  html?: string;
  extracted_text?: string;
  thread_id?: string;
  in_reply_to?: string;
  references?: string[];
}

export class AgentMailClient implements Mailbox {
  private readonly http: HttpClient;
  private readonly inboxPath: string;

  constructor(opts: AgentMailClientOptions) {
    this.http = new HttpClient({
      service: "the mailbox provider",
      baseUrl: opts.apiUrl,
      token: opts.apiKey,
      timeoutMs: opts.timeoutMs,
      fetch: opts.fetch,
      reason: (body) => {
        const message = (body as { message?: unknown } | null)?.message;
        return typeof message === "string" && message ? message : undefined;
      },
    });
    this.inboxPath = `/v0/inboxes/${encodeURIComponent(opts.inboxId)}`;
  }

  /** Sends plain-text mail from the inbox's address; a reply names the mail it answers in its headers. */
  async send(m: OutgoingMail): Promise<{ messageId: string; threadId?: string }> {
    const reply = m.inReplyTo ? { headers: { "In-Reply-To": m.inReplyTo, References: m.inReplyTo } } : {};
    const sent = await this.request<{ message_id: string; thread_id?: string }>("the mail", {
      method: "POST",
      path: "/messages/send",
      body: { to: m.to, subject: m.subject, text: m.text, ...reply },
      // AgentMail (and its stand-in) keep one mail per key: with one, a send that failed may be sent again.
      idempotencyKey: m.once,
    });
    return { messageId: sent.message_id, ...(sent.thread_id ? { threadId: sent.thread_id } : {}) };
  }

  /** The newest mail received first (not what it sent); default the 20 newest. */
  async list(opts: { limit?: number } = {}): Promise<MailSummary[]> {
    const page = await this.request<{ messages?: AgentMailMessage[] }>("to list the mail", {
      method: "GET",
      path: "/messages",
      query: { limit: opts.limit ?? 20, labels: "received" },
    });
    return (page.messages ?? []).filter((m) => m.labels?.includes("received") ?? true).map(summaryOf);
  }

  /** One message by its id (from list), its text as AgentMail extracted it (without the quoted mail), else its text or its HTML as text. */
  async read(id: string): Promise<MailMessage> {
    const m = await this.request<AgentMailMessage>(
      "to show the mail",
      { method: "GET", path: `/messages/${encodeURIComponent(id)}` },
      `no message with id ${id}`,
    );
    const text = m.extracted_text || m.text || (m.html ? await htmlAsText(m.html) : "");
    const { size: _, ...headline } = summaryOf(m);
    return { ...headline, to: (m.to ?? []).join(", "), text: cutText(text), messageId: m.message_id };
  }

  /** Nothing stays open between calls. */
  close(): void {}

  /** `refused` completes "the mailbox provider refused ..."; `notFound` is said for a 404. */
  private async request<T>(
    refused: string,
    /** Its path is the inbox's: `/messages`. */
    req: HttpRequest,
    notFound = "the mailbox no longer exists at the mailbox provider",
  ): Promise<T> {
    try {
      return ((await this.http.call<T>({ ...req, path: `${this.inboxPath}${req.path}` })) ?? {}) as T;
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      throw new MailError(plainWords(err, refused, notFound));
    }
  }
}

/** What a failed call says to the conversation. */
function plainWords(err: HttpError, refused: string, notFound: string): string {
  const status = err.status;
  if (status === undefined)
    return err.code === Code.DeadlineExceeded
      ? "the mailbox provider did not answer in time"
      : "the mailbox provider could not be reached";
  // A 2xx that is not JSON: the client's words.
  if (status < 300) return err.rawMessage;
  if (status === 401 || status === 403) return "the mailbox provider refused the key";
  if (status === 404) return notFound;
  if (status === 429) return "the mailbox provider is busy; try again in a minute";
  if (status >= 500) return `the mailbox provider failed (HTTP ${status}); try again later`;
  return `the mailbox provider refused ${refused}: ${err.reason ?? `HTTP ${status}`}`;
}

function summaryOf(m: AgentMailMessage): MailSummary {
  const at = m.timestamp ? new Date(m.timestamp) : undefined;
  return {
    id: m.message_id,
    from: m.from ?? "",
    subject: m.subject ?? "",
    date: at && !Number.isNaN(at.getTime()) ? at.toISOString() : "",
    size: m.size ?? 0,
    ...(m.thread_id ? { threadId: m.thread_id } : {}),
    ...(m.in_reply_to ? { inReplyTo: m.in_reply_to } : {}),
    ...(m.references?.length ? { references: m.references } : {}),
  };
}
