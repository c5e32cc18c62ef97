// The agent's mail client: SMTP (nodemailer) to send, POP3 to read, signed in
// with its mailbox's address and password. POP3 is spoken by hand on
// node:net (a few commands); each call is one session, so it sees the mail
// that has come since, and no connection waits between calls. Messages are
// parsed by mailparser, which turns HTML into plain text. Failures are
// MailErrors in plain words for the conversation: never the password, never
// a stack.

import { connect, type Socket } from "node:net";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import nodemailer, { type Transporter } from "nodemailer";

export interface MailClientOptions {
  /** smtp://host:port */
  smtpUrl: string;
  /** pop3://host:port */
  pop3Url: string;
  address: string;
  password: string;
  /** For connecting and for each answer; default 15 s. */
  timeoutMs?: number;
}

export interface MailSummary {
  /** The provider's unique id for the message (POP3 UIDL, AgentMail's message_id): stable, unlike its number. */
  id: string;
  from: string;
  subject: string;
  /** ISO 8601; empty when the mail has no date. */
  date: string;
  /** In octets. */
  size: number;
  /** The Message-ID it answers (In-Reply-To), and those of its thread (References): where it is told (routing/policy.ts). */
  inReplyTo?: string;
  references?: string | readonly string[];
  /** The mailbox provider's thread, when it keeps them (AgentMail). */
  threadId?: string;
}

export interface MailMessage {
  id: string;
  from: string;
  to: string;
  subject: string;
  date: string;
  /** Plain text (HTML mail converted), cut at 16 KiB with a note saying so. */
  text: string;
  /** The Message-ID header, for a reply's inReplyTo; empty when it has none. */
  messageId: string;
  /** What it answers, and its thread, as MailSummary has them: which conversation it belongs to (routing/mailbox-view.ts). */
  inReplyTo?: string;
  references?: string | readonly string[];
  threadId?: string;
}

/** A plain-text mail to send from the mailbox's address. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  inReplyTo?: string;
  /** An idempotency key (a scheduled firing's): the mail's Message-ID, or the provider's Idempotency-Key. */
  once?: string;
}

/**
 * What an agent does with its mailbox, whoever keeps it: the local mail server
 * (MailClient, SMTP and POP3) or AgentMail (AgentMailClient, agentmail.ts).
 * Failures are MailErrors.
 */
export interface Mailbox {
  /** Sends plain-text mail from the mailbox's address: its Message-ID, and its thread where the provider keeps them. */
  send(m: OutgoingMail): Promise<{ messageId: string; threadId?: string }>;
  /** The newest mail first; default the 20 newest. */
  list(opts?: { limit?: number }): Promise<MailSummary[]>;
  /** One message by its id (from list). */
  read(id: string): Promise<MailMessage>;
  close?(): void;
}

/** A mail call that failed, in words for the conversation. */
export class MailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MailError";
  }
}

const MAX_TEXT_BYTES = 16 * 1024;
const UNREACHABLE = "the mail server could not be reached";
const WRONG_PASSWORD = "the mail server refused the password";

export class MailClient implements Mailbox {
  private readonly transport: Transporter;
  private readonly pop3: { host: string; port: number };
  private readonly timeoutMs: number;
  /** The mail server lets one session at a time into a mailbox: calls wait their turn. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: MailClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    const smtp = serverUrl(opts.smtpUrl, "smtp:", 25);
    this.pop3 = serverUrl(opts.pop3Url, "pop3:", 110);
    this.transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      auth: { user: opts.address, pass: opts.password },
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
    });
  }

  /** Sends plain-text mail from this mailbox's address. */
  async send(m: OutgoingMail): Promise<{ messageId: string }> {
    try {
      const reply = m.inReplyTo ? { inReplyTo: m.inReplyTo, references: m.inReplyTo } : {};
      // A key's mail has a Message-ID of its own, the same on every send: the server keeps one (a retried firing).
      const id = m.once
        ? { messageId: `<${m.once.replace(/:/g, ".")}@${this.opts.address.split("@")[1] ?? "localhost"}>` }
        : {};
      const info = await this.transport.sendMail({
        from: this.opts.address,
        to: m.to,
        subject: m.subject,
        text: m.text,
        ...reply,
        ...id,
      });
      return { messageId: info.messageId };
    } catch (err) {
      throw sendFailure(err);
    }
  }

