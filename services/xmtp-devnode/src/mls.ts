/**
 * Reading the few cleartext fields of MLS structures (RFC 9420, TLS
 * presentation language) that a relay needs: the group a message belongs to,
 * whether it is a commit, and which installation a key package belongs to.
 * Nothing here decrypts or verifies anything.
 */

export class MlsFramingError extends Error {}

/** ProtocolVersion mls10. */
export const MLS_VERSION_10 = 1;

/** WireFormat values of an MLSMessage. */
export const WireFormat = {
  PublicMessage: 1,
  PrivateMessage: 2,
  Welcome: 3,
  GroupInfo: 4,
  KeyPackage: 5,
} as const;

/** ContentType of framed content. */
export const ContentType = { Application: 1, Proposal: 2, Commit: 3 } as const;

/** Sender types of a PublicMessage. */
const SenderType = { Member: 1, External: 2, NewMemberProposal: 3, NewMemberCommit: 4 } as const;

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new MlsFramingError(`truncated ${what}`);
  }

  u8(what: string): number {
    const b = this.buf[this.pos];
    if (b === undefined) throw new MlsFramingError(`truncated ${what}`);
    this.pos += 1;
    return b;
  }

  u16(what: string): number {
    const hi = this.buf[this.pos];
    const lo = this.buf[this.pos + 1];
    if (hi === undefined || lo === undefined) throw new MlsFramingError(`truncated ${what}`);
    this.pos += 2;
    return (hi << 8) | lo;
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }

  /**
   * A variable-length vector `opaque x<V>`: its length is a QUIC-style
   * variable-length integer (RFC 9000 section 16, as restricted by RFC 9420
   * section 2.1.2): the top two bits of the first byte give the size of the
   * length field (00: 1 byte, 01: 2 bytes, 10: 4 bytes; 11 is invalid in MLS).
   */
  vector(what: string): Uint8Array {
    const first = this.u8(`${what} length`);
    const prefix = first >> 6;
    let len = first & 0x3f;
    if (prefix === 3) throw new MlsFramingError(`invalid length prefix of ${what}`);
    const extra = prefix === 0 ? 0 : prefix === 1 ? 1 : 3;
    for (let i = 0; i < extra; i++) len = len * 256 + this.u8(`${what} length`);
    this.need(len, what);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

export interface GroupMessageFraming {
  wireFormat: number;
  groupId: Uint8Array;
  epoch: bigint;
  contentType: number;
  isCommit: boolean;
}

/**
 * Parses the cleartext header of a group message (an MLSMessage carrying a
 * PublicMessage or a PrivateMessage): version (u16), wire format (u16), then
 * the group id as a variable-length vector, the epoch (u64), and the content
 * type (for a PublicMessage after the sender and the authenticated data).
 */
export function parseGroupMessage(data: Uint8Array): GroupMessageFraming {
  const r = new Reader(data);
  const version = r.u16("protocol version");
  if (version !== MLS_VERSION_10) throw new MlsFramingError(`unsupported MLS protocol version ${version}`);
  const wireFormat = r.u16("wire format");
  if (wireFormat !== WireFormat.PublicMessage && wireFormat !== WireFormat.PrivateMessage) {
    throw new MlsFramingError(`wire format ${wireFormat} is not a group message (public or private message)`);
  }
  const groupId = r.vector("group id");
  if (groupId.length === 0) throw new MlsFramingError("empty group id");
  const epochHigh = r.u16("epoch") * 65536 + r.u16("epoch");
  const epochLow = r.u16("epoch") * 65536 + r.u16("epoch");
  const epoch = (BigInt(epochHigh) << 32n) | BigInt(epochLow);
  if (wireFormat === WireFormat.PublicMessage) {
    const senderType = r.u8("sender type");
    switch (senderType) {
      case SenderType.Member:
      case SenderType.External:
        r.skip(4, "sender index");
        break;
      case SenderType.NewMemberProposal:
      case SenderType.NewMemberCommit:
        break;
      default:
        throw new MlsFramingError(`unknown sender type ${senderType}`);
    }
    r.vector("authenticated data");
  }
  const contentType = r.u8("content type");
  if (contentType < ContentType.Application || contentType > ContentType.Commit) {
    throw new MlsFramingError(`unknown content type ${contentType}`);
  }
  return { wireFormat, groupId, epoch, contentType, isCommit: contentType === ContentType.Commit };
}

/**
 * The installation key of a TLS-serialized KeyPackage: the signature key of
 * its leaf node (XMTP's installation public key). Layout: version (u16),
 * cipher suite (u16), init_key<V>, then the LeafNode: encryption_key<V>,
 * signature_key<V>, ...
 */
export function keyPackageInstallationKey(keyPackage: Uint8Array): Uint8Array {
  const r = new Reader(keyPackage);
  const version = r.u16("protocol version");
  if (version !== MLS_VERSION_10) throw new MlsFramingError(`unsupported MLS protocol version ${version}`);
  r.u16("cipher suite");
  r.vector("init key");
  r.vector("encryption key");
  const signatureKey = r.vector("signature key");
  if (signatureKey.length === 0) throw new MlsFramingError("empty signature key");
  return signatureKey;
}
