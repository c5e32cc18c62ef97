/**
 * TEST FIXTURE. A Convos invite link as a creator's app makes one: the
 * payload (a fresh conversation token, the creator's inbox, the tag, the
 * name, an expiry when given), signed with `privateKey` (a throwaway key
 * unless given: a test whose reader does not check the creator's signature).
 */
import { createHash, randomBytes } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { toHex, type Hex } from "viem";
import { generatePrivateKey, sign } from "viem/accounts";
import { InvitePayloadSchema, SignedInviteSchema } from "@convos-pool/gen/convos/app/v1/invite_pb.js";

export interface InviteOf {
  /** The creator's inbox id, hex. */
  creatorInboxId: string;
  tag: string;
  name: string;
  expiresAt?: Date | undefined;
  privateKey?: Hex | undefined;
}

export async function inviteUrl(i: InviteOf): Promise<string> {
  const payload = toBinary(
    InvitePayloadSchema,
    create(InvitePayloadSchema, {
      conversationToken: randomBytes(40),
      creatorInboxId: Buffer.from(i.creatorInboxId, "hex"),
      tag: i.tag,
      name: i.name,
      ...(i.expiresAt ? { expiresAtUnix: BigInt(Math.floor(i.expiresAt.getTime() / 1000)) } : {}),
    }),
  );
  const sig = await sign({
    hash: toHex(createHash("sha256").update(payload).digest()),
    privateKey: i.privateKey ?? generatePrivateKey(),
  });
  const signature = Buffer.concat([
    Buffer.from(sig.r.slice(2), "hex"),
    Buffer.from(sig.s.slice(2), "hex"),
    Buffer.from([sig.yParity ?? 0]),
  ]);
  const slug = Buffer.from(toBinary(SignedInviteSchema, create(SignedInviteSchema, { payload, signature })));
  return `https://dev.convos.org/v2?i=${slug.toString("base64url")}`;
}
