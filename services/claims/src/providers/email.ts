import { DEFAULT_EMAIL_DOMAIN, Maildirs } from "@convos-pool/local-providers";
import { ProvisioningError, type ProvisionedResource, type ToolProvider } from "./types.js";

export { DEFAULT_EMAIL_DOMAIN };

/**
 * The local email provider: a maildir mailbox per instance, address
 * `<16 random letters>@agents.localhost`, on the disk the local mail server
 * delivers to (services/local-providers: maildirs.ts, mail.ts). The password
 * is the secret the instance gets; the mailbox keeps only its hash (SHA-256:
 * it is random, so no guessing reaches it; maildirs.ts).
 * Release deletes the mailbox and everything in it.
 */
export class LocalMailboxProvider implements ToolProvider {
  readonly toolId = "email";
  readonly name = "local-mailbox";
  readonly mailboxes: Maildirs;

  constructor(
    readonly root: string,
    readonly domain: string = DEFAULT_EMAIL_DOMAIN,
  ) {
    this.mailboxes = new Maildirs(root, domain);
  }

  /** The directory of a mailbox; only for addresses this provider hands out (no path tricks). */
  mailboxDir(address: string): string {
    return this.mailboxes.dir(address);
  }

  async provision(instanceId: string): Promise<ProvisionedResource> {
    try {
      const { address, password } = await this.mailboxes.create(instanceId);
      return { handle: address, secrets: { password } };
    } catch (err) {
      throw new ProvisioningError(`local mailbox provider unavailable: ${(err as Error).message}`, "unavailable", {
        cause: err,
      });
    }
  }

  async release(handle: string): Promise<void> {
    await this.mailboxes.remove(handle);
  }

  /** True when the mailbox exists (tests, diagnostics). */
  exists(handle: string): Promise<boolean> {
    return this.mailboxes.exists(handle);
  }
}
