// "Address book" on an agent's page (docs/address-book.md): the wallets,
// numbers and mailboxes the owner saved by name, which the agent may take a
// recipient from without asking (never an amount). Contacts never cross the
// pool in plaintext: the owner signs ListContacts over a one-time X25519 key
// made here and the agent seals the listing to it, opened in this page only;
// a contact to save is sealed here to the agent's memory key, once that key
// checks out as its wallet's, and the owner signs SaveContact over the sealed
// bytes. The agent checks every signature itself. Asked for, not loaded with
// the page: each listing is a signature.
import { useMutation } from "@connectrpc/connect-query";
import { AddressBookService } from "@convos-pool/gen/convos/pool/v1/address_book_service_pb.js";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { openSealed, sealTo, verifyMemoryKey, x25519KeyPair } from "@convos-pool/kit/browser";
import { useState } from "react";
import { bytesToHex, sha256 } from "viem";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Notice, Select, TextField } from "../ui/ui";
import { useAction } from "../ui/use-action";

/** A contact as the agent lists it. */
interface Contact {
  id: string;
  name: string;
  kind: Kind;
  value: string;
  savedAt: string;
  via: "chat" | "signed";
}

type Kind = "address" | "phone" | "mailbox";
const KIND_WORDS: Record<Kind, string> = { address: "Wallet", phone: "Phone number", mailbox: "Mail address" };
const VIA_WORDS = { chat: "you confirmed it in the conversation", signed: "you saved it here or with the CLI" };

/** The server's names of the fields, where their errors are. */
const NAME_FIELD = "contact.name";
const KIND_FIELD = "contact.kind";
const VALUE_FIELD = "contact.value";

export function AddressBook({ agent: i }: { agent: Instance }) {
  const { sign } = useSession();
  const act = useAction();
  const list = useMutation(AddressBookService.method.listContacts);
  const save = useMutation(AddressBookService.method.saveContact);
  const remove = useMutation(AddressBookService.method.removeContacts);
  const memoryKey = useMutation(AgentMemoryService.method.getMemoryKey);
  const [contacts, setContacts] = useState<Contact[]>();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Kind>("address");
  const [value, setValue] = useState("");

  const show = async () => {
    const mine = x25519KeyPair();
    const recipientKey = bytesToHex(mine.publicKey);
    const ownerSignature = await sign("ListContacts", { instanceId: i.id, recipientKey });
    const { sealed } = await list.mutateAsync({ instanceId: i.id, recipientKey: mine.publicKey, ownerSignature });
    if (!sealed) throw new Error("the agent sent nothing to open");
    const opened = await openSealed(mine.privateKey, sealed);
    setContacts((JSON.parse(new TextDecoder().decode(opened)) as { contacts: Contact[] }).contacts);
  };

  return (
    <section aria-labelledby="address-book-heading">
      <h2 id="address-book-heading">Your address book</h2>
      <p>
        Who it may pay, text or mail without asking you first, by the name you saved them under: only when you ask it
        to, and never for an amount you did not write. Save one here, or ask it in the conversation ("save Ana's wallet
        as 0x…") and answer its question.
      </p>
      <button type="button" disabled={!!act.busy} onClick={() => void act.run("list", "", show)}>
        {act.busy === "list" ? "Asking it…" : contacts ? "Sign and show again" : "Sign and show the address book"}
      </button>
      <ErrorBox error={act.errorOf("list")} />
      {contacts?.length === 0 && <Empty>No one is in it yet.</Empty>}
      {contacts && contacts.length > 0 && (
        <ol className="activity" aria-label="Address book">
          {contacts.map((c) => (
            <li key={c.id} data-testid="contact">
              <strong>{c.name}</strong> · {KIND_WORDS[c.kind] ?? c.kind} · <code>{c.value}</code>
              <p className="meta">{VIA_WORDS[c.via] ?? c.via}</p>
              <button
                type="button"
                className="small danger"
                disabled={!!act.busy}
                aria-label={`Remove ${c.name}, ${KIND_WORDS[c.kind] ?? c.kind}`}
                onClick={() =>
                  void act.run("remove", `Removed ${c.name}.`, async () => {
                    const ownerSignature = await sign("RemoveContacts", { instanceId: i.id, contactIds: c.id });
                    await remove.mutateAsync({ instanceId: i.id, contactIds: [c.id], ownerSignature });
                    setContacts((now) => now?.filter((x) => x.id !== c.id));
                  })
                }
              >
                Sign and remove
              </button>
            </li>
          ))}
        </ol>
      )}
      <ErrorBox error={act.errorOf("remove")} />
      <form
        className="card"
        aria-labelledby="contact-heading"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run("save", `Saved ${name.trim()}.`, async () => {
            const got = await memoryKey.mutateAsync({ instanceId: i.id });
            if (!got.key) throw new Error("the agent sent no key to seal the contact to");
            // A pool that put a key of its own in the agent's place would read the contact: checked first.
            await verifyMemoryKey(got.key, i.id, i.inboxId);
            const sealed = await sealTo(
              got.key.publicKey,
              new TextEncoder().encode(JSON.stringify({ name, kind, value })),
            );
            const ownerSignature = await sign("SaveContact", {
              instanceId: i.id,
              sealedDigest: sha256(sealed.ciphertext),
            });
            await save.mutateAsync({ instanceId: i.id, sealed, ownerSignature });
            setName("");
            setValue("");
            // As the agent keeps it (its value normalized): listed again when it was shown.
            if (contacts) await show();
          });
        }}
      >
        <h3 id="contact-heading">Save a contact</h3>
        <TextField
          label="Name"
          name={NAME_FIELD}
          required
          maxLength={40}
          error={act.errorOf("save")}
          value={name}
          onChange={(e) => setName(e.target.value)}
          hint="As you will name them when you ask it: Ana, my accountant. A new value for a name and kind replaces the old one."
          autoComplete="off"
        />
        <Select
          label="Kind"
          name={KIND_FIELD}
          error={act.errorOf("save")}
          value={kind}
          onChange={(e) => setKind(e.target.value as Kind)}
        >
          {(Object.keys(KIND_WORDS) as Kind[]).map((k) => (
            <option key={k} value={k}>
              {KIND_WORDS[k]}
            </option>
          ))}
        </Select>
        <TextField
          label="Value"
          name={VALUE_FIELD}
          required
          error={act.errorOf("save")}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          hint="0x and 40 hex digits; a number with its + and country code; a mail address."
          autoComplete="off"
        />
        <ErrorBox error={act.errorOf("save")} fieldsShown={[NAME_FIELD, KIND_FIELD, VALUE_FIELD]} />
        {act.done && !act.busy && <Notice>{act.done}</Notice>}
        <button type="submit" disabled={!!act.busy}>
          {act.busy === "save" ? "Saving…" : "Sign and save"}
        </button>
      </form>
    </section>
  );
}
