// The REST paths of an owner's address book kept by their agent (docs/rest.md,
// "Address book"; docs/address-book.md): GET lists, POST saves, DELETE
// removes. Each is an AddressBookService RPC on the claims service, as on the
// Connect face; sealed boxes pass through as they are. The listing is a GET,
// so what it is made for travels in its query (the key it is sealed to and
// the owner's signature): a GET that spends its signature, answered once.

import { create } from "@bufbuild/protobuf";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { AGENT_ERRORS } from "../core/errors.js";
import { badRequest, renaming, type RestErrorMapping } from "../core/errors.js";
import { forwarderOf, query, type Handler, type Route } from "../core/request.js";
import { base64Bytes, sealedOf, sealedToJson, type SealedJson } from "../core/sealed-json.js";
import { signatureOf } from "../core/signature-json.js";

const SIGNATURE_PARAMS = ["signature", "issued_at", "nonce"] as const;

/** The owner's signature of a GET, from its query: none of the three (the service answers 401), or all of them. */
function querySignature(q: Map<string, string>): Signature | undefined {
  if (SIGNATURE_PARAMS.every((p) => !q.has(p))) return undefined;
  for (const p of SIGNATURE_PARAMS) if (!q.has(p)) throw badRequest(p, "is required with the signature's other fields");
  const issuedAt = q.get("issued_at") ?? "";
  if (!/^[0-9]{1,19}$/.test(issuedAt)) throw badRequest("issued_at", "must be unix seconds");
  return create(SignatureSchema, {
    signature: q.get("signature") ?? "",
    issuedAt: BigInt(issuedAt),
    nonce: q.get("nonce") ?? "",
  });
}

/** The listing's errors: its signature is in the query, not in an `owner_signature` object. */
export const LIST_ERRORS: RestErrorMapping = {
  field: renaming({
    owner_signature: "signature",
    "owner_signature.signature": "signature",
    "owner_signature.issued_at": "issued_at",
    "owner_signature.nonce": "nonce",
    owner_id: "owner",
  }),
};

const listContacts: Handler = async (r, deps) => {
  const book = forwarderOf(deps, "addressBook");
  const q = query(r, ["recipient_key", ...SIGNATURE_PARAMS]);
  const key = q.get("recipient_key");
  if (key === undefined) throw badRequest("recipient_key", "is required: an X25519 public key of yours, base64");
  const res = await book.listContacts(
    { instanceId: r.id, recipientKey: base64Bytes(key, "recipient_key", true), ownerSignature: querySignature(q) },
    r.call,
  );
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
