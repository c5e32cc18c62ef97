/**
 * Identity updates: the structural checks this node makes before storing one,
 * and the changes an update makes to the address-to-inbox map.
 *
 * Not done here (see docs/xmtp-devnode.md): signatures inside the update are
 * not verified, and the inbox's association state is not replayed. The
 * production node hands both to its MLS validation service; clients verify
 * every identity update they download themselves in any case.
 */
import { createHash } from "node:crypto";
import { RpcError, Status } from "./rpc-error.js";
import type { AssociationSignature, IdentityUpdate, MemberIdentifier } from "./proto.js";
import { associations } from "./proto.js";
import { readFields, type WireField, WireError } from "./wire.js";

/** IdentifierKind: UNSPECIFIED is Ethereum on old clients. */
export const IdentifierKind = { Unspecified: 0, Ethereum: 1, Passkey: 2 } as const;

export const INBOX_ID_PATTERN = /^[0-9a-f]{64}$/;
const ETHEREUM_ADDRESS_PATTERN = /^0x[0-9a-fA-F]{40}$/;

/** The production node refuses to grow an inbox's log past this many updates. */
export const MAX_INBOX_LOG_ENTRIES = 256;

export function isEthereumKind(kind: number): boolean {
  return kind === IdentifierKind.Unspecified || kind === IdentifierKind.Ethereum;
}

export function isPasskeyKind(kind: number): boolean {
  return kind === IdentifierKind.Passkey;
}

/** The key the address map uses: Ethereum addresses are compared in lower case. */
export function normalizeAddress(address: string): string {
  return address.toLowerCase();
}

/** XMTP's inbox id of an Ethereum address: SHA-256 of the lower-case address followed by the nonce, in hex. */
export function deriveInboxId(address: string, nonce: bigint): string {
  return createHash("sha256").update(`${address.toLowerCase()}${nonce}`).digest("hex");
}

export interface ParsedIdentityUpdate {
  /** The IdentityUpdate exactly as the client encoded it. */
  raw: Uint8Array;
  update: IdentityUpdate;
  inboxId: string;
  createsInbox: boolean;
  /** Address map changes, in action order. */
  addressChanges: AddressChange[];
}

export interface AddressChange {
  op: "associate" | "revoke";
  address: string;
}

function invalid(message: string): RpcError {
  return new RpcError(Status.INVALID_ARGUMENT, `invalid identity update: ${message}`);
}

/** Exactly one of a oneof's members is set. */
function oneSet(obj: object | undefined, what: string): string {
  if (!obj) throw invalid(`${what} is missing`);
  const set = Object.entries(obj).filter(([, v]) => v !== undefined && v !== null);
  const [one] = set;
  if (!one || set.length !== 1) throw invalid(`${what} must have exactly one kind, has ${set.length}`);
  return one[0];
}

function requireSignature(sig: AssociationSignature | undefined, what: string): void {
  oneSet(sig, what);
}

function requireMember(member: MemberIdentifier | undefined, what: string): MemberIdentifier {
  if (!member) throw invalid(`${what} is missing`);
  const kind = oneSet(member, what);
  const m = member;
  if (kind === "ethereumAddress" && !ETHEREUM_ADDRESS_PATTERN.test(m.ethereumAddress ?? "")) {
    throw invalid(`${what}.ethereum_address is not an Ethereum address`);
  }
  if (kind === "installationPublicKey" && (m.installationPublicKey?.length ?? 0) === 0) {
    throw invalid(`${what}.installation_public_key is empty`);
  }
  if (kind === "passkey" && (m.passkey?.key?.length ?? 0) === 0) throw invalid(`${what}.passkey.key is empty`);
  return m;
}

/**
 * Cuts the IdentityUpdate out of a PublishIdentityUpdateRequest's bytes (field
 * 1) and checks its structure. Throws INVALID_ARGUMENT on anything malformed.
 */
