import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "@convos-pool/kit/server";
import {
  Maildirs,
  startLocalMail,
  startLocalPop3,
  type RunningMail,
  type RunningPop3,
} from "@convos-pool/local-providers";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MailClient, MailError } from "./mail.js";

let dir: string;
let mailboxes: Maildirs;
let smtp: RunningMail;
let pop3: RunningPop3;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pool-mail-client-"));
  mailboxes = new Maildirs(path.join(dir, "mailboxes"));
  smtp = await startLocalMail({ mailboxes });
  pop3 = await startLocalPop3({ mailboxes, failedSignInDelayMs: 50 });
});

afterAll(async () => {
  await pop3?.close();
  await smtp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function agentClient(): Promise<{ client: MailClient; address: string; password: string }> {
  const { address, password } = await mailboxes.create("inst_AAAAAAAAAAAAAAAA");
  return {
    client: new MailClient({ smtpUrl: smtp.url, pop3Url: pop3.url, address, password, timeoutMs: 5000 }),
    address,
    password,
  };
}

/** A person writing to an agent from their own mail client (no sign-in). */
const fromPerson = (m: { to: string; subject: string; text?: string; html?: string }) =>
  nodemailer
    .createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true })
    .sendMail({ from: "Saul <saul@example.com>", ...m });

/** What a failed call threw. */
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("the agent's mail client", () => {
  it("lists, reads and notices new mail over POP3, and replies over SMTP where the person's mail client reads it", async () => {
    const { client, address } = await agentClient();
    expect(await client.list()).toEqual([]);
    await fromPerson({ to: address, subject: "Dinner", text: "Book a table for four, please." });
    await fromPerson({ to: address, subject: "Also", text: "And flowers." });

    const list = await client.list();
    expect(list.map((m) => m.subject)).toEqual(["Also", "Dinner"]); // newest first
    expect(list[0]).toMatchObject({
      from: `"Saul" <saul@example.com>`,
      id: expect.any(String),
      size: expect.any(Number),
    });
    expect(Date.parse(list[0]!.date)).toBeGreaterThan(Date.now() - 60_000);
    expect(await client.list({ limit: 1 })).toEqual([list[0]]);

    const dinner = await client.read(list[1]!.id);
    expect(dinner).toMatchObject({
      id: list[1]!.id,
      from: `"Saul" <saul@example.com>`,
      to: address,
      subject: "Dinner",
      messageId: expect.stringMatching(/^<.+>$/),
    });
    expect(dinner.text.trim()).toBe("Book a table for four, please.");

    // Reading marks nothing: the agent keeps its own record of what it has seen.
    const known = new Set(list.map((m) => m.id));
    expect(await client.unseen(known)).toEqual([]);
    await fromPerson({ to: address, subject: "One more thing", text: "Make it five." });
    const fresh = await client.unseen(known);
    expect(fresh.map((m) => m.subject)).toEqual(["One more thing"]);

    const sent = await client.send({
      to: "saul@example.com",
      subject: "Re: Dinner",
      text: "Booked for 8.",
      inReplyTo: dinner.messageId,
    });
    expect(sent.messageId).toMatch(/^<.+>$/);
    // The person reads the reply with a mail client; theirs too signs in with the first password it uses.
    const person = new MailClient({
      smtpUrl: smtp.url,
      pop3Url: pop3.url,
      address: "saul@example.com",
      password: "saul's password",
    });
    const [reply] = await person.list();
    expect(reply).toMatchObject({ from: address, subject: "Re: Dinner" });
    expect((await person.read(reply!.id)).text.trim()).toBe("Booked for 8.");
    client.close();
    person.close();
  });

  it("reads HTML mail as plain text, and cuts long text at 16 KiB, saying so", async () => {
    const { client, address } = await agentClient();
    await fromPerson({
      to: address,
      subject: "Menu",
      html: "<h1>Tonight</h1><p>Soup <b>and</b> bread.</p><ul><li>wine</li></ul>",
    });
    await fromPerson({ to: address, subject: "Long", text: "é".repeat(20_000) });
    const [long, menu] = await client.list();

    const html = await client.read(menu!.id);
    expect(html.text).not.toContain("<");
    expect(html.text).toContain("Soup and bread.");
    expect(html.text).toContain("wine");

    const cut = await client.read(long!.id);
    expect(Buffer.byteLength(cut.text)).toBeLessThan(16 * 1024 + 200);
    expect(cut.text.startsWith("é".repeat(8192))).toBe(true);
    expect(cut.text).toMatch(/\[cut here: the text is 40 KiB; only its first 16 KiB are shown\]$/);
    expect(cut.text).not.toContain("\uFFFD");
    client.close();
  });

  it("fails in plain words: a wrong password, an unknown id, a refused recipient, a server that is not there", async () => {
    const { client, address, password } = await agentClient();
    const wrongPassword = "not-the-password-0123456789";
    const wrong = new MailClient({ smtpUrl: smtp.url, pop3Url: pop3.url, address, password: wrongPassword });
    // One call at a time: a second made at once could fail before anyone awaits it (an unhandled rejection).
    for (const call of [() => wrong.list(), () => wrong.send({ to: "saul@example.com", subject: "x", text: "x" })]) {
      const err = await failure(call());
      expect(err).toBeInstanceOf(MailError);
      expect((err as MailError).message).toBe("the mail server refused the password");
      for (const secret of [wrongPassword, password]) expect(JSON.stringify(err) + String(err)).not.toContain(secret);
    }

    const unknown = await failure(client.read("nope"));
    expect(unknown).toBeInstanceOf(MailError);
    expect((unknown as MailError).message).toBe("no message with id nope");
    expect(await client.list()).toEqual([]); // the failed call left the mailbox free
    const nobody = `${"a".repeat(16)}@agents.localhost`;
    expect(((await failure(client.send({ to: nobody, subject: "x", text: "x" }))) as MailError).message).toBe(
      `the mail server refused the mail: no mailbox ${nobody}`,
    );

    const port = await freePort();
    const gone = new MailClient({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      pop3Url: `pop3://127.0.0.1:${port}`,
      address,
      password,
      timeoutMs: 2000,
    });
    // One call at a time: a second made at once could fail before anyone awaits it (an unhandled rejection).
    for (const call of [() => gone.list(), () => gone.send({ to: "saul@example.com", subject: "x", text: "x" })]) {
      const err = await failure(call());
      expect(err).toBeInstanceOf(MailError);
      expect((err as MailError).message).toBe("the mail server could not be reached");
    }
    client.close();
  });

  it("takes its turn when calls overlap, since the server lets one session at a time into a mailbox", async () => {
    const { client, address } = await agentClient();
    await fromPerson({ to: address, subject: "Hi", text: "Hello." });
    const [list, unseen, again] = await Promise.all([client.list(), client.unseen(new Set()), client.list()]);
    expect(list.map((m) => m.subject)).toEqual(["Hi"]);
    expect(unseen).toEqual(list);
    expect(again).toEqual(list);
    client.close();
  });
});