  /** The newest mail first; default the 20 newest. */
  list(opts: { limit?: number } = {}): Promise<MailSummary[]> {
    return this.session(async (pop) => (await this.summaries(pop, await pop.uids(), opts.limit ?? 20)).reverse());
  }

  /** The mail whose ids are not in `known`, newest first. Add the ids you have dealt with to `known`. */
  unseen(known: ReadonlySet<string>): Promise<MailSummary[]> {
    return this.session(async (pop) => {
      const fresh = (await pop.uids()).filter((m) => !known.has(m.id));
      return (await this.summaries(pop, fresh, fresh.length)).reverse();
    });
  }

  /** One message by its id (from list or unseen). */
  read(id: string): Promise<MailMessage> {
    return this.session(async (pop) => {
      const n = (await pop.uids()).find((m) => m.id === id)?.n;
      if (n === undefined) throw new MailError(`no message with id ${id}`);
      const mail = await parse((await pop.ok(`RETR ${n}`, true)).body);
      return {
        id,
        ...headline(mail),
        to: addresses(mail.to),
        text: cutText(mail.text ?? ""),
        messageId: mail.messageId ?? "",
        ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
        ...(mail.references ? { references: mail.references } : {}),
      };
    });
  }

  close(): void {
    this.transport.close();
  }

  /** The last `limit` of `messages` (oldest first, as the server numbers them), with their headers. */
  private async summaries(
    pop: Pop3Connection,
    messages: { n: number; id: string }[],
    limit: number,
  ): Promise<MailSummary[]> {
    const sizes = await pop.sizes();
    const out: MailSummary[] = [];
    for (const { n, id } of messages.slice(Math.max(0, messages.length - limit))) {
      const headers = await parse((await pop.ok(`TOP ${n} 0`, true)).body);
      const thread = {
        ...(headers.inReplyTo ? { inReplyTo: headers.inReplyTo } : {}),
        ...(headers.references ? { references: headers.references } : {}),
      };
      out.push({ id, ...headline(headers), size: sizes.get(n) ?? 0, ...thread });
    }
    return out;
  }

  /** Signs in, runs `work`, and says QUIT; one session at a time. */
  private session<T>(work: (pop: Pop3Connection) => Promise<T>): Promise<T> {
    const run = async () => {
      const pop = await Pop3Connection.open(this.pop3, this.timeoutMs);
      try {
        await pop.ok(`USER ${this.opts.address}`);
        const signIn = await pop.command(`PASS ${this.opts.password}`);
        if (!signIn.ok)
          throw new MailError(
            signIn.text.includes("[IN-USE]")
              ? "the mailbox is open in another mail client; try again soon"
              : WRONG_PASSWORD,
          );
        try {
          return await work(pop);
        } finally {
          // Also after a failed call: the server frees the mailbox when it answers, ready for the next call.
          await pop.command("QUIT").catch(() => undefined);
        }
      } finally {
        pop.close();
      }
    };
    const result = this.turn.then(run, run);
    this.turn = result.catch(() => undefined);
    return result;
  }
}

function serverUrl(url: string, protocol: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  if (u.protocol !== protocol) throw new Error(`expected a ${protocol}// URL, not ${JSON.stringify(url)}`);
  return { host: u.hostname, port: u.port ? Number(u.port) : defaultPort };
}

/** nodemailer's failure in plain words (its own message may name the AUTH command). */
function sendFailure(err: unknown): MailError {
  const e = err as { code?: string; responseCode?: number; response?: string };
  if (e.code === "EAUTH") return new MailError(WRONG_PASSWORD);
  if (e.code === "ECONNECTION" || e.code === "ETIMEDOUT" || e.code === "ESOCKET" || e.code === "EDNS")
    return new MailError(UNREACHABLE);
  // "550 5.1.1 no mailbox x@y": keep the server's reason, without the codes.
  if (e.responseCode && e.response)
    return new MailError(
      `the mail server refused the mail: ${e.response.replace(/^\d{3}[ -](\d\.\d{1,3}\.\d{1,3} )?/, "")}`,
    );
  return new MailError("the mail could not be sent");
}

// latin1 keeps each byte as one character, so mail goes to the parser exactly as it came.
const parse = (body: string) => simpleParser(Buffer.from(body, "latin1"));

function headline(mail: ParsedMail): { from: string; subject: string; date: string } {
  return { from: addresses(mail.from), subject: mail.subject ?? "", date: mail.date?.toISOString() ?? "" };
}

function addresses(a: AddressObject | AddressObject[] | undefined): string {
  return (Array.isArray(a) ? a : a ? [a] : []).map((x) => x.text).join(", ");
}

