// InstanceAddressBookService: the agent's side of its owner's address-book
// calls (docs/address-book.md). The claims service relays them; the agent
// trusts only the owner's signature, which it checks itself as it does the
// memory calls (platform/owner-signature.ts): the owner's inbox, this
// instance, these fields, in time, a nonce never spent here. So the pool
// cannot add a payee, nor remove one. Contacts leave only sealed to the key
// the owner signed for, and come in only sealed to the agent's own memory
// key (InstanceWallet.memorySealingKey); logs carry counts and kinds.
// What a request gets wrong is refused before its signature is checked, so
// a refused request spends no nonce.

import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidArgument, requirePresent } from "@convos-pool/kit/content";
import { sealTo } from "@convos-pool/kit/signing";
import type { Logger } from "@convos-pool/kit/server";
import type { InstanceAddressBookService } from "@convos-pool/gen/convos/pool/v1/instance_address_book_service_pb.js";
import type { SealedBox } from "@convos-pool/gen/convos/pool/v1/memory_pb.js";
import { bytesToHex, sha256 } from "viem";
import { checkOwnerSignature, type OwnerCheck } from "../../platform/owner-signature.js";
import { idList, openSealedToAgent, recipientKey } from "../../platform/sealed-calls.js";
import { CONTACT_ID_PATTERN, checkContact } from "./policy.js";
import type { AddressBook } from "./store.js";

/** At most this many contacts removed in one call (address_book_service.proto). */
export const MAX_REMOVE_IDS = 100;

/** What a claimed agent lends its owner's address-book calls (Agent.addressBookCall). */
export interface AddressBookAccess extends OwnerCheck {
  book: AddressBook;
  /** Its memory key's private half: what a contact to save is sealed to. */
  sealingKey: Uint8Array;
  log: Logger;
}

/** An agent that runs its owner's address-book calls one at a time with its other calls, between turns. */
export interface AddressBookHolder {
  addressBookCall<T>(job: (access: AddressBookAccess) => Promise<T>): Promise<T>;
}

export function createInstanceAddressBookService(
  pick: (ctx: HandlerContext) => AddressBookHolder,
): ServiceImpl<typeof InstanceAddressBookService> {
  return {
    async listContacts(req, ctx) {
      const recipient = recipientKey(req.recipientKey);
      return pick(ctx).addressBookCall(async (a) => {
        await checkOwnerSignature(
          a,
          req.ownerId,
          "ListContacts",
          { recipientKey: bytesToHex(recipient) },
          req.signature,
        );
        const contacts = a.book.list();
        const sealed = await sealTo(recipient, new TextEncoder().encode(JSON.stringify({ contacts })));
        a.log.info("contacts listed", { count: contacts.length });
        return { sealed, count: contacts.length };
      });
    },

    async saveContact(req, ctx) {
      const sealed = requirePresent("sealed", req.sealed);
      return pick(ctx).addressBookCall(async (a) => {
        const contact = checkContact(await openContact(a.sealingKey, sealed), "contact.");
        a.book.checkSpace(contact.name, contact.kind);
        await checkOwnerSignature(
          a,
          req.ownerId,
          "SaveContact",
          { sealedDigest: sha256(sealed.ciphertext) },
          req.signature,
        );
        const before = a.book.lookup(contact.name, contact.kind);
        const saved = await a.book.save({ ...contact, via: "signed" });
        const replaced = before && before.id !== saved.id ? before.id : "";
        a.log.info("contact saved", { kind: saved.kind, replaced: replaced !== "" });
        return { contactId: saved.id, replacedId: replaced };
      });
    },

    async removeContacts(req, ctx) {
      const ids = contactIds(req.contactIds);
      return pick(ctx).addressBookCall(async (a) => {
        await checkOwnerSignature(a, req.ownerId, "RemoveContacts", { contactIds: ids.join(",") }, req.signature);
        const found = new Set((await a.book.remove(ids)).map((c) => c.id));
        const notFound = ids.filter((id) => !found.has(id));
        a.log.info("contacts removed", { removed: found.size, notFound: notFound.length });
        return { removed: found.size, notFound };
      });
    },
  };
}

function contactIds(ids: string[]): string[] {
  return idList("contact_ids", ids, MAX_REMOVE_IDS, CONTACT_ID_PATTERN, 'a contact id ("ab_" and 12 hex characters)');
}

/** The sealed contact as JSON: an object, or INVALID_ARGUMENT naming `sealed` and why (never what it holds). */
async function openContact(privateKey: Uint8Array, sealed: SealedBox): Promise<Record<string, unknown>> {
  const plaintext = await openSealedToAgent(privateKey, sealed);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    throw invalidArgument("sealed", 'does not open to JSON: seal {"name", "kind", "value"}');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw invalidArgument("sealed", 'does not open to an object: seal {"name", "kind", "value"}');
  return parsed as Record<string, unknown>;
}
