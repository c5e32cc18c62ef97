// The pool's sign-in inbox: a real XMTP client of the pool that people send
// sign-in codes to from their Convos app (docs/signatures.md, "Sign in with
// Convos"). Who sent a code is the message's sender inbox, which the MLS
// conversation authenticates; the text only names the code. The code comes
// as a text (typed) or as the invite link or slug the page shows, which the
// Convos app sends back when it opens it (a join request and, for older
// apps, the slug as a text). The join request's profile gives the name the
// page then calls the person by: their own word, shown beside their inbox.
// The client's key never leaves this file.
import { createHash, randomBytes } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import type { ClientOptions, DecodedMessage } from "@xmtp/node-sdk";
import { toHex } from "viem";
import { privateKeyToAccount, sign } from "viem/accounts";
import { InvitePayloadSchema, SignedInviteSchema } from "@convos-pool/gen/convos/app/v1/invite_pb.js";
import { createXmtpClient, parseInvite, saidOf } from "@convos-pool/convos";
import type { Logger, RateLimit } from "@convos-pool/kit/server";
import type { EntityManager } from "@mikro-orm/postgresql";
import { onArrival, readCode, readJoinRequest, replyTo } from "./policy.js";
import { claimSignIn, nameSignIn, readSignIn } from "./sql.js";

/** Where Convos invite links point (the app opens them; the slug is what counts). */
export const INVITE_BASE = "https://popup.convos.org/v2?i=";

export interface SignInInboxOptions {
  /** The local or public XMTP node. */
  apiUrl: string;
  /** The sign-in inbox's wallet key (POOL_SIGN_IN_KEY), 0x and 64 hex digits. */
  privateKey: `0x${string}`;
  /** 32 bytes encrypting its database; with dbPath null (in memory) any will do. */
  dbEncryptionKey: Uint8Array;
  dbPath: string | null;
  em: EntityManager;
  /** Codes an inbox may send (docs/limits.md, sign-ins per inbox): guessing is slowed per sender. */
  perSender: RateLimit;
  log: Logger;
  now?: () => Date;
}

/** What the sign-in service needs of the inbox. */
export interface SignInInbox {
  inboxId: string;
  /** A Convos invite link of this inbox whose tag is `code`, named for the site that asked and expiring with the code. */
  inviteFor(code: string, origin: string, expiresAt: Date): Promise<string>;
  close(): Promise<void>;
}

/** convos.org/join_request:1.0, JSON: read (never sent) for its slug and the profile it gives. */
const JOIN_REQUEST_CODEC: NonNullable<ClientOptions["codecs"]>[number] = {
  contentType: { authorityId: "convos.org", typeId: "join_request", versionMajor: 1, versionMinor: 0 },
  encode: (): never => {
    throw new Error("the sign-in inbox sends no join requests");
  },
  decode: (encoded: { content: Uint8Array }): unknown => {
    try {
      return JSON.parse(new TextDecoder().decode(encoded.content));
    } catch {
      return undefined;
    }
  },
  fallback: () => undefined,
  shouldPush: () => false,
};

