import { createHash, randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { generatePrivateKey, privateKeyToAccount, sign } from "viem/accounts";
import { toHex } from "viem";
import { describe, expect, it } from "vitest";
import { InvitePayloadSchema, SignedInviteSchema } from "@convos-pool/gen/convos/app/v1/invite_pb.js";
import { DerivedInboxResolver, deriveInboxId } from "@convos-pool/kit/signing";
import { parseInvite, verifyInvite } from "./invite.js";

/** Writes an invite the way Convos clients do (the creator's side, for tests). */
async function makeInvite(
  creatorInboxId: string,
  privateKey: `0x${string}`,
  opts: { compress?: boolean; expiresAtUnix?: bigint } = {},
): Promise<string> {
  const payload = toBinary(
    InvitePayloadSchema,
    create(InvitePayloadSchema, {
      conversationToken: randomBytes(40),
      creatorInboxId: Buffer.from(creatorInboxId, "hex"),
      tag: "t4g",
      name: "Trip to Tokyo",
      expiresAtUnix: opts.expiresAtUnix,
    }),
  );
  const sig = await sign({ hash: toHex(createHash("sha256").update(payload).digest()), privateKey });
  const signature = Buffer.concat([
    Buffer.from(sig.r.slice(2), "hex"),
    Buffer.from(sig.s.slice(2), "hex"),
    Buffer.from([sig.yParity ?? 0]),
  ]);
  let bytes: Buffer = Buffer.from(toBinary(SignedInviteSchema, create(SignedInviteSchema, { payload, signature })));
  if (opts.compress) {
    const size = Buffer.alloc(4);
    size.writeUInt32BE(bytes.length);
    bytes = Buffer.concat([Buffer.from([0x1f]), size, deflateSync(bytes)]);
  }
  return (bytes.toString("base64url").match(/.{1,300}/g) ?? []).join("*");
}

const code = (err: unknown) => (err instanceof ConnectError ? Code[err.code] : String(err));

describe("Convos invites", () => {
  const key = generatePrivateKey();
  const account = privateKeyToAccount(key);
  const inboxId = deriveInboxId(account.address);
  const resolver = new DerivedInboxResolver();

  it("reads slugs and links, compressed or not, and recovers the creator's wallet", async () => {
    for (const compress of [false, true]) {
      const slug = await makeInvite(inboxId, key, { compress });
      for (const input of [slug, `https://dev.convos.org/v2?i=${encodeURIComponent(slug)}`]) {
        const invite = await parseInvite(input);
        expect(invite.creatorInboxId).toBe(inboxId);
        expect(invite.signer).toBe(account.address);
        expect(invite.payload.tag).toBe("t4g");
        expect(invite.slug).not.toContain("*");
        await verifyInvite(invite, resolver);
      }
    }
  });

  it("refuses what is not an invite, naming the field", async () => {
    for (const bad of [
      "",
      "hello world",
      "AAAA",
      "https://dev.convos.org/v2",
      Buffer.from([0x1f, 0, 0, 0, 9, 1, 2]).toString("base64url"),
    ]) {
      const err = await parseInvite(bad).catch((e: unknown) => e);
      expect(code(err)).toBe("InvalidArgument");
      expect((err as ConnectError).message).toContain("conversation_invite");
    }
    // Bytes that decode as no invite: said in words, not in the decoder's.
    const noise = await parseInvite(Buffer.from("not an invite at all, but base64url").toString("base64url")).catch(
      (e: unknown) => e,
    );
    expect((noise as ConnectError).rawMessage).toBe(
      "conversation_invite: not a Convos invite link or slug (its contents are not an invite)",
    );
    const spaced = await parseInvite("not an invite").catch((e: unknown) => e);
    expect((spaced as ConnectError).rawMessage).toBe(
      "conversation_invite: not a Convos invite link or slug (not base64url)",
    );
  });

  it("refuses an invite signed by someone else, or expired", async () => {
    const stranger = generatePrivateKey();
    const forged = await parseInvite(await makeInvite(inboxId, stranger));
    expect(code(await verifyInvite(forged, resolver).catch((e: unknown) => e))).toBe("PermissionDenied");
    const old = await parseInvite(
      await makeInvite(inboxId, key, { expiresAtUnix: BigInt(Math.floor(Date.now() / 1000) - 60) }),
    );
    expect(code(await verifyInvite(old, resolver).catch((e: unknown) => e))).toBe("InvalidArgument");
  });
});
