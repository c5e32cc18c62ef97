// The local POP3 server (pop3.ts) over real mailboxes in a temporary directory, read over real
// sockets on loopback, with mail sent by a real SMTP client (nodemailer) to the local SMTP server
// (mail.ts). Nothing is a stand-in. The wrong password's delay is shortened to 100 ms for most
// of the file; its real length, 1 s, is measured once against a server left at its defaults,
// its wait running while the other tests run.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger } from "@convos-pool/kit/server";
import { simpleParser } from "mailparser";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalMail, type RunningMail } from "./mail.js";
import { Maildirs } from "./maildirs.js";
import { startLocalPop3, type RunningPop3 } from "./pop3.js";

const WRONG_PASSWORD_DELAY_MS = 100;
/** The product's own delay (LocalPop3Options.failedSignInDelayMs's default). */
const DEFAULT_WRONG_PASSWORD_DELAY_MS = 1000;

let dir: string;
let mailboxes: Maildirs;
let smtp: RunningMail;
let pop3: RunningPop3;
let atDefaults: RunningPop3;
/** One wrong password at a server left at its defaults, begun before the tests and read by the last. */
let defaultWrong: Promise<{ ms: number; answer: string | undefined }>;
const logLines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pool-pop3-"));
  mailboxes = new Maildirs(path.join(dir, "mailboxes"));
  smtp = await startLocalMail({ mailboxes });
  const log = createLogger("pop3-test", { level: "debug", sink: (line) => logLines.push(line) });
  pop3 = await startLocalPop3({ mailboxes, failedSignInDelayMs: WRONG_PASSWORD_DELAY_MS, log });
  atDefaults = await startLocalPop3({ mailboxes });
  const agent = await mailboxes.create("inst_FFFFFFFFFFFFFFFF");
  defaultWrong = (async () => {
    const { session } = await Session.open(atDefaults.port);
    const started = Date.now();
    await session.say(`USER ${agent.address}`);
    const answer = await session.say("PASS guess");
    const ms = Date.now() - started;
    session.end();
    return { ms, answer };
  })();
  // Read by the last test; a failure here must not go unhandled before it.
  defaultWrong.catch(() => {});
});

