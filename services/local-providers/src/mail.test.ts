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
  nodemailer.createTransport({
    host: mail.host,
    port: mail.port,
    secure: false,
    ignoreTLS: true,
    ...(auth ? { auth } : {}),
  });

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

    await client().sendMail({
      from: "saul@example.com",
      to: agent.address,
      subject: "Dinner",
      text: "Book a table for four, please.",
    });
    const [got] = await inbox(agent.address);
    expect(got?.subject).toBe("Dinner");
    expect(got?.text?.trim()).toBe("Book a table for four, please.");
    expect(got?.from?.text).toBe("saul@example.com");

    await client({ user: agent.address, pass: agent.password }).sendMail({
      from: agent.address,
      to: other.address,
      subject: "Booked",
      text: "Table at 8.",
    });
    const [sent] = await inbox(other.address);
    expect(sent?.subject).toBe("Booked");
    expect(sent?.from?.text).toBe(agent.address);
  });

  it("refuses, with the reason: a wrong password, sending as someone else, other domains without signing in, unknown mailboxes, too large", async () => {
    const agent = await mailboxes.create("inst_CCCCCCCCCCCCCCCC");
    const victim = await mailboxes.create("inst_DDDDDDDDDDDDDDDD");
    const signedIn = client({ user: agent.address, pass: agent.password });

    expect(
      await refusal(
        client({ user: agent.address, pass: "guess" }).sendMail({ from: agent.address, to: victim.address, text: "x" }),
      ),
    ).toMatchObject({ code: 535 });
    expect(
      await refusal(
        client({ user: agent.address, pass: victim.password }).sendMail({
          from: agent.address,
          to: victim.address,
          text: "x",
        }),
      ),
    ).toMatchObject({ code: 535 });
    const spoof = await refusal(signedIn.sendMail({ from: victim.address, to: victim.address, text: "x" }));
    expect(spoof.code).toBe(553);
    expect(spoof.text).toContain(`send as ${agent.address}`);
    const away = await refusal(client().sendMail({ from: "spammer@example.net", to: "saul@example.com", text: "x" }));
    expect(away.code).toBe(550);
    expect(away.text).toContain("without signing in, this local server delivers only to @agents.localhost");
    const nobody = `${"a".repeat(16)}@agents.localhost`;
    expect((await refusal(client().sendMail({ from: "saul@example.com", to: nobody, text: "x" }))).text).toContain(
      `no mailbox ${nobody}`,
    );
    // Not even an address (the server's own syntax check), or not one of the store's form.
    expect(
      (await refusal(client().sendMail({ from: "saul@example.com", to: "../../etc@agents.localhost", text: "x" })))
        .code,
    ).toBe(501);
    expect(
      (await refusal(client().sendMail({ from: "saul@example.com", to: "etc@agents.localhost", text: "x" }))).text,
    ).toContain("no mailbox etc@agents.localhost");
    expect(
      (await refusal(client().sendMail({ from: "saul@example.com", to: agent.address, text: "x".repeat(70 * 1024) })))
        .code,
    ).toBe(552);

    // Nothing of it was delivered.
    expect(await inbox(victim.address)).toEqual([]);
    expect(await inbox(agent.address)).toEqual([]);
    expect(await mailboxes.exists("saul@example.com")).toBe(false);
  });

  it("keeps what a signed-in agent sends to another domain in that person's mailbox, made on first delivery, and sends nothing on", async () => {
    const agent = await mailboxes.create("inst_EEEEEEEEEEEEEEEE");
    const signedIn = client({ user: agent.address, pass: agent.password });

    await signedIn.sendMail({
      from: agent.address,
      to: ["Kim@Example.org", "lee.b+pool@mail.example.net"],
      subject: "Hello",
      text: "Hi both.",
    });
    for (const person of ["kim@example.org", "lee.b+pool@mail.example.net"]) {
      expect(mailboxes.dir(person)).toBe(path.join(dir, "mailboxes", "people", person));
      const [got] = await inbox(person);
      expect(got?.subject).toBe("Hello");
      expect(got?.from?.text).toBe(agent.address);
    }
    await signedIn.sendMail({ from: agent.address, to: "kim@example.org", subject: "Again", text: "More." });
    expect((await inbox("kim@example.org")).map((m) => m.subject).sort()).toEqual(["Again", "Hello"]);

    // Only plain addresses become directories (the SMTP server itself refuses quoted ones, 501).
    const odd = await refusal(signedIn.sendMail({ from: agent.address, to: "o'brien@example.com", text: "x" }));
    expect(odd.code).toBe(553);
    expect(odd.text).toContain("keeps mail only for plain addresses");
    expect(await readdir(path.join(dir, "mailboxes", "people"))).toEqual([
      "kim@example.org",
      "lee.b+pool@mail.example.net",
    ]);
  });
});

describe("people's addresses on disk", () => {
  it("takes only lower-case plain addresses of other domains: no path tricks", async () => {
    for (const good of ["saul@example.com", "a.b_c+d-e@sub.example.co", "x@localhost"])
      expect(mailboxes.isPersonAddress(good), good).toBe(true);
    const bad = [
      "Saul@example.com",
      "../x@example.com",
      "x/../../y@example.com",
      "x@example.com/..",
      ".x@example.com",
      "x..y@example.com",
      "x.@example.com",
      "@example.com",
      "x@",
      "x@-example.com",
      "x@agents.localhost",
      "x@y@example.com",
      `${"a".repeat(65)}@example.com`,
      "x\\y@example.com",
      "x@example.com\0",
    ];
    for (const evil of bad) {
      expect(mailboxes.isPersonAddress(evil), evil).toBe(false);
      expect(() => mailboxes.dir(evil), evil).toThrow(/not a mailbox address/);
      await expect(mailboxes.deliver(evil, Buffer.from("x")), evil).rejects.toThrow(/not a mailbox address/);
      expect(await mailboxes.signIn(evil, "pw"), evil).toBe(false);
    }
    expect((await readdir(dir)).sort()).toEqual(["mailboxes"]);
  });
});
