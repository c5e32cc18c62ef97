import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleParser } from "mailparser";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalMail, type RunningMail } from "./mail.js";
import { Maildirs } from "./maildirs.js";

let dir: string;
let mailboxes: Maildirs;
let mail: RunningMail;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pool-mail-"));
  mailboxes = new Maildirs(path.join(dir, "mailboxes"));
  mail = await startLocalMail({ mailboxes, maxBytes: 64 * 1024 });
});

afterAll(async () => {
  await mail?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A mail client: anonymous, or signed in as a mailbox. */
const client = (auth?: { user: string; pass: string }) =>
  nodemailer.createTransport({ host: mail.host, port: mail.port, secure: false, ignoreTLS: true, ...(auth ? { auth } : {}) });

async function inbox(address: string) {
  const box = path.join(mailboxes.dir(address), "new");
  return Promise.all((await readdir(box)).map(async (f) => simpleParser(await readFile(path.join(box, f)))));
}

/** The SMTP reply a refused send got: its code and text. */
async function refusal(p: Promise<unknown>): Promise<{ code: number; text: string }> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { responseCode: number; response: string } | undefined;
  expect(err, "the send was refused").toBeDefined();
  return { code: err!.responseCode, text: err!.response };
}

describe("the local mail server (SMTP)", () => {
  it("takes mail for an agent's mailbox from any client, and lets an agent send as itself to another", async () => {
    const agent = await mailboxes.create("inst_AAAAAAAAAAAAAAAA");
    const other = await mailboxes.create("inst_BBBBBBBBBBBBBBBB");

    await client().sendMail({ from: "saul@example.com", to: agent.address, subject: "Dinner", text: "Book a table for four, please." });
    const [got] = await inbox(agent.address);
    expect(got?.subject).toBe("Dinner");
    expect(got?.text?.trim()).toBe("Book a table for four, please.");
    expect(got?.from?.text).toBe("saul@example.com");

    await client({ user: agent.address, pass: agent.password }).sendMail({ from: agent.address, to: other.address, subject: "Booked", text: "Table at 8." });
    const [sent] = await inbox(other.address);
    expect(sent?.subject).toBe("Booked");
    expect(sent?.from?.text).toBe(agent.address);
  });

  it("refuses, with the reason: a wrong password, sending as someone else, other domains, unknown mailboxes, too large", async () => {
    const agent = await mailboxes.create("inst_CCCCCCCCCCCCCCCC");
    const victim = await mailboxes.create("inst_DDDDDDDDDDDDDDDD");
    const signedIn = client({ user: agent.address, pass: agent.password });

    expect(await refusal(client({ user: agent.address, pass: "guess" }).sendMail({ from: agent.address, to: victim.address, text: "x" }))).toMatchObject({ code: 535 });
    expect(await refusal(client({ user: agent.address, pass: victim.password }).sendMail({ from: agent.address, to: victim.address, text: "x" }))).toMatchObject({ code: 535 });
    const spoof = await refusal(signedIn.sendMail({ from: victim.address, to: victim.address, text: "x" }));
    expect(spoof.code).toBe(553);
    expect(spoof.text).toContain(`send as ${agent.address}`);
    const away = await refusal(signedIn.sendMail({ from: agent.address, to: "saul@example.com", text: "x" }));
    expect(away.code).toBe(550);
    expect(away.text).toContain("delivers only to @agents.localhost");
    const nobody = `${"a".repeat(16)}@agents.localhost`;
    expect((await refusal(client().sendMail({ from: "saul@example.com", to: nobody, text: "x" }))).text).toContain(`no mailbox ${nobody}`);
    // Not even an address (the server's own syntax check), or not one of the store's form.
    expect((await refusal(client().sendMail({ from: "saul@example.com", to: "../../etc@agents.localhost", text: "x" }))).code).toBe(501);
    expect((await refusal(client().sendMail({ from: "saul@example.com", to: "etc@agents.localhost", text: "x" }))).text).toContain("no mailbox etc@agents.localhost");
    expect((await refusal(client().sendMail({ from: "saul@example.com", to: agent.address, text: "x".repeat(70 * 1024) }))).code).toBe(552);

    // Nothing of it was delivered.
    expect(await inbox(victim.address)).toEqual([]);
    expect(await inbox(agent.address)).toEqual([]);
  });
});
