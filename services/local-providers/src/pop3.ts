// The local mail server's reading side: POP3 (RFC 1939, with RFC 2449's
// CAPA) over the mailboxes on disk (maildirs.ts), so that an agent reads its
// mail, and a person's mail client reads what agents sent them, over a real
// protocol. Hand-written on node:net: no maintained POP3 server library
// exists, and the protocol is small.
//
// A session signs in with USER and PASS: an agent's address and its mailbox
// password, or a person's address, whose first password becomes the
// mailbox's (Maildirs.signIn). Signing in moves new mail to cur/ and takes a
// snapshot of it; message numbers refer to that snapshot, UIDL gives each
// message's maildir name, and DELE takes effect only at QUIT. One session per
// mailbox at a time, as RFC 1939 asks. Logs say who signed in and how many
// messages, never a password or a message's content.
import { createServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, type Logger } from "@convos-pool/kit/server";
import type { Maildirs, StoredMessage } from "./maildirs.js";

export interface LocalPop3Options {
  mailboxes: Maildirs;
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** Sessions at once; default 20. */
  maxConnections?: number;
  /** A session silent this long is closed; default 10 minutes, RFC 1939's least. */
  idleTimeoutMs?: number;
  /** How long a wrong password waits for its answer (slows guessing); default 1 s. */
  failedSignInDelayMs?: number;
  log?: Logger;
}

export interface RunningPop3 {
  host: string;
  port: number;
  /** pop3://host:port, for a mail client. */
  url: string;
  close(): Promise<void>;
}