export async function startSignInInbox(opts: SignInInboxOptions): Promise<SignInInbox> {
  const account = privateKeyToAccount(opts.privateKey);
  const now = opts.now ?? (() => new Date());
  const client = await createXmtpClient(account, {
    apiUrl: opts.apiUrl,
    dbPath: opts.dbPath,
    dbEncryptionKey: opts.dbEncryptionKey,
    codecs: [JOIN_REQUEST_CODEC],
  });
  const inboxId = client.inboxId;

  /** The code a text names: one typed, or the tag of an invite this inbox signed. */
  async function codeIn(text: string): Promise<string | undefined> {
    const typed = readCode(text);
    if (typed) return typed;
    if (text.length > 4096) return undefined;
    try {
      const invite = await parseInvite(text);
      const ours = invite.creatorInboxId === inboxId && invite.signer.toLowerCase() === account.address.toLowerCase();
      return ours ? readCode(invite.payload.tag) : undefined;
    } catch {
      return undefined;
    }
  }

  /** What a message brings: a text's words, or a join request's slug and the name of its profile. */
  function broughtBy(m: DecodedMessage<unknown>): { text: string; name: string } | undefined {
    if (m.contentType?.authorityId === "convos.org" && m.contentType.typeId === "join_request")
      return readJoinRequest(m.content);
    const said = saidOf(m);
    return said && { text: said.text, name: "" };
  }

  async function handle(m: DecodedMessage<unknown>): Promise<void> {
    if (m.senderInboxId === inboxId) return;
    const brought = broughtBy(m);
    if (!brought) return;
    const code = await codeIn(brought.text.trim());
    if (!code) return;
    const sender = m.senderInboxId;
    const { name } = brought;
    const before = await readSignIn(opts.em, code);
    // Its own sender again (the app's join request and its slug as a text): nothing to claim, nor to count; a name kept.
    if (before && before.senderInboxId === sender) {
      if (name) await nameSignIn(opts.em, code, sender, name);
      return;
    }
    try {
      await opts.perSender.take(sender, "this inbox");
    } catch {
      // Over its allowance: no answer, so that guessing costs the guesser and not the pool.
      opts.log.info("sign-in code refused: too many from one inbox", { sender });
      return;
    }
    const at = now();
    let arrival = onArrival(before, sender, at);
    if (arrival.kind === "claim" && !(await claimSignIn(opts.em, code, sender, name, at))) {
      // Another inbox (or replica) was first, or it expired meanwhile: decide again on what is stored.
      arrival = onArrival(await readSignIn(opts.em, code), sender, at);
      if (arrival.kind === "claim") arrival = { kind: "expired" };
    }
    opts.log.info("sign-in code arrived", { sender, outcome: arrival.kind });
    const reply = replyTo(arrival, code);
    if (!reply) return;
    const dm = await client.conversations.getConversationById(m.conversationId);
    await dm?.sendText(reply);
  }

  const stream = await client.conversations.streamAllDmMessages({
    // Unknown: a first message from someone the pool has never talked to, which is every sign-in.
    consentStates: [0, 1],
    retryAttempts: Number.MAX_SAFE_INTEGER,
    retryDelay: 2_000,
    onError: (err) => opts.log.warn("sign-in inbox stream error", { err: String(err) }),
  });
  const done = (async () => {
    for await (const m of stream) {
      if (!m) continue;
      await handle(m).catch((err: unknown) => opts.log.warn("a sign-in message failed", { err: String(err) }));
    }
  })().catch((err: unknown) => opts.log.warn("sign-in inbox stream ended", { err: String(err) }));
  opts.log.info("sign-in inbox listening", { inboxId });

  return {
    inboxId,
    async inviteFor(code, origin, expiresAt) {
      const payload = toBinary(
        InvitePayloadSchema,
        create(InvitePayloadSchema, {
          // The pool never adds anyone to a conversation: the token only has to be there.
          conversationToken: randomBytes(32),
          creatorInboxId: Buffer.from(inboxId, "hex"),
          tag: code,
          name: `Sign in to ${origin}`,
          expiresAtUnix: BigInt(Math.floor(expiresAt.getTime() / 1000)),
          expiresAfterUse: true,
        }),
      );
      const sig = await sign({
        hash: toHex(createHash("sha256").update(payload).digest()),
        privateKey: opts.privateKey,
      });
      const signature = Buffer.concat([
        Buffer.from(sig.r.slice(2), "hex"),
        Buffer.from(sig.s.slice(2), "hex"),
        Buffer.from([sig.yParity ?? 0]),
      ]);
      const slug = Buffer.from(
        toBinary(SignedInviteSchema, create(SignedInviteSchema, { payload, signature })),
      ).toString("base64url");
      return `${INVITE_BASE}${slug}`;
    },
    async close() {
      await stream.end();
      await done;
      await client.close();
    },
  };
}