export function parsePublishIdentityUpdateRequest(requestBytes: Uint8Array): ParsedIdentityUpdate {
  let fields: WireField[];
  try {
    fields = readFields(requestBytes);
  } catch (err) {
    if (err instanceof WireError) throw invalid(`malformed request: ${err.message}`);
    throw err;
  }
  const [first, ...more] = fields.filter((f) => f.field === 1);
  if (!first) throw invalid("identity_update is required");
  if (more.length > 0 || first.wireType !== 2 || !first.bytes)
    throw invalid("identity_update must appear once, as a message");
  const raw = first.bytes;
  let update: IdentityUpdate;
  try {
    update = associations.IdentityUpdate.decode(raw);
  } catch (err) {
    throw invalid(`cannot decode: ${(err as Error).message}`);
  }
  return { raw, update, ...checkIdentityUpdate(update) };
}

/** Structural checks of one identity update; returns what it changes. */
export function checkIdentityUpdate(update: IdentityUpdate): Omit<ParsedIdentityUpdate, "raw" | "update"> {
  const inboxId = update.inboxId;
  if (!INBOX_ID_PATTERN.test(inboxId)) throw invalid("inbox_id must be 64 lower-case hex characters");
  if (update.actions.length === 0) throw invalid("no actions");
  const addressChanges: AddressChange[] = [];
  let createsInbox = false;
  update.actions.forEach((action, i) => {
    const where = `actions[${i}]`;
    const kind = oneSet(action, where);
    if (action.createInbox) {
      const c = action.createInbox;
      if (i !== 0) throw invalid(`${where}: create_inbox must be the first action`);
      createsInbox = true;
      if (!c.initialIdentifier) throw invalid(`${where}.create_inbox.initial_identifier is empty`);
      requireSignature(c.initialIdentifierSignature, `${where}.create_inbox.initial_identifier_signature`);
      if (isEthereumKind(c.initialIdentifierKind)) {
        if (!ETHEREUM_ADDRESS_PATTERN.test(c.initialIdentifier)) {
          throw invalid(`${where}.create_inbox.initial_identifier is not an Ethereum address`);
        }
        const expected = deriveInboxId(c.initialIdentifier, BigInt(c.nonce.toString()));
        if (expected !== inboxId) {
          throw invalid(`inbox_id is not the one derived from the initial identifier and nonce`);
        }
        addressChanges.push({ op: "associate", address: normalizeAddress(c.initialIdentifier) });
      } else if (!isPasskeyKind(c.initialIdentifierKind)) {
        throw invalid(`${where}.create_inbox.initial_identifier_kind ${c.initialIdentifierKind} is unknown`);
      }
    } else if (action.add) {
      const a = action.add;
      const member = requireMember(a.newMemberIdentifier, `${where}.add.new_member_identifier`);
      requireSignature(a.existingMemberSignature, `${where}.add.existing_member_signature`);
      requireSignature(a.newMemberSignature, `${where}.add.new_member_signature`);
      if (member.ethereumAddress !== undefined) {
        addressChanges.push({ op: "associate", address: normalizeAddress(member.ethereumAddress) });
      }
    } else if (action.revoke) {
      const r = action.revoke;
      const member = requireMember(r.memberToRevoke, `${where}.revoke.member_to_revoke`);
      requireSignature(r.recoveryIdentifierSignature, `${where}.revoke.recovery_identifier_signature`);
      if (member.ethereumAddress !== undefined) {
        addressChanges.push({ op: "revoke", address: normalizeAddress(member.ethereumAddress) });
      }
    } else if (action.changeRecoveryAddress) {
      const c = action.changeRecoveryAddress;
      if (!c.newRecoveryIdentifier) {
        throw invalid(`${where}.change_recovery_address.new_recovery_identifier is empty`);
      }
      requireSignature(
        c.existingRecoveryIdentifierSignature,
        `${where}.change_recovery_address.existing_recovery_identifier_signature`,
      );
    } else {
      throw invalid(`${where}: unknown action ${kind}`);
    }
  });
  return { inboxId, createsInbox, addressChanges };
}
