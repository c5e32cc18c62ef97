// The REST paths of an owner's address book kept by their agent (docs/rest.md,
// "Address book"; docs/address-book.md): GET lists, POST saves, DELETE
// removes. Each is an AddressBookService RPC on the claims service, as on the
// Connect face; sealed boxes pass through as they are. The listing is a GET,
// so what it is made for travels in its query (the key it is sealed to and
// the owner's signature): a GET that spends its signature, answered once.

import { create } from "@bufbuild/protobuf";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { violationsOf } from "@convos-pool/kit/content";
import { recipientKey as checkRecipientKey } from "@convos-pool/kit/signing";
import { AGENT_ERRORS, Violations, badRequest, fieldNames, type FieldNames } from "../core/errors.js";
import { forwarderOf, query, type Handler, type Route } from "../core/request.js";
import { base64Bytes, sealedOf, sealedToJson, type SealedJson } from "../core/sealed-json.js";
import { signatureOf } from "../core/signature-json.js";

const SIGNATURE_PARAMS = ["signature", "issued_at", "nonce"] as const;

/**
 * The owner's signature of a GET, from its query: none of the three (the
 * service answers 401), or all of them, `issued_at` any whole number JSON
 * carries, as in a body (the signing window is the service's to judge).
 * What is wrong with them goes to `check`, every parameter at once.
 */
function querySignature(q: Map<string, string>, check: Violations): Signature | undefined {
  if (SIGNATURE_PARAMS.every((p) => !q.has(p))) return undefined;
  for (const p of SIGNATURE_PARAMS)
    if (!q.has(p)) check.add({ field: p, description: "is required with the signature's other fields" });
  const issuedAt = q.get("issued_at") ?? "0";
  const seconds = /^-?[0-9]{1,16}$/.test(issuedAt) ? Number(issuedAt) : Number.NaN;
  if (!Number.isSafeInteger(seconds)) check.add({ field: "issued_at", description: "must be unix seconds" });
  return create(SignatureSchema, {
    signature: q.get("signature") ?? "",
    issuedAt: Number.isSafeInteger(seconds) ? BigInt(seconds) : 0n,
    nonce: q.get("nonce") ?? "",
  });
}

/** The listing's names: its signature is three query parameters, not an `owner_signature` object. */
const LIST_NAMES = fieldNames({
  instance_id: "instance_id",
  recipient_key: "recipient_key",
  owner_signature: "signature",
});

const SIGNATURE_NAMES: Readonly<Record<string, string>> = {
  "owner_signature.signature": "signature",
  "owner_signature.issued_at": "issued_at",
  "owner_signature.nonce": "nonce",
  owner_id: "owner",
};

/** The listing's errors: `owner_signature.issued_at` is the query's `issued_at`. */
export const LIST_ERRORS: FieldNames = {
  ...LIST_NAMES,
  field: (rpcField, sent) => SIGNATURE_NAMES[rpcField] ?? LIST_NAMES.field(rpcField, sent),
};

/**
 * The address book sealed to `recipient_key` (ListContacts). A key left out
 * goes on empty, for the service to name; a key that is not base64 or a
 * signature REST cannot read is REST's own fault, named beside the
 * service's check of the key (the kit's `recipientKey`), and the service is
 * not asked (docs/rest.md, "REST's own faults beside the service's").
 */
const listContacts: Handler = async (r, deps) => {
  const book = forwarderOf(deps, "addressBook");
  const q = query(r, ["recipient_key", ...SIGNATURE_PARAMS]);
  const check = new Violations();
  const recipientKey = check.read(() => base64Bytes(q.get("recipient_key") ?? "", "recipient_key", true));
  const ownerSignature = querySignature(q, check);
  const req = { instanceId: r.id, recipientKey: recipientKey ?? new Uint8Array(), ownerSignature };
  check.doneWith(LIST_ERRORS, () => violationsOf(() => checkRecipientKey(req.recipientKey)));
  const res = await book.listContacts(req, r.call);
  const body: AddressBookJson = { sealed: sealedToJson(res.sealed), count: res.count };
  return { status: 200, body };
};

const saveContact: Handler = async (r, deps) => {
  const book = forwarderOf(deps, "addressBook");
  query(r, []);
  const body = await r.body(["sealed", "owner_signature"]);
  const sealed = sealedOf(body, "sealed");
  const res = await book.saveContact(
    { instanceId: r.id, sealed, ownerSignature: signatureOf(body, "owner_signature") },
    r.call,
  );
  return { status: 200, body: { contact_id: res.contactId, replaced_id: res.replacedId } };
};

const removeContacts: Handler = async (r, deps) => {
  const book = forwarderOf(deps, "addressBook");
  query(r, []);
  const body = await r.body(["contact_ids", "owner_signature"]);
  const contactIds = body.strings("contact_ids");
  if (!contactIds) throw badRequest("contact_ids", "is required: the ids of the contacts to remove");
  const res = await book.removeContacts(
    { instanceId: r.id, contactIds, ownerSignature: signatureOf(body, "owner_signature") },
    r.call,
  );
  return { status: 200, body: { removed: res.removed, not_found: res.notFound } };
};

/** GET /api/pool/agents/{id}/address-book: the address book sealed to `recipient_key`, and how many contacts it holds. */
export interface AddressBookJson {
  sealed: SealedJson;
  count: number;
}

export const ADDRESS_BOOK_ROUTES: Route[] = [
  ["GET", "/agents/:id/address-book", listContacts, LIST_ERRORS],
  ["POST", "/agents/:id/address-book", saveContact, AGENT_ERRORS],
  ["DELETE", "/agents/:id/address-book", removeContacts, AGENT_ERRORS],
];
