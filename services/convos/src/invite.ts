import { createHash } from "node:crypto";
import { inflateSync } from "node:zlib";
import { fromBinary } from "@bufbuild/protobuf";
import { recoverAddress, toHex, type Hex } from "viem";
import {
  InvitePayloadSchema,
  SignedInviteSchema,
  type InvitePayload,
} from "@convos-pool/gen/convos/app/v1/invite_pb.js";
import { invalidArgument, permissionDenied } from "@convos-pool/kit/content";
import type { InboxResolver } from "@convos-pool/kit/signing";

/**
 * A Convos invite, read from the link or slug that Convos clients (the app,
 * `convos conversation invite`, `convos agent serve`) hand out:
 *
 *   https://<host>/v2?i=<slug>   or the slug alone
 *   slug = base64url(SignedInvite), possibly compressed (first byte 0x1f, a
 *          u32 size, then zlib), with "*" inserted every 300 characters
 *
 * The payload names the creator's inbox and the conversation's tag and is
 * signed by the creator's wallet; the conversation id inside is encrypted for
 * the creator alone. A joiner checks the signature and asks the creator to
 * add it (see join.ts).
 */
export interface Invite {
  /** The slug as the creator expects it back in a join request (separators removed). */
  slug: string;
  payload: InvitePayload;
  /** The creator's XMTP inbox ID, hex. */
  creatorInboxId: string;
  /** The wallet that signed the invite. */
  signer: Hex;
  expiresAt?: Date | undefined;
  conversationExpiresAt?: Date | undefined;
}

const COMPRESSED = 0x1f;
/** Invites are a few hundred bytes; refuse to inflate anything much larger. */
const MAX_INVITE_BYTES = 64 * 1024;

/** The slug of an invite link, or the input itself when it is a slug. */
/** What is wrong with an invite, in words for the person who pasted it. */
class InviteFormatError extends Error {}

export function inviteSlug(input: string): string {
  const text = input.trim();
  if (/^https?:\/\//i.test(text)) {
    const slug = new URL(text).searchParams.get("i");
    if (!slug) throw new InviteFormatError('an invite link carries its slug in the "i" parameter');
    return slug.replace(/\*/g, "");
  }
  return text.replace(/\*/g, "");
}

function unpack(slug: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(slug)) throw new InviteFormatError("not base64url");
  const bytes = Buffer.from(slug, "base64url");
  if (bytes[0] !== COMPRESSED) return bytes;
  if (bytes.length < 5) throw new InviteFormatError("truncated");
  const size = bytes.readUInt32BE(1);
  if (size > MAX_INVITE_BYTES) throw new InviteFormatError("too large");
  return inflateSync(bytes.subarray(5), { maxOutputLength: MAX_INVITE_BYTES });
}

const unix = (v: bigint | undefined) => (v === undefined || v === 0n ? undefined : new Date(Number(v) * 1000));

/**
 * Reads an invite link or slug and recovers who signed it. Throws
 * INVALID_ARGUMENT naming `field` when it is not a Convos invite.
 */
export async function parseInvite(input: string, field = "conversation_invite"): Promise<Invite> {
  let slug: string;
  let payload: InvitePayload;
  let signer: Hex;
  try {
    slug = inviteSlug(input);
    const signed = fromBinary(SignedInviteSchema, unpack(slug));
    if (signed.signature.length !== 65) throw new InviteFormatError("signature is not 65 bytes");
    payload = fromBinary(InvitePayloadSchema, signed.payload);
    if (payload.creatorInboxId.length !== 32 || payload.conversationToken.length === 0 || !payload.tag) {
      throw new InviteFormatError("payload lacks its creator, token or tag");
    }
    const hash = toHex(createHash("sha256").update(signed.payload).digest());
    signer = await recoverAddress({ hash, signature: toHex(signed.signature) });
  } catch (err) {
    // Our own reasons are said as they are; a decoder's ("illegal tag: field no 192675") means the bytes are not an invite.
    const reason = err instanceof InviteFormatError ? err.message : "its contents are not an invite";
    throw invalidArgument(field, `not a Convos invite link or slug (${reason})`);
  }
  return {
    slug,
    payload,
    creatorInboxId: Buffer.from(payload.creatorInboxId).toString("hex"),
    signer,
    expiresAt: unix(payload.expiresAtUnix),
    conversationExpiresAt: unix(payload.conversationExpiresAtUnix),
  };
}

/**
 * Checks what a joiner can check: the invite is signed by a wallet of the
 * creator's inbox (as the XMTP network says, through `resolver`) and has not
 * expired. Whether it still opens the conversation only the creator can say.
 */
export async function verifyInvite(
  invite: Invite,
  resolver: InboxResolver,
  now = new Date(),
  field = "conversation_invite",
): Promise<void> {
  for (const at of [invite.expiresAt, invite.conversationExpiresAt]) {
    if (at && at <= now) throw invalidArgument(field, `the invite expired at ${at.toISOString()}`);
  }
  if (!(await resolver.addressBelongsToInbox(invite.signer, invite.creatorInboxId))) {
    throw permissionDenied(`${field}: not signed by a wallet of its creator's inbox ${invite.creatorInboxId}`);
  }
}
