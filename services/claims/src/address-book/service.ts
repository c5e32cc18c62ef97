// AddressBookService: an owner's address book kept by their agent
// (docs/address-book.md). The claims service checks who asks and relays; the
// agent checks the owner's signature again itself and does the work, so the
// pool can add no payee. Sealed boxes pass through here unread: a listing
// leaves the agent sealed to the key the owner signed for, a contact comes to
// it sealed to its own wallet-signed memory key.
//
// Every call is its owner's only: signed in as the owner of the live agent
// (anyone else, and a signature by anyone else: NOT_FOUND, as for a missing
// agent), and signed (owner_signature), whose nonce is spent here before the
// agent is asked, so a signature reaches it once. The same shape as
// memory/service.ts; the helpers both use are claim/owner-call.ts.

import type { ServiceImpl } from "@connectrpc/connect";
import type { AddressBookService } from "@convos-pool/gen/convos/pool/v1/address_book_service_pb.js";
import { refuseViolations } from "@convos-pool/kit/content";
import { bytesToHex, sha256 } from "viem";
import { ownerSignedRelay, type OwnerCallDeps } from "../claim/owner-call.js";
import type { InstanceRuntime } from "../hosts/runtime.js";
import { idsViolations, recipientKeyViolations, requireSealed } from "../memory/policy.js";

export interface AddressBookServiceDeps extends OwnerCallDeps {
  runtime: Pick<InstanceRuntime, "addressBook">;
}

export function createAddressBookService(deps: AddressBookServiceDeps): ServiceImpl<typeof AddressBookService> {
  const relay = ownerSignedRelay(deps, (ref) => deps.runtime.addressBook(ref));
  return {
    async listContacts(req, ctx) {
      refuseViolations(recipientKeyViolations(req.recipientKey));
      const key = req.recipientKey;
      const signed = { operation: "ListContacts", fields: { recipientKey: bytesToHex(key) } } as const;
      const res = await relay(req, ctx, signed, "the listing", (agent, ownerId) =>
        agent.client.listContacts({ ownerId, recipientKey: key, signature: req.ownerSignature }, agent.options),
      );
      return { sealed: res.sealed, count: res.count };
    },

    async saveContact(req, ctx) {
      const sealed = requireSealed(req.sealed, "a contact sealed to the agent's memory key");
      const signed = { operation: "SaveContact", fields: { sealedDigest: sha256(sealed.ciphertext) } } as const;
      const res = await relay(req, ctx, signed, "the contact", (agent, ownerId) =>
        agent.client.saveContact({ ownerId, sealed, signature: req.ownerSignature }, agent.options),
      );
      return { contactId: res.contactId, replacedId: res.replacedId };
    },

    async removeContacts(req, ctx) {
      refuseViolations(idsViolations("contact_ids", req.contactIds, "contact ids"));
      const signed = { operation: "RemoveContacts", fields: { contactIds: req.contactIds.join(",") } } as const;
      const res = await relay(req, ctx, signed, "removing contacts", (agent, ownerId) =>
        agent.client.removeContacts(
          { ownerId, contactIds: req.contactIds, signature: req.ownerSignature },
          agent.options,
        ),
      );
      return { removed: res.removed, notFound: res.notFound };
    },
  };
}