/** An HTML body as plain text, converted as mailparser converts HTML-only mail. */
export async function htmlAsText(html: string): Promise<string> {
  const mail = await simpleParser(
    Buffer.from(`Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${html}`, "utf8"),
  );
  return mail.text ?? "";
}

/** The text as the agent is shown it: at most 16 KiB, with a note saying so when cut. */
export function cutText(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= MAX_TEXT_BYTES) return text;
  // A character split at the cut decodes as U+FFFD: drop it.
  const kept = new TextDecoder().decode(bytes.subarray(0, MAX_TEXT_BYTES)).replace(/\uFFFD$/, "");
  return `${kept}\n\n[cut here: the text is ${Math.ceil(bytes.length / 1024)} KiB; only its first 16 KiB are shown]`;
}

interface Pop3Reply {
  ok: boolean;
  /** The status line after +OK or -ERR. */
  text: string;
  /** A multi-line answer's lines, dot-unstuffed, each ending in CRLF. */
  body: string;
}

/** One POP3 connection: a promise per command, answered in order. */
class Pop3Connection {
  private input = "";
  private readonly waiting: { multiline: boolean; resolve(r: Pop3Reply): void; reject(e: MailError): void }[] = [];
  private failure: MailError | undefined;
  private connected = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("connect", () => (this.connected = true));
    socket.on("data", (chunk: string) => {
      this.input += chunk;
      this.parse();
    });
    socket.on("error", () => this.fail(this.connected ? "the connection to the mail server broke" : UNREACHABLE));
    socket.on("close", () => this.fail("the mail server closed the connection"));
  }

  static async open(server: { host: string; port: number }, timeoutMs: number): Promise<Pop3Connection> {
    const socket = connect(server);
    const pop = new Pop3Connection(socket);
    socket.setTimeout(timeoutMs, () => {
      pop.fail(pop.connected ? "the mail server did not answer in time" : UNREACHABLE);
      socket.destroy();
    });
    const greeting = await pop.expect(false);
    if (!greeting.ok) throw new MailError(`the mail server turned us away: ${greeting.text}`);
    return pop;
  }

  command(line: string, multiline = false): Promise<Pop3Reply> {
    if (!this.failure) this.socket.write(`${line}\r\n`, "latin1");
    return this.expect(multiline);
  }

  /** A command that must succeed; -ERR becomes a MailError with the server's words. */
  async ok(line: string, multiline = false): Promise<Pop3Reply> {
    const reply = await this.command(line, multiline);
    if (!reply.ok) throw new MailError(`the mail server said: ${reply.text}`);
    return reply;
  }

  /** UIDL: each message's number and id, oldest first. */
  async uids(): Promise<{ n: number; id: string }[]> {
    return (await this.ok("UIDL", true)).body.split("\r\n").flatMap((line) => {
      const [n, id] = line.split(" ");
      return n && id ? [{ n: Number(n), id }] : [];
    });
  }

  /** LIST: each message's size by number. */
  async sizes(): Promise<Map<number, number>> {
    const lines = (await this.ok("LIST", true)).body.split("\r\n");
    return new Map(lines.filter(Boolean).map((line) => line.split(" ").map(Number) as [number, number]));
  }

  close(): void {
    this.socket.destroy();
  }

  private expect(multiline: boolean): Promise<Pop3Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ multiline, resolve, reject });
      this.parse();
    });
  }

  private parse(): void {
    for (let next = this.waiting[0]; next; next = this.waiting[0]) {
      const eol = this.input.indexOf("\r\n");
      if (eol === -1) return;
      const status = this.input.slice(0, eol);
      const ok = status.startsWith("+OK");
      if (!ok && !status.startsWith("-ERR")) {
        this.fail("the mail server does not speak POP3");
        return;
      }
      let body = "";
      let rest = eol + 2;
      if (ok && next.multiline) {
        // The answer ends at a line holding only "."; it may follow the status line at once.
        const end = this.input.indexOf("\r\n.\r\n", eol);
        if (end === -1) return;
        body = end === eol ? "" : this.input.slice(eol + 2, end + 2).replace(/^\./gm, "");
        rest = end + 5;
      }
      this.input = this.input.slice(rest);
      this.waiting.shift();
      next.resolve({ ok, text: status.replace(/^(\+OK|-ERR) ?/, ""), body });
    }
  }

  private fail(message: string): void {
    this.failure ??= new MailError(message);
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}