/** RFC 2449 allows 255 octets per command line; some margin beyond it for long passwords. */
const MAX_LINE = 512;
/** Wrong passwords in one session before it is closed. */
const MAX_FAILED_SIGN_INS = 3;
const CAPABILITIES = ["USER", "TOP", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE"];

interface Shared {
  mailboxes: Maildirs;
  /** Mailboxes with a session signed in. */
  inUse: Set<string>;
  failedSignInDelayMs: number;
  log: Logger | undefined;
}

export async function startLocalPop3(opts: LocalPop3Options): Promise<RunningPop3> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port || (await freePort(host));
  const maxConnections = opts.maxConnections ?? 20;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 10 * 60_000;
  const shared: Shared = {
    mailboxes: opts.mailboxes,
    inUse: new Set(),
    failedSignInDelayMs: opts.failedSignInDelayMs ?? 1000,
    log: opts.log,
  };
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    socket.on("error", () => socket.destroy());
    if (sockets.size >= maxConnections) {
      socket.end("-ERR [SYS/TEMP] too many sessions, try again later\r\n");
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // RFC 1939: an idle session is closed without a word and without deleting anything.
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    new Pop3Session(socket, shared);
  });
  server.on("error", (err) => opts.log?.warn("local POP3 server error", { err }));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  opts.log?.info("local POP3 up", { host, port });
  return {
    host,
    port,
    url: `pop3://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

interface Entry extends StoredMessage {
  deleted: boolean;
}

/** One client's session: reads command lines, answers them one at a time, in order. */
class Pop3Session {
  private input = "";
  private readonly queue: string[] = [];
  private busy = false;
  private user: string | undefined;
  private failures = 0;
  /** Set once signed in (the TRANSACTION state). */
  private address: string | undefined;
  private messages: Entry[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly shared: Shared,
  ) {
    // latin1 keeps every byte as one character: messages go out exactly as stored.
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("close", () => this.release());
    this.send("+OK Convos agent pool, local POP3 (nothing leaves this machine)");
  }

  private receive(chunk: string): void {
    this.input += chunk;
    for (let end = this.input.indexOf("\n"); end !== -1; end = this.input.indexOf("\n")) {
      const line = this.input.slice(0, end).replace(/\r$/, "");
      this.input = this.input.slice(end + 1);
      if (line.length > MAX_LINE) {
        this.refuseLongLine();
        return;
      }
      this.queue.push(line);
    }
    if (this.input.length > MAX_LINE) {
      this.refuseLongLine();
      return;
    }
    void this.drain();
  }

  private refuseLongLine(): void {
    this.queue.length = 0;
    this.socket.end(`-ERR a command line is at most ${MAX_LINE} octets\r\n`);
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.socket.writable) {
        const line = this.queue.shift();
        if (line === undefined) break;
        await this.handle(line);
      }
    } catch (err) {
      this.shared.log?.warn("POP3 session failed", { err, address: this.address });
      this.socket.end("-ERR [SYS/TEMP] the mailbox could not be read\r\n");
    } finally {
      this.busy = false;
    }
  }

  private send(line: string): void {
    this.socket.write(`${line}\r\n`, "latin1");
  }

  /** A multi-line answer: status, then lines (byte-stuffed), then ".". */
  private sendLines(status: string, lines: string[]): void {
    const body = lines.map((l) => (l.startsWith(".") ? `.${l}\r\n` : `${l}\r\n`)).join("");
    this.socket.write(`${status}\r\n${body}.\r\n`, "latin1");
  }

  private async handle(line: string): Promise<void> {
    const [word = "", ...args] = line.split(" ");
    const command = word.toUpperCase();
    if (command === "CAPA") return this.sendLines("+OK capabilities follow", CAPABILITIES);
    if (command === "QUIT") return this.quit();
    const address = this.address;
    if (address === undefined) {
      if (command === "USER") return this.userCommand(args);
      // The password is the rest of the line: it may hold spaces.
      if (command === "PASS") return this.pass(line.slice(5));
      return this.send("-ERR sign in first: USER, then PASS");
    }
    switch (command) {
      case "STAT": {
        // RFC 1939: exactly "+OK count octets", for clients that parse it.
        const { count, octets } = this.totals();
        return this.send(`+OK ${count} ${octets}`);
      }
      case "LIST":
        return this.perMessage(args, "size");
      case "UIDL":
        return this.perMessage(args, "id");
      case "RETR":
        return this.retrieve(address, args[0], undefined);
      case "TOP":
        return this.top(address, args);
      case "DELE":
        return this.dele(args[0]);
      case "RSET":
        for (const m of this.messages) m.deleted = false;
        return this.send(`+OK ${this.summary()}`);
      case "NOOP":
        return this.send("+OK");
      default:
        return this.send(command === "USER" || command === "PASS" ? "-ERR already signed in" : "-ERR unknown command");
    }
  }

  private userCommand(args: string[]): void {
    // Said for any name: whether a mailbox exists is told to no one.
    this.user = args.join(" ").toLowerCase();
    this.send("+OK now PASS");
  }

  private async pass(password: string): Promise<void> {
    const { mailboxes, inUse, log } = this.shared;
    const address = this.user;
    if (address === undefined) return this.send("-ERR USER first");
    this.user = undefined;
    if (!(await mailboxes.signIn(address, password))) {
      this.failures++;
      // Only a well-formed address is logged: a password typed into the name field must not reach a log.
      log?.info("POP3 sign-in refused", {
        address: mailboxes.isAddress(address) || mailboxes.isPersonAddress(address) ? address : "(not an address)",
      });
      await sleep(this.shared.failedSignInDelayMs);
      if (this.failures >= MAX_FAILED_SIGN_INS)
        return void this.socket.end("-ERR [AUTH] the address or its password is wrong; closing\r\n");
      return this.send("-ERR [AUTH] the address or its password is wrong");
    }
    if (!this.socket.writable) return; // the client left while its password was checked
    if (inUse.has(address)) return this.send("-ERR [IN-USE] the mailbox is open in another session");
    inUse.add(address);
    this.address = address;
    await mailboxes.moveNewToCur(address);
    this.messages = (await mailboxes.listMessages(address)).map((m) => ({ ...m, deleted: false }));
    log?.info("POP3 sign-in", { address, messages: this.messages.length, octets: this.totals().octets });
    this.send(`+OK ${this.summary()}`);
  }

  /** The messages and octets not marked deleted. */
  private totals(): { count: number; octets: number } {
    const live = this.messages.filter((m) => !m.deleted);
    return { count: live.length, octets: live.reduce((sum, m) => sum + m.size, 0) };
  }

  private summary(): string {
    const { count, octets } = this.totals();
    return `${count} messages (${octets} octets)`;
  }

  /** The message a command's argument names, or undefined after answering -ERR. */
  private pick(arg: string | undefined): { n: number; message: Entry } | undefined {
    const n = arg !== undefined && /^[1-9][0-9]{0,8}$/.test(arg) ? Number(arg) : 0;
    const message = this.messages[n - 1];
    if (!message) return void this.send(`-ERR no message ${arg ?? ""}`.trimEnd());
    if (message.deleted) return void this.send(`-ERR message ${n} is deleted`);
    return { n, message };
  }

  /** LIST and UIDL: one message's line, or all of them. */
  private perMessage(args: string[], field: "size" | "id"): void {
    if (args.length > 0) {
      const picked = this.pick(args[0]);
      if (picked) this.send(`+OK ${picked.n} ${picked.message[field]}`);
      return;
    }
    const lines = this.messages.flatMap((m, i) => (m.deleted ? [] : [`${i + 1} ${m[field]}`]));
    this.sendLines(field === "size" ? `+OK ${this.summary()}` : "+OK unique ids follow", lines);
  }

  private async top(address: string, args: string[]): Promise<void> {
    if (!/^[0-9]{1,9}$/.test(args[1] ?? "")) return this.send("-ERR TOP takes a message number and a count of lines");
    await this.retrieve(address, args[0], Number(args[1]));
  }

  /** RETR, or with `bodyLines` TOP: the headers, the blank line and that many lines of the body. */
  private async retrieve(address: string, arg: string | undefined, bodyLines: number | undefined): Promise<void> {
    const picked = this.pick(arg);
    if (!picked) return;
    const raw = (await this.shared.mailboxes.readMessage(address, picked.message.id)).toString("latin1");
    let lines = raw.split(/\r?\n/);
    if (raw.endsWith("\n")) lines.pop(); // the last line's break, not an empty line after it
    if (bodyLines !== undefined) {
      const blank = lines.indexOf("");
      if (blank !== -1) lines = lines.slice(0, blank + 1 + bodyLines);
    }
    this.sendLines(`+OK ${picked.message.size} octets`, lines);
  }

  private dele(arg: string | undefined): void {
    const picked = this.pick(arg);
    if (!picked) return;
    picked.message.deleted = true;
    this.send(`+OK message ${picked.n} deleted`);
  }

  /** Signed in, QUIT is the UPDATE state: messages marked deleted are removed. */
  private async quit(): Promise<void> {
    const address = this.address;
    if (address === undefined) return void this.socket.end("+OK bye\r\n");
    const doomed = this.messages.filter((m) => m.deleted);
    let failed = 0;
    for (const m of doomed) {
      await this.shared.mailboxes.deleteMessage(address, m.id).catch((err: unknown) => {
        failed++;
        this.shared.log?.warn("POP3 could not delete a message", { err, address });
      });
    }
    this.shared.log?.info("POP3 session ended", { address, deleted: doomed.length - failed });
    this.release();
    this.socket.end(
      failed
        ? `-ERR ${failed} of the deleted messages could not be removed\r\n`
        : `+OK ${doomed.length} deleted, bye\r\n`,
    );
  }

  /** Frees the mailbox for the next session; anything marked deleted stays, unless QUIT removed it. */
  private release(): void {
    if (this.address !== undefined) this.shared.inUse.delete(this.address);
    this.address = undefined;
  }
}
