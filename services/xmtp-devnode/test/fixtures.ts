/**
 * Hand-built MLS framings, key packages and identity updates for the
 * devnode's own tests (the node never looks further than these headers).
 */
import { deriveInboxId } from "../src/identity.js";
import { associations, type IdentityUpdate } from "../src/proto.js";

/** A QUIC variable-length integer as RFC 9420 encodes vector lengths (1, 2 or 4 bytes). */
export function quicVarint(n: number): Uint8Array {
  if (n < 0x40) return Uint8Array.from([n]);
  if (n < 0x4000) return Uint8Array.from([0x40 | (n >> 8), n & 0xff]);
  if (n < 0x40000000) return Uint8Array.from([0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  throw new Error("too long for MLS");
}

function vector(b: Uint8Array): Buffer {
  return Buffer.concat([quicVarint(b.length), b]);
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

/** An MLSMessage carrying a PrivateMessage: header fields, then opaque "ciphertext". */
export function mlsPrivateMessage(
  groupId: Uint8Array,
  opts: { epoch?: bigint; contentType?: number; ciphertext?: Uint8Array } = {},
): Buffer {
  return Buffer.concat([
    Uint8Array.from([0, 1, 0, 2]),
    vector(groupId),
    u64(opts.epoch ?? 1n),
    Uint8Array.from([opts.contentType ?? 1]),
    vector(new Uint8Array(0)), // authenticated_data
    vector(new Uint8Array(8)), // encrypted_sender_data
    vector(opts.ciphertext ?? Buffer.from("opaque ciphertext")),
  ]);
}

/** An MLSMessage carrying a PublicMessage. */
export function mlsPublicMessage(
  groupId: Uint8Array,
  opts: { epoch?: bigint; contentType?: number; senderType?: number; authenticatedData?: Uint8Array } = {},
): Buffer {
  const senderType = opts.senderType ?? 1;
  const sender =
    senderType === 1 || senderType === 2 ? Buffer.from([senderType, 0, 0, 0, 3]) : Buffer.from([senderType]);
  return Buffer.concat([
    Uint8Array.from([0, 1, 0, 1]),
    vector(groupId),
    u64(opts.epoch ?? 1n),
    sender,
    vector(opts.authenticatedData ?? new Uint8Array(0)),
    Uint8Array.from([opts.contentType ?? 1]),
    vector(Buffer.from("content")),
  ]);
}

/** A KeyPackage whose leaf node's signature key is `installationKey` (the rest is filler). */
export function mlsKeyPackage(installationKey: Uint8Array): Buffer {
  return Buffer.concat([
    Uint8Array.from([0, 1, 0, 1]),
    vector(Buffer.alloc(32, 0x11)), // init_key
    vector(Buffer.alloc(32, 0x22)), // encryption_key
    vector(installationKey), // signature_key
    vector(Buffer.from("credential and the rest")),
  ]);
}

const fakeSignature = { erc191: { bytes: new Uint8Array(65).fill(7) } };

/** A structurally valid (unsigned) update creating the inbox of `address` with `nonce`. */
export function createInboxUpdate(address: string, nonce = 1n): IdentityUpdate {
  return associations.IdentityUpdate.fromPartial({
    inboxId: deriveInboxId(address, nonce),
    clientTimestampNs: "1700000000000000000",
    actions: [
      {
        createInbox: {
          initialIdentifier: address.toLowerCase(),
          nonce: nonce.toString(),
          initialIdentifierSignature: fakeSignature,
          initialIdentifierKind: 1,
        },
      },
    ],
  });
}

export function addAddressUpdate(inboxId: string, address: string): IdentityUpdate {
  return associations.IdentityUpdate.fromPartial({
    inboxId,
    clientTimestampNs: "1700000000000000001",
    actions: [
      {
        add: {
          newMemberIdentifier: { ethereumAddress: address.toLowerCase() },
          existingMemberSignature: fakeSignature,
          newMemberSignature: fakeSignature,
        },
      },
    ],
  });
}

export function addInstallationUpdate(inboxId: string, installationKey: Uint8Array): IdentityUpdate {
  return associations.IdentityUpdate.fromPartial({
    inboxId,
    clientTimestampNs: "1700000000000000002",
    actions: [
      {
        add: {
          newMemberIdentifier: { installationPublicKey: installationKey },
          existingMemberSignature: fakeSignature,
          newMemberSignature: { installationKey: { bytes: new Uint8Array(64), publicKey: installationKey } },
        },
      },
    ],
  });
}

export function revokeAddressUpdate(inboxId: string, address: string): IdentityUpdate {
  return associations.IdentityUpdate.fromPartial({
    inboxId,
    clientTimestampNs: "1700000000000000003",
    actions: [
      {
        revoke: {
          memberToRevoke: { ethereumAddress: address.toLowerCase() },
          recoveryIdentifierSignature: fakeSignature,
        },
      },
    ],
  });
}

export function encodeIdentityUpdate(update: IdentityUpdate): Buffer {
  return Buffer.from(associations.IdentityUpdate.encode(update).finish());
}
