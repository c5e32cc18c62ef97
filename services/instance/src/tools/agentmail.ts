// The agent's mail client for AgentMail (https://api.agentmail.to, REST v0),
// the production mailbox provider, or the local stand-in that speaks its API
// (local-providers agentmail/). The claims service made the inbox and a key
// scoped to it, so the agent reads and sends as itself and nothing else. The
// same Mailbox as MailClient (mail.ts), with its helpers: HTML mail turned
// into text, text cut at 16 KiB. Failures are MailErrors in plain words for
// the conversation: never the key, never a stack.

import { MailError, cutText, htmlAsText, type Mailbox, type MailMessage, type MailSummary } from "./mail.js";

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
}

const UNREACHABLE = "the mailbox provider could not be reached";

export class AgentMailClient implements Mailbox {
  private readonly inboxUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: AgentMailClientOptions) {
    this.inboxUrl = `${opts.apiUrl.replace(/\/+$/, "")}/v0/inboxes/${encodeURIComponent(opts.inboxId)}`;
    this.fetch = opts.fetch ?? fetch;
  }

  /** Sends plain-text mail from the inbox's address; a reply names the mail it answers in its headers. */
  async send(m: { to: string; subject: string; text: string; inReplyTo?: string }): Promise<{ messageId: string }> {
    const reply = m.inReplyTo ? { headers: { "In-Reply-To": m.inReplyTo, References: m.inReplyTo } } : {};
    const sent = await this.request<{ message_id: string }>("the mail", "POST", "/messages/send", {
      to: m.to,
      subject: m.subject,
      text: m.text,
      ...reply,
    });
    return { messageId: sent.message_id };
  }

  /** The newest mail received first (not what it sent); default the 20 newest. */
  async list(opts: { limit?: number } = {}): Promise<MailSummary[]> {
    const query = new URLSearchParams({ limit: String(opts.limit ?? 20), labels: "received" });
    const page = await this.request<{ messages?: AgentMailMessage[] }>("to list the mail", "GET", `/messages?${query}`);
    return (page.messages ?? []).filter((m) => m.labels?.includes("received") ?? true).map(summaryOf);
  }

  /** One message by its id (from list), its text as AgentMail extracted it (without the quoted mail), else its text or its HTML as text. */
  async read(id: string): Promise<MailMessage> {
    const m = await this.request<AgentMailMessage>(
      "to show the mail",
      "GET",
      `/messages/${encodeURIComponent(id)}`,
      undefined,
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
    method: string,
    path: string,
    body?: unknown,
    notFound = "the mailbox no longer exists at the mailbox provider",
  ): Promise<T> {
    const timeoutMs = this.opts.timeoutMs ?? 15_000;
    let res: Response;
    try {
      res = await this.fetch(`${this.inboxUrl}${path}`, {
        method,
        headers: {
          accept: "application/json",
          authorization: `Bearer ${this.opts.apiKey}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new MailError(
        err instanceof Error && err.name === "TimeoutError"
          ? "the mailbox provider did not answer in time"
          : UNREACHABLE,
      );
    }
    const raw = await res.text().catch(() => "");
    let parsed: unknown;
    try {
      parsed = raw ? JSON.parse(raw) : {};
    } catch {
      throw new MailError(`the mailbox provider answered HTTP ${res.status} with something that is not JSON`);
    }
    if (res.ok) return parsed as T;
    if (res.status === 401 || res.status === 403) throw new MailError("the mailbox provider refused the key");
    if (res.status === 404) throw new MailError(notFound);
    if (res.status === 429) throw new MailError("the mailbox provider is busy; try again in a minute");
    if (res.status >= 500) throw new MailError(`the mailbox provider failed (HTTP ${res.status}); try again later`);
    throw new MailError(`the mailbox provider refused ${refused}: ${this.reason(parsed, res.status)}`);
  }

  /** AgentMail's `message`, with the key masked should it ever be echoed. */
  private reason(body: unknown, status: number): string {
    const message = (body as { message?: unknown } | null)?.message;
    const reason = typeof message === "string" && message ? message : `HTTP ${status}`;
    return reason.replaceAll(this.opts.apiKey, "[the API key]");
  }
}

function summaryOf(m: AgentMailMessage): MailSummary {
  const at = m.timestamp ? new Date(m.timestamp) : undefined;
  return {
    id: m.message_id,
    from: m.from ?? "",
    subject: m.subject ?? "",
    date: at && !Number.isNaN(at.getTime()) ? at.toISOString() : "",
    size: m.size ?? 0,
  };
}
