// Local mailboxes on disk, one maildir per address (`new/`, `cur/`, `tmp/`)
// with `.mailbox.json` beside it: whose mailbox it is and a hash of its
// password (never the password itself): scrypt for a password a person chose,
// slow against guessing; SHA-256 for an agent's, 192 random bits that no
// guessing reaches (scrypt's 16 MB block for each sign-in bought nothing there).
//
// - Agents' mailboxes, `<root>/<address>/`: the claims service's mailbox
//   provider creates and removes them; the password is the agent's secret.
// - People's mailboxes, `<root>/people/<address>/`: where the local mail
//   server keeps what agents send to other domains, since nothing leaves the
//   machine. Made on first delivery. No one provisions them, so the first
//   password a person signs in with becomes the mailbox's (trust on first use).
//
// The mail servers (mail.ts: SMTP, pop3.ts: POP3) check passwords, deliver
// and read through this class. Only addresses of a strict form reach the disk.
import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from "node:crypto";
import { hostname } from "node:os";
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

export const DEFAULT_EMAIL_DOMAIN = "agents.localhost";
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const LOCAL_PART_LENGTH = 16; // 80 random bits
const DOMAIN_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
// People's addresses: dot-separated atoms of a narrow alphabet, lower case (no quoting, no slashes, no "..").
const PERSON_LOCAL_PART = /^[a-z0-9_+-]+(\.[a-z0-9_+-]+)*$/;
const META_FILE = ".mailbox.json";

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

interface MailboxMeta {
  address: string;
  /** Agents' mailboxes only: the instance it was made for. */
  instance_id?: string;
  created_at: string;
  /** People's mailboxes (and agents' made before SHA-256). */
  password_scrypt?: { salt: string; hash: string };
  /** Agents' mailboxes: their password is random. */
  password_sha256?: { salt: string; hash: string };
}

const sha256 = (password: string, salt: Buffer) => createHash("sha256").update(salt).update(password, "utf8").digest();

/** A message in a mailbox's `cur/`. */
export interface StoredMessage {
  /** The maildir file's unique name: stable while the message lives (a POP3 UIDL). */
  id: string;
  /** In octets, as stored (CRLF line ends, as SMTP delivered it). */
  size: number;
}

function randomLocalPart(): string {
  let s = "";
  for (const b of randomBytes(LOCAL_PART_LENGTH)) s += BASE32[b & 31];
  return s;
}

/** An agent's mailbox (with `instanceId`: its password is random) or a person's (a password they chose). */
async function newMeta(address: string, password: string, instanceId?: string): Promise<MailboxMeta> {
  const salt = randomBytes(16);
  const created_at = new Date().toISOString();
  if (instanceId) {
    const password_sha256 = { salt: salt.toString("hex"), hash: sha256(password, salt).toString("hex") };
    return { address, instance_id: instanceId, created_at, password_sha256 };
  }
  return {
    address,
    created_at,
    password_scrypt: { salt: salt.toString("hex"), hash: (await scrypt(password, salt, 32)).toString("hex") },
  };
}

/** A maildir file name's unique part (what precedes the ":2,…" flags in cur/). */
const uniqueName = (file: string) => {
  const colon = file.indexOf(":");
  return colon < 0 ? file : file.slice(0, colon);
};

export class Maildirs {
  private readonly addressPattern: RegExp;
  private deliveries = 0;

  constructor(
    readonly root: string,
    readonly domain: string = DEFAULT_EMAIL_DOMAIN,
  ) {
    if (!DOMAIN_PATTERN.test(domain)) throw new Error(`email domain "${domain}" is not a lower-case domain name`);
    this.addressPattern = new RegExp(`^[${BASE32}]{${LOCAL_PART_LENGTH}}@${domain.replaceAll(".", "\\.")}$`);
  }

  /** True for agents' addresses, of the form this store hands out. */
  isAddress(address: string): boolean {
    return this.addressPattern.test(address);
  }

  /** True for a person's address: another domain, lower case, and a plain local part (so it is safe as a directory name). */
  isPersonAddress(address: string): boolean {
    const at = address.lastIndexOf("@");
    if (at < 1 || address.length > 254) return false;
    const local = address.slice(0, at);
    const domain = address.slice(at + 1);
    return local.length <= 64 && PERSON_LOCAL_PART.test(local) && DOMAIN_PATTERN.test(domain) && domain !== this.domain;
  }

  /** The directory of a mailbox, an agent's or a person's; any other string is refused (no path tricks). */
  dir(address: string): string {
    if (this.isAddress(address)) return path.join(this.root, address);
    if (this.isPersonAddress(address)) return path.join(this.root, "people", address);
    throw new Error(`not a mailbox address of this store: ${JSON.stringify(address)}`);
  }

