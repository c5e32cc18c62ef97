// An owner's address book kept by their agent, from the command line
// (docs/cli.md, "Address book"; docs/address-book.md): list it, save a
// contact, remove contacts. Contacts cross the pool sealed: the listing to a
// one-time key made here, a contact to the agent's own memory key, which is
// checked against the agent's inbox before anything is sealed to it. Every
// call is signed by the key as the agent's owner, and the agent checks it.
import type { AddressBookJson } from "@convos-pool/gateway/rest-json";
import { bytesToHex, sha256 } from "viem";
import { openSealed, x25519KeyPair } from "@convos-pool/kit/signing";
import { CommandUsageError } from "../../core/args.js";
import { request, type Context } from "../../core/http.js";
import { loadKey } from "../../core/key-store.js";
import { signRest } from "../../core/signing.js";
import { b64, sealedFromJson, sealedToJson, sealToAgent } from "../memory/sealing.js";

const bookPath = (id: string) => `/api/pool/agents/${encodeURIComponent(id)}/address-book`;

/** KIND as people write it → the kind the agent keeps. */
const KINDS = { wallet: "address", phone: "phone", mail: "mailbox" } as const;
type KindWord = keyof typeof KINDS;
const WORDS: Record<string, KindWord> = { address: "wallet", phone: "phone", mailbox: "mail" };

interface ListedContact {
  id: string;
  name: string;
  kind: string;
  value: string;
  savedAt: string;
  via: string;
}

/** KIND of `address-book save`: wallet, phone or mail. */
export function kindArg(word: string): (typeof KINDS)[KindWord] {
  if (!Object.hasOwn(KINDS, word))
    throw new CommandUsageError(`KIND takes wallet, phone or mail (got "${word}")`, "address-book save");
  return KINDS[word as KindWord];
}

/** The contacts, one a line: id, name, kind (wallet, phone, mail), value, how it was saved (chat, signed), when. */
export async function listContacts(ctx: Context, id: string): Promise<string> {
  const key = await loadKey(ctx.keyFile);
  const mine = x25519KeyPair();
  const signature = await signRest(ctx, key, "ListContacts", {
    instanceId: id,
    recipientKey: bytesToHex(mine.publicKey),
  });
  const reply = (
    await request(ctx, "GET", bookPath(id), {
      auth: "session",
      query: { recipient_key: b64(mine.publicKey), ...signature },
    })
  ).body as AddressBookJson;
  const { contacts } = JSON.parse(
    new TextDecoder().decode(await openSealed(mine.privateKey, sealedFromJson(reply.sealed))),
  ) as { contacts: ListedContact[] };
  if (contacts.length === 0) return "(nothing)";
  return contacts.map((c) => [c.id, c.name, WORDS[c.kind] ?? c.kind, c.value, c.via, c.savedAt].join("\t")).join("\n");
}

/**
 * Saves NAME's KIND as VALUE, sealed to the agent's memory key once that key
 * checks out as signed by the wallet of the inbox the pool lists for the
 * agent; prints the contact's id (and the one it replaced).
 */
export async function saveContact(
  ctx: Context,
  id: string,
  contact: { name: string; kind: string; value: string },
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const sealed = await sealToAgent(ctx, id, contact);
  const ownerSignature = await signRest(ctx, key, "SaveContact", {
    instanceId: id,
    sealedDigest: sha256(sealed.ciphertext),
  });
  return (
    await request(ctx, "POST", bookPath(id), {
      auth: "session",
      body: {
        sealed: sealedToJson(sealed),
        owner_signature: ownerSignature,
      },
    })
  ).body;
}

/** Removes contacts by id; prints how many went and the ids the agent did not have. */
export async function removeContacts(ctx: Context, id: string, contactIds: string[]): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "RemoveContacts", {
    instanceId: id,
    contactIds: contactIds.join(","),
  });
  return (
    await request(ctx, "DELETE", bookPath(id), {
      auth: "session",
      body: { contact_ids: contactIds, owner_signature: ownerSignature },
    })
  ).body;
}
