// Local mailboxes on disk, one maildir per address (`new/`, `cur/`, `tmp/`)
// under `<root>/<address>/`, with `.mailbox.json` beside it: whose mailbox it
// is and a scrypt hash of its password (the password itself is the agent's
// secret). The claims service's mailbox provider creates and removes them;
// the local mail server checks passwords and delivers into them.
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { hostname } from "node:os";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";

export const DEFAULT_EMAIL_DOMAIN = "agents.localhost";
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const LOCAL_PART_LENGTH = 16; // 80 random bits

interface MailboxMeta {
  address: string;
  instance_id: string;
  created_at: string;
  password_scrypt: { salt: string; hash: string };
}

function randomLocalPart(): string {
  let s = "";
  for (const b of randomBytes(LOCAL_PART_LENGTH)) s += BASE32[b & 31];
  return s;
}

export class Maildirs {
  private readonly addressPattern: RegExp;
  private deliveries = 0;

  constructor(
    readonly root: string,
    readonly domain: string = DEFAULT_EMAIL_DOMAIN,
  ) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) {
      throw new Error(`email domain "${domain}" is not a lower-case domain name`);
    }
    this.addressPattern = new RegExp(`^[${BASE32}]{${LOCAL_PART_LENGTH}}@${domain.replaceAll(".", "\\.")}$`);
  }

  /** True for addresses of the form this store hands out (and only those reach the disk: no path tricks). */
  isAddress(address: string): boolean {
    return this.addressPattern.test(address);
  }

  /** The directory of a mailbox; only for addresses of this store's form. */
  dir(address: string): string {
    if (!this.isAddress(address)) throw new Error(`not a mailbox address of this provider: ${JSON.stringify(address)}`);
    return path.join(this.root, address);
  }

  /** A new mailbox with a fresh address and password. */
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
        const salt = randomBytes(16);
        const meta: MailboxMeta = {
          address,
          instance_id: instanceId,
          created_at: new Date().toISOString(),
          password_scrypt: { salt: salt.toString("hex"), hash: scryptSync(password, salt, 32).toString("hex") },
        };
        await writeFile(path.join(dir, ".mailbox.json"), JSON.stringify(meta, null, 2), { mode: 0o600 });
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
    if (!this.isAddress(address)) return false;
    return stat(path.join(this.dir(address), "new")).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  /** Whether the password is the mailbox's (compared in constant time). */
  async checkPassword(address: string, password: string): Promise<boolean> {
    if (!this.isAddress(address)) return false;
    let meta: MailboxMeta;
    try {
      meta = JSON.parse(await readFile(path.join(this.dir(address), ".mailbox.json"), "utf8")) as MailboxMeta;
    } catch {
      return false;
    }
    const want = Buffer.from(meta.password_scrypt.hash, "hex");
    const got = scryptSync(password, Buffer.from(meta.password_scrypt.salt, "hex"), want.length);
    return timingSafeEqual(want, got);
  }

  /** Delivers one message (RFC 5322 bytes) the maildir way: written to tmp/, then renamed into new/. Returns its file name. */
  async deliver(address: string, message: Buffer): Promise<string> {
    const dir = this.dir(address);
    const name = `${Date.now()}.P${process.pid}Q${++this.deliveries}R${randomBytes(4).toString("hex")}.${hostname().replaceAll("/", "_")}`;
    await writeFile(path.join(dir, "tmp", name), message, { mode: 0o600 });
    await rename(path.join(dir, "tmp", name), path.join(dir, "new", name));
    return name;
  }
}