  /** A new agent's mailbox with a fresh address and password. */
  async create(instanceId: string): Promise<{ address: string; password: string }> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 5; attempt++) {
      const address = `${randomLocalPart()}@${this.domain}`;
      const dir = this.dir(address);
      try {
        await mkdir(dir, { mode: 0o700 }); // not recursive: an existing mailbox is never shared
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw err;
      }
      try {
        for (const sub of ["new", "cur", "tmp"]) await mkdir(path.join(dir, sub), { mode: 0o700 });
        const password = randomBytes(24).toString("base64url");
        await writeFile(
          path.join(dir, META_FILE),
          JSON.stringify(await newMeta(address, password, instanceId), null, 2),
          { mode: 0o600 },
        );
        return { address, password };
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
    throw new Error("could not pick an unused address");
  }

  /** Deletes a mailbox and everything in it; nothing to do when it is gone. */
  async remove(address: string): Promise<void> {
    await rm(this.dir(address), { recursive: true, force: true });
  }

  async exists(address: string): Promise<boolean> {
    if (!this.isAddress(address) && !this.isPersonAddress(address)) return false;
    return stat(path.join(this.dir(address), "new")).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  /** Whether the password is the mailbox's (compared in constant time); false for a person's mailbox nobody has claimed yet. */
  async checkPassword(address: string, password: string): Promise<boolean> {
    const meta = await this.meta(address);
    const stored = meta?.password_sha256 ?? meta?.password_scrypt;
    if (!meta || !stored) return false;
    const want = Buffer.from(stored.hash, "hex");
    const salt = Buffer.from(stored.salt, "hex");
    const got = meta.password_sha256 ? sha256(password, salt) : await scrypt(password, salt, want.length);
    return got.length === want.length && timingSafeEqual(want, got);
  }

  /**
   * A mail reader's sign-in: the password check, except that a person's
   * mailbox without a password yet takes this one (trust on first use), made
   * empty if no mail has come.
   */
  async signIn(address: string, password: string): Promise<boolean> {
    if (this.isPersonAddress(address) && !(await this.meta(address))) await this.claimPersonMailbox(address, password);
    return this.checkPassword(address, password);
  }

  /**
   * Delivers one message (RFC 5322 bytes) the maildir way: written to tmp/,
   * then renamed into new/. A person's mailbox is made on its first delivery;
   * an agent's must exist. Returns the message's id. A message whose
   * Message-ID the mailbox holds already is not kept again (its id is
   * returned), as mail stores that drop duplicates do: a sender that sends
   * one message twice (a retried scheduled mail) leaves one copy.
   */
  async deliver(address: string, message: Buffer): Promise<string> {
    const dir = this.isPersonAddress(address) ? await this.makePersonMailbox(address) : this.dir(address);
    const id = messageIdOf(message);
    const mark = id ? `I${createHash("sha256").update(id).digest("hex").slice(0, 16)}` : "";
    if (mark) {
      for (const sub of ["new", "cur"]) {
        const held = (await readdir(path.join(dir, sub))).find((f) => f.includes(`${mark}.`));
        if (held) return uniqueName(held);
      }
    }
    const name = `${Date.now()}.P${process.pid}Q${++this.deliveries}R${randomBytes(4).toString("hex")}${mark}.${hostname().replace(/[/:]/g, "_")}`;
    await writeFile(path.join(dir, "tmp", name), message, { mode: 0o600 });
    await rename(path.join(dir, "tmp", name), path.join(dir, "new", name));
    return name;
  }

  /** Moves mail that has arrived (new/) to cur/, as a mail reader does when it opens the mailbox. */
  async moveNewToCur(address: string): Promise<void> {
    const dir = this.dir(address);
    for (const file of await readdir(path.join(dir, "new"))) {
      if (file.startsWith(".")) continue;
      await rename(path.join(dir, "new", file), path.join(dir, "cur", `${file}:2,`)).catch(
        (err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOENT") throw err; // another reader moved it first
        },
      );
    }
  }

  /** The messages in cur/, oldest first. */
  async listMessages(address: string): Promise<StoredMessage[]> {
    const cur = path.join(this.dir(address), "cur");
    const files = (await readdir(cur))
      .filter((f) => !f.startsWith("."))
      .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    return Promise.all(files.map(async (f) => ({ id: uniqueName(f), size: (await stat(path.join(cur, f))).size })));
  }

  /** A message in cur/, by id; an unknown id is an error. */
  async readMessage(address: string, id: string): Promise<Buffer> {
    const file = await this.findInCur(address, id);
    if (!file) throw new Error(`no message ${JSON.stringify(id)} in ${address}`);
    return readFile(file);
  }

  /** Deletes a message in cur/; nothing to do when it is gone. */
  async deleteMessage(address: string, id: string): Promise<void> {
    const file = await this.findInCur(address, id);
    if (file) await rm(file, { force: true });
  }

  /** The file of a message, found by listing (an id never becomes part of a path). */
  private async findInCur(address: string, id: string): Promise<string | undefined> {
    const cur = path.join(this.dir(address), "cur");
    const file = (await readdir(cur)).find((f) => !f.startsWith(".") && uniqueName(f) === id);
    return file && path.join(cur, file);
  }

  private async meta(address: string): Promise<MailboxMeta | undefined> {
    if (!this.isAddress(address) && !this.isPersonAddress(address)) return undefined;
    try {
      return JSON.parse(await readFile(path.join(this.dir(address), META_FILE), "utf8")) as MailboxMeta;
    } catch {
      return undefined;
    }
  }

  private async makePersonMailbox(address: string): Promise<string> {
    const dir = this.dir(address);
    for (const sub of ["new", "cur", "tmp"]) await mkdir(path.join(dir, sub), { recursive: true, mode: 0o700 });
    return dir;
  }

  /** Gives a person's mailbox its password, unless a concurrent first sign-in already did: the first one wins. */
  private async claimPersonMailbox(address: string, password: string): Promise<void> {
    const dir = await this.makePersonMailbox(address);
    const draft = path.join(dir, `${META_FILE}.${randomBytes(6).toString("hex")}`);
    await writeFile(draft, JSON.stringify(await newMeta(address, password), null, 2), { mode: 0o600 });
    try {
      await link(draft, path.join(dir, META_FILE)); // atomic, and fails if the file exists
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      await rm(draft, { force: true });
    }
  }
}

/** The Message-ID its header names (folded or not), lower-cased; undefined without one. */
function messageIdOf(message: Buffer): string | undefined {
  const text = message.toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  return /^message-id:\s*(<[^>\r\n]+>)/im.exec(end < 0 ? text : text.slice(0, end))?.[1]?.toLowerCase();
}
