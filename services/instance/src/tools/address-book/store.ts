// Its owner's address book (docs/address-book.md): the wallets, numbers and
// mailboxes the owner saved by name, either by a request in the conversation
// that the agent showed back and the owner confirmed (`via: "chat"`,
// agent/conversation/address-book-requests.ts), or by a call the owner signed (`via:
// "signed"`, service.ts). Besides the owner's own words, the one place a
// recipient may come from without asking (tools/gate/gate.ts); never an
// amount, and never a fact learned from the conversation.
//
// The store: address-book.json, one value per name and kind (names compared
// ignoring case), at most MAX_CONTACTS, written whole, one write at a time;
// what a contact may be is policy.ts's.
//
// At rest it is sealed, as memory-credentials.json is (docs/memory.md,
// "Credentials"): the workspace keeps the numbers and accounts its agent
// uses for tools sealed, and keeps in clear only what the agent merely knows.
// These are other people's numbers and mailboxes that it sends to, and, more
// than that, the payees it trusts: AES-256-GCM under a key of their own
// derived from its wallet (InstanceWallet.addressBookKey), so the file opens
// only with the pool's seed, and a file changed by anyone without it does
// not open at all rather than add a payee.

import { failedPrecondition } from "@convos-pool/kit/content";
import { randomBytes } from "node:crypto";
import { FILES, type Workspace } from "../../platform/workspace.js";
import { normalizeTarget, type TargetKind } from "../trust/values.js";
import {
  CONTACT_ID_PATTERN,
  CONTACT_KINDS,
  MAX_CONTACTS,
  checkContact,
  nameKey,
  type Contact,
  type ContactVia,
} from "./policy.js";

/** The associated data's purpose of the sealed file (Workspace.writeSealed). */
const PURPOSE = "address-book";

/** address-book.json, once opened. */
interface AddressBookFile {
  version: 1;
  contacts: Contact[];
}

export class AddressBook {
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly ws: Workspace,
    private readonly key: Uint8Array,
    private contacts: readonly Contact[],
  ) {}

  /**
   * Its owner's address book from the workspace (none yet: empty), opened
   * with `key` (InstanceWallet.addressBookKey). A file that does not open
   * (another key, changed) throws: it is never taken for an empty one.
   */
  static async open(ws: Workspace, key: Uint8Array): Promise<AddressBook> {
    const file = await ws.readSealed<Partial<AddressBookFile>>(FILES.addressBook, PURPOSE, key);
    const contacts = (Array.isArray(file?.contacts) ? file.contacts : [])
      .filter(wellFormed)
      .map((c) => Object.freeze(c));
    return new AddressBook(ws, key, contacts);
  }

  /** Every contact, in the order they were saved. */
  list(): readonly Contact[] {
    return this.contacts;
  }

  /** The contact of `kind` saved as `name` (ignoring case); undefined when there is none. */
  lookup(name: string, kind: TargetKind): Contact | undefined {
    const key = nameKey(name);
    return key === "" ? undefined : this.contacts.find((c) => c.kind === kind && nameKey(c.name) === key);
  }

  /** The names it holds, each once (as first saved), in the order they were saved. */
  names(): string[] {
    const seen = new Map<string, string>();
    for (const c of this.contacts) if (!seen.has(nameKey(c.name))) seen.set(nameKey(c.name), c.name);
    return [...seen.values()];
  }

  /**
   * Saves a contact (checkContact: INVALID_ARGUMENT naming `name`, `kind` or
   * `value`). One of the same name and kind is replaced (a new id); the same
   * value again is the contact it has, unchanged. A new one past
   * MAX_CONTACTS is FAILED_PRECONDITION.
   */
  async save(c: { name: string; kind: TargetKind; value: string; via: ContactVia }): Promise<Contact> {
    const want = checkContact(c);
    return this.serially(async () => {
      const before = this.lookup(want.name, want.kind);
      if (before?.value === want.value) return before;
      if (!before) this.checkSpace();
      const contact: Contact = Object.freeze({
        id: `ab_${randomBytes(6).toString("hex")}`,
        ...want,
        savedAt: new Date().toISOString(),
        via: c.via,
      });
      await this.write([...this.contacts.filter((x) => x !== before), contact]);
      return contact;
    });
  }

  /** Whether a contact of `name` and `kind` could be saved now: FAILED_PRECONDITION when it is new and the book is full. */
  checkSpace(name?: string, kind?: TargetKind): void {
    if (name !== undefined && kind !== undefined && this.lookup(name, kind)) return;
    if (this.contacts.length >= MAX_CONTACTS)
      throw failedPrecondition(`the address book is full (${MAX_CONTACTS} contacts): remove some first`);
  }

  /** Removes the contacts of these ids: those it had. */
  remove(ids: string[]): Promise<Contact[]> {
    return this.serially(async () => {
      const gone = this.contacts.filter((c) => ids.includes(c.id));
      if (gone.length > 0) await this.write(this.contacts.filter((c) => !gone.includes(c)));
      return gone;
    });
  }

  /** Empties it, file and all (a new owner: tools/toolbox/toolbox.ts). */
  clear(): Promise<void> {
    return this.serially(async () => {
      await this.ws.remove(FILES.addressBook);
      this.contacts = [];
    });
  }

  /** The file written whole, then held: a reader sees the old book or the new, and so does the gate. */
  private async write(contacts: readonly Contact[]): Promise<void> {
    await this.ws.writeSealed(FILES.addressBook, PURPOSE, this.key, {
      version: 1,
      contacts: [...contacts],
    } satisfies AddressBookFile);
    this.contacts = contacts;
  }

  /** One change at a time: a save from the conversation and an owner's signed call do not write over each other. */
  private serially<T>(job: () => Promise<T>): Promise<T> {
    const next = this.writing.then(job, job);
    this.writing = next.catch(() => undefined);
    return next;
  }
}

/** A contact read back from the file: what the store itself wrote, its value normalized. */
function wellFormed(c: unknown): c is Contact {
  if (typeof c !== "object" || c === null) return false;
  const x = c as Partial<Contact>;
  return (
    typeof x.id === "string" &&
    CONTACT_ID_PATTERN.test(x.id) &&
    typeof x.name === "string" &&
    x.name !== "" &&
    CONTACT_KINDS.includes(x.kind as TargetKind) &&
    typeof x.value === "string" &&
    normalizeTarget(x.kind as TargetKind, x.value) === x.value &&
    typeof x.savedAt === "string" &&
    (x.via === "chat" || x.via === "signed")
  );
}