afterAll(async () => {
  await atDefaults?.close();
  await pop3?.close();
  await smtp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A POP3 session read line by line, as on the wire (latin1: one character per byte). */
class Session {
  private input = "";
  private wake: (() => void) | undefined;
  ended = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.input += chunk;
      this.wake?.();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake?.();
    });
  }

  static async open(port = pop3.port): Promise<{ session: Session; greeting: string | undefined }> {
    const session = new Session(connect(port, "127.0.0.1"));
    return { session, greeting: await session.line() };
  }

  /** The next line without its CRLF; undefined once the server has closed the connection. */
  async line(): Promise<string | undefined> {
    for (;;) {
      const eol = this.input.indexOf("\r\n");
      if (eol !== -1) {
        const line = this.input.slice(0, eol);
        this.input = this.input.slice(eol + 2);
        return line;
      }
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** A command and its status line. */
  async say(command: string): Promise<string | undefined> {
    this.socket.write(`${command}\r\n`, "latin1");
    return this.line();
  }

  /** A multi-line command: its status line, and its lines as sent (still byte-stuffed) up to the ".". */
  async many(command: string): Promise<{ status: string | undefined; lines: string[] }> {
    const status = await this.say(command);
    const lines: string[] = [];
    if (!status?.startsWith("+OK")) return { status, lines };
    for (let line = await this.line(); line !== "."; line = await this.line()) {
      if (line === undefined) throw new Error("the connection ended inside a multi-line answer");
      lines.push(line);
    }
    return { status, lines };
  }

  async signIn(address: string, password: string): Promise<string | undefined> {
    expect(await this.say(`USER ${address}`)).toMatch(/^\+OK/);
    return this.say(`PASS ${password}`);
  }

  /** Waits for the server to close the connection. */
  async closed(): Promise<void> {
    while (!this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  end(): void {
    this.socket.destroy();
  }
}

/** A retrieved message's bytes: the lines unstuffed, each ending in CRLF again. */
const unstuffed = (lines: string[]) => Buffer.from(lines.map((l) => `${l.replace(/^\./, "")}\r\n`).join(""), "latin1");

const mailClient = (auth?: { user: string; pass: string }) =>
  nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: false,
    ignoreTLS: true,
    ...(auth ? { auth } : {}),
  });

describe("the local POP3 server", () => {
  it("lets an agent read a person's mail and the person read the agent's reply, with a mail client's USER/PASS/STAT/UIDL/RETR/QUIT", async () => {
    const agent = await mailboxes.create("inst_AAAAAAAAAAAAAAAA");
    await mailClient().sendMail({
      from: "saul@example.com",
      to: agent.address,
      subject: "Dinner",
      text: "Book a table for four, please.",
    });

    const { session: reader, greeting } = await Session.open();
    expect(greeting).toMatch(/^\+OK /);
    expect(await readdir(path.join(mailboxes.dir(agent.address), "new"))).toHaveLength(1);
    expect(await reader.signIn(agent.address, agent.password)).toMatch(/^\+OK 1 messages \(\d+ octets\)$/);
    // Signing in moved the new mail to cur/, the maildir way.
    expect(await readdir(path.join(mailboxes.dir(agent.address), "new"))).toEqual([]);
    const [stored] = await readdir(path.join(mailboxes.dir(agent.address), "cur"));
    const octets = (await readFile(path.join(mailboxes.dir(agent.address), "cur", stored!))).length;
    expect(await reader.say("STAT")).toBe(`+OK 1 ${octets}`);
    const uidl = await reader.many("UIDL");
    expect(uidl.lines).toEqual([`1 ${stored!.split(":")[0]}`]);
    const retr = await reader.many("RETR 1");
    expect(retr.status).toBe(`+OK ${octets} octets`);
    const got = await simpleParser(unstuffed(retr.lines));
    expect(got.subject).toBe("Dinner");
    expect(got.text?.trim()).toBe("Book a table for four, please.");
    expect(await reader.say("QUIT")).toBe("+OK 0 deleted, bye");
    await reader.closed();

    // The agent replies to the person; the local server keeps it (lower-cased) instead of sending it on.
    await mailClient({ user: agent.address, pass: agent.password }).sendMail({
      from: agent.address,
      to: "Saul@Example.com",
      subject: "Re: Dinner",
      text: "Booked for 8.",
      inReplyTo: got.messageId,
    });
    expect(await readdir(path.join(dir, "mailboxes", "people"))).toEqual(["saul@example.com"]);

    // The person's first password becomes the mailbox's.
    const { session: person } = await Session.open();
    expect(await person.signIn("saul@example.com", "saul's own password")).toMatch(/^\+OK 1 messages/);
    expect(await person.say("STAT")).toMatch(/^\+OK 1 \d+$/);
    expect((await person.many("UIDL")).lines).toHaveLength(1);
    const reply = await simpleParser(unstuffed((await person.many("RETR 1")).lines));
    expect(reply.subject).toBe("Re: Dinner");
    expect(reply.from?.text).toBe(agent.address);
    expect(reply.inReplyTo).toBe(got.messageId);
    expect(await person.say("QUIT")).toMatch(/^\+OK/);

    const meta = await readFile(path.join(mailboxes.dir("saul@example.com"), ".mailbox.json"), "utf8");
    expect(JSON.parse(meta)).toMatchObject({
      address: "saul@example.com",
      password_scrypt: { salt: expect.any(String), hash: expect.any(String) },
    });
    expect(meta).not.toContain("saul's own password");
    const { session: intruder } = await Session.open();
    expect(await intruder.signIn("saul@example.com", "another password")).toMatch(/^-ERR \[AUTH\]/);
    expect(await intruder.signIn("saul@example.com", "saul's own password")).toMatch(/^\+OK 1 messages/);
    intruder.end();

    // Sign-ins and counts are logged; passwords and mail never.
    const logs = logLines.join("\n");
    expect(logs).toContain("POP3 sign-in");
    for (const secret of [agent.password, "saul's own password", "another password", "Book a table", "Booked for 8"])
      expect(logs).not.toContain(secret);
  });

  it("answers a wrong password with -ERR after a delay, the same for any name, and closes after three", async () => {
    const agent = await mailboxes.create("inst_BBBBBBBBBBBBBBBB");
    const { session } = await Session.open();
    const started = Date.now();
    const wrong = await session.signIn(agent.address, "guess");
    expect(Date.now() - started).toBeGreaterThanOrEqual(WRONG_PASSWORD_DELAY_MS - 10);
    expect(wrong).toBe("-ERR [AUTH] the address or its password is wrong");
    // Nobody learns which mailboxes exist, and odd names reach no disk.
    expect(await session.signIn(`${"a".repeat(16)}@agents.localhost`, "guess")).toBe(wrong);
    expect(await session.signIn("../../etc", "guess")).toBe(
      "-ERR [AUTH] the address or its password is wrong; closing",
    );
    await session.closed();
    await expect(readdir(path.join(dir, "etc"))).rejects.toThrow();
    expect(logLines.join("\n")).toContain('"address":"(not an address)"');

    const { session: again } = await Session.open();
    expect(await again.say("STAT")).toBe("-ERR sign in first: USER, then PASS");
    expect(await again.say("PASS x")).toBe("-ERR USER first");
    expect(await again.signIn(agent.address, agent.password)).toBe("+OK 0 messages (0 octets)");
    again.end();
  });

  it("marks messages with DELE, unmarks them with RSET, and removes them only at QUIT; one session per mailbox", async () => {
    const agent = await mailboxes.create("inst_CCCCCCCCCCCCCCCC");
    for (const subject of ["one", "two", "three"])
      await mailboxes.deliver(agent.address, Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`));

    const { session } = await Session.open();
    expect(await session.signIn(agent.address, agent.password)).toMatch(/^\+OK 3 messages/);
    const { session: second } = await Session.open();
    expect(await second.signIn(agent.address, agent.password)).toBe(
      "-ERR [IN-USE] the mailbox is open in another session",
    );
    second.end();

    expect(await session.say("DELE 1")).toBe("+OK message 1 deleted");
    expect(await session.say("DELE 1")).toBe("-ERR message 1 is deleted");
    expect(await session.say("RETR 1")).toBe("-ERR message 1 is deleted");
    expect(await session.say("DELE 4")).toBe("-ERR no message 4");
    expect(await session.say("DELE one")).toBe("-ERR no message one");
    expect(await session.say("STAT")).toMatch(/^\+OK 2 /);
    expect((await session.many("LIST")).lines.map((l) => l.split(" ")[0])).toEqual(["2", "3"]);
    expect(await session.say("RSET")).toMatch(/^\+OK 3 messages/);
    expect(await session.say("DELE 2")).toMatch(/^\+OK/);
    session.end(); // no QUIT: nothing is removed
    await session.closed();
    expect(await mailboxes.listMessages(agent.address)).toHaveLength(3);

    const [, middle] = await mailboxes.listMessages(agent.address);
    const { session: next } = await Session.open();
    expect(await next.signIn(agent.address, agent.password)).toMatch(/^\+OK 3 messages/);
    expect(await next.say("UIDL 2")).toBe(`+OK 2 ${middle!.id}`);
    expect(await next.say("DELE 2")).toMatch(/^\+OK/);
    expect(await next.say("NOOP")).toBe("+OK");
    expect(await next.say("QUIT")).toBe("+OK 1 deleted, bye");
    await next.closed();
    const left = await mailboxes.listMessages(agent.address);
    expect(left.map((m) => m.id)).not.toContain(middle!.id);
    expect(left).toHaveLength(2);
  });

  it("byte-stuffs lines that start with a dot, and TOP gives the headers and the first lines of the body", async () => {
    const agent = await mailboxes.create("inst_DDDDDDDDDDDDDDDD");
    const message = "Subject: dots\r\nFrom: saul@example.com\r\n\r\n.\r\n..two\r\n.hidden\r\nlast\r\n";
    await mailboxes.deliver(agent.address, Buffer.from(message));

    const { session } = await Session.open();
    await session.signIn(agent.address, agent.password);
    const retr = await session.many("RETR 1");
    expect(retr.lines.slice(3)).toEqual(["..", "...two", "..hidden", "last"]);
    expect(unstuffed(retr.lines).toString("latin1")).toBe(message);
    expect((await session.many("TOP 1 1")).lines).toEqual(["Subject: dots", "From: saul@example.com", "", ".."]);
    expect((await session.many("TOP 1 0")).lines).toEqual(["Subject: dots", "From: saul@example.com", ""]);
    expect(await session.say("TOP 1")).toBe("-ERR TOP takes a message number and a count of lines");
    await session.say("QUIT");
  });

  it("hands over a message of 1 MiB whole, its size in LIST exactly the bytes sent", async () => {
    const agent = await mailboxes.create("inst_EEEEEEEEEEEEEEEE");
    const line = (i: number) => `${i % 7 === 0 ? "." : ""}${String(i).padStart(8, "0")} ${"x".repeat(60)}`;
    const text = Array.from({ length: (1024 * 1024) / 70 }, (_, i) => line(i)).join("\r\n");
    await mailClient().sendMail({ from: "saul@example.com", to: agent.address, subject: "Big", text });

    const { session } = await Session.open();
    await session.signIn(agent.address, agent.password);
    const [, size] = ((await session.many("LIST")).lines[0] ?? "").split(" ");
    const retr = await session.many("RETR 1");
    const bytes = unstuffed(retr.lines);
    expect(bytes.length).toBe(Number(size));
    expect(bytes.length).toBeGreaterThan(1024 * 1024);
    expect(
      bytes.equals(await mailboxes.readMessage(agent.address, (await mailboxes.listMessages(agent.address))[0]!.id)),
    ).toBe(true);
    expect((await simpleParser(bytes)).text?.trimEnd()).toBe(text.replaceAll("\r\n", "\n"));
    await session.say("QUIT");
  });

  it("states its capabilities, and closes over-long lines, idle sessions and sessions beyond its limit", async () => {
    const small = await startLocalPop3({ mailboxes, maxConnections: 2, idleTimeoutMs: 300 });
    try {
      const { session: a } = await Session.open(small.port);
      expect((await a.many("CAPA")).lines).toEqual(expect.arrayContaining(["USER", "TOP", "UIDL", "RESP-CODES"]));
      expect(await a.say("HELO")).toBe("-ERR sign in first: USER, then PASS");
      expect(await a.say(`USER ${"a".repeat(600)}`)).toBe("-ERR a command line is at most 512 octets");
      await a.closed();

      const { session: b } = await Session.open(small.port);
      const { session: c } = await Session.open(small.port);
      const { session: d, greeting } = await Session.open(small.port);
      expect(greeting).toBe("-ERR [SYS/TEMP] too many sessions, try again later");
      await d.closed();

      // Idle sessions are closed without a word (RFC 1939's autologout).
      const started = Date.now();
      await b.closed();
      await c.closed();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await b.line()).toBeUndefined();
    } finally {
      await small.close();
    }
  });

  it("answers a wrong password only after a full second when left at its defaults", async () => {
    const { ms, answer } = await defaultWrong;
    expect(answer).toBe("-ERR [AUTH] the address or its password is wrong");
    expect(ms).toBeGreaterThanOrEqual(DEFAULT_WRONG_PASSWORD_DELAY_MS - 10);
  });
});
