// How mailboxes keep their passwords (maildirs.ts): an agent's random one as
// SHA-256, a person's chosen one as scrypt; an agent's mailbox made before
// SHA-256 keeps working.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { scryptSync } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Maildirs } from "./maildirs.js";

let root: string;
let mailboxes: Maildirs;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "maildirs-"));
  mailboxes = new Maildirs(root);
});
afterAll(() => rm(root, { recursive: true, force: true }));

const metaOf = async (address: string) =>
  JSON.parse(await readFile(path.join(mailboxes.dir(address), ".mailbox.json"), "utf8")) as Record<string, unknown>;

it("keeps an agent's random password as a salted SHA-256, never the password, and checks it", async () => {
  const { address, password } = await mailboxes.create("inst_a");
  const meta = await metaOf(address);
  expect(meta).toMatchObject({
    instance_id: "inst_a",
    password_sha256: { salt: expect.any(String), hash: expect.any(String) },
  });
  expect(meta).not.toHaveProperty("password_scrypt");
  expect(JSON.stringify(meta)).not.toContain(password);
  expect(await mailboxes.checkPassword(address, password)).toBe(true);
  expect(await mailboxes.checkPassword(address, `${password}x`)).toBe(false);
  expect(await mailboxes.checkPassword(address, "")).toBe(false);
  // Two mailboxes never share a hash, salted apart.
  const other = await mailboxes.create("inst_b");
  expect((await metaOf(other.address)).password_sha256).not.toEqual(meta.password_sha256);
});

it("still checks an agent's mailbox made when every password was kept as scrypt", async () => {
  const { address } = await mailboxes.create("inst_old");
  const salt = Buffer.from("00112233445566778899aabbccddeeff", "hex");
  const meta = { ...(await metaOf(address)), password_sha256: undefined };
  const old = {
    ...meta,
    password_scrypt: { salt: salt.toString("hex"), hash: scryptSync("old secret", salt, 32).toString("hex") },
  };
  await writeFile(path.join(mailboxes.dir(address), ".mailbox.json"), JSON.stringify(old));
  expect(await mailboxes.checkPassword(address, "old secret")).toBe(true);
  expect(await mailboxes.checkPassword(address, "not it")).toBe(false);
});

it("refuses every password for a mailbox that does not exist", async () => {
  expect(await mailboxes.checkPassword("nobody@agents.localhost", "anything")).toBe(false);
});

it("keeps one copy of a message delivered twice with the same Message-ID, as a mail store that drops duplicates does", async () => {
  const mail = (id: string, body: string) =>
    Buffer.from(`Message-ID: <${id}@agents.localhost>\r\nSubject: rent\r\n\r\n${body}\r\n`);
  const first = await mailboxes.deliver("bob@x.test", mail("firing.a", "rent is due"));
  expect(await mailboxes.deliver("bob@x.test", mail("firing.a", "rent is due"))).toBe(first);
  await mailboxes.deliver("bob@x.test", mail("firing.b", "rent is due"));
  await mailboxes.deliver("bob@x.test", Buffer.from("Subject: no id\r\n\r\nhi\r\n"));
  await mailboxes.deliver("bob@x.test", Buffer.from("Subject: no id\r\n\r\nhi\r\n"));
  await mailboxes.moveNewToCur("bob@x.test");
  expect(await mailboxes.listMessages("bob@x.test")).toHaveLength(4);
});

it("reads a folded Message-ID header as the same message", async () => {
  const folded = Buffer.from("Subject: x\r\nMessage-ID:\r\n <firing.c@agents.localhost>\r\n\r\nhi\r\n");
  const first = await mailboxes.deliver("carol@x.test", folded);
  expect(await mailboxes.deliver("carol@x.test", folded)).toBe(first);
});
