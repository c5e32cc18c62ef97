import { randomBytes, scryptSync } from "node:crypto";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { ProvisioningError, type ProvisionedResource, type ToolProvider } from "./types.js";

export const DEFAULT_EMAIL_DOMAIN = "agents.localhost";
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const LOCAL_PART_LENGTH = 16; // 80 random bits

function randomLocalPart(): string {
  let s = "";
  for (const b of randomBytes(LOCAL_PART_LENGTH)) s += BASE32[b & 31];
  return s;
}

/**
 * The local email provider: a mailbox per instance, a directory with a
 * maildir layout (`new/`, `cur/`, `tmp/`) under `<root>/<address>/`, address
 * `<16 random letters>@agents.localhost`. `.mailbox.json` beside the maildir
 * names the instance and keeps a scrypt hash of the mailbox password (the
 * password itself is the secret the instance gets). Release deletes the
 * directory and everything in it.
 */
export class LocalMailboxProvider implements ToolProvider {
  readonly toolId = "email";
  readonly name = "local-mailbox";
  private readonly handlePattern: RegExp;

  constructor(
    readonly root: string,
    readonly domain: string = DEFAULT_EMAIL_DOMAIN,
  ) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) {
      throw new Error(`email domain "${domain}" is not a lower-case domain name`);
    }
    this.handlePattern = new RegExp(`^[${BASE32}]{${LOCAL_PART_LENGTH}}@${domain.replaceAll(".", "\\.")}$`);
  }

  /** The directory of a mailbox; only for addresses this provider hands out (no path tricks). */
  mailboxDir(address: string): string {
    if (!this.handlePattern.test(address)) throw new Error(`not a mailbox address of this provider: ${JSON.stringify(address)}`);
    return path.join(this.root, address);
  }

  async provision(instanceId: string): Promise<ProvisionedResource> {
    try {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      for (let attempt = 0; attempt < 5; attempt++) {
        const address = `${randomLocalPart()}@${this.domain}`;
        const dir = this.mailboxDir(address);
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
          const meta = {
            address,
            instance_id: instanceId,
            created_at: new Date().toISOString(),
            password_scrypt: { salt: salt.toString("hex"), hash: scryptSync(password, salt, 32).toString("hex") },
          };
          await writeFile(path.join(dir, ".mailbox.json"), JSON.stringify(meta, null, 2), { mode: 0o600 });
          return { handle: address, secrets: { password } };
        } catch (err) {
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
      }
      throw new Error("could not pick an unused address");
    } catch (err) {
      throw new ProvisioningError(`local mailbox provider unavailable: ${(err as Error).message}`, "unavailable", { cause: err });
    }
  }

  async release(handle: string): Promise<void> {
    await rm(this.mailboxDir(handle), { recursive: true, force: true });
  }

  /** True when the mailbox exists (tests, diagnostics). */
  async exists(handle: string): Promise<boolean> {
    return stat(this.mailboxDir(handle)).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }
}
