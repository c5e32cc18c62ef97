// A person in a Convos conversation, as the Convos apps are one: what the
// `person` tool of `npm start` (services/dev/src/person) and the tests'
// Person fixture share, so that there is one way to be a person. A person
// joins without Convos' agent kind (in the join request and in the profile
// update that follows), reacts as the apps do (the reacted-to message's
// sender named), and reads texts and replies. The Convos CLI cannot stand in:
// it marks itself an agent whenever it joins or serves (docs/testing.md,
// "People").
import { randomBytes } from "node:crypto";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  encodeText,
  type Client,
  type Reaction,
  type ReactionAction,
  type ReactionSchema,
  type Reply,
} from "@xmtp/node-sdk";
import { createXmtpClient } from "./client.js";
import { connectionCodecs } from "./connections.js";
import { joinConversation, type JoinedGroup, type JoiningClient, type Joined } from "./join.js";
import type { InboxResolver } from "@convos-pool/kit/signing";
import { statementCodec } from "@convos-pool/kit/content";

export interface PersonKey {
  /** The person's wallet key (0x and 64 hex digits): their inbox. */
  privateKey: `0x${string}`;
  /** 32 bytes that encrypt their client's database, as 64 hex digits. */
  dbEncryptionKey: string;
}

/** A new person's keys. */
export function newPersonKey(): PersonKey {
  return {
    privateKey: generatePrivateKey(),
    dbEncryptionKey: randomBytes(32).toString("hex"),
  };
}

/**
 * The person's XMTP client on the node at `apiUrl`; `dbPath` null keeps its
 * database in memory. It reads ConvosConnections as the apps do: what is
 * asked of the person's phone, and what phones answer; and the pool's
 * statement of what an agent may do (docs/statement.md).
 */
export function personClient(
  key: PersonKey,
  opts: { apiUrl: string; dbPath: string | null },
): Promise<Client<unknown>> {
  return createXmtpClient(privateKeyToAccount(key.privateKey), {
    apiUrl: opts.apiUrl,
    dbPath: opts.dbPath,
    dbEncryptionKey: Buffer.from(key.dbEncryptionKey, "hex"),
    codecs: [...connectionCodecs(), statementCodec],
  });
}

export interface JoinAsPersonOptions {
  resolver: InboxResolver;
  /** The name the person shows. */
  name: string;
  /** How long to wait for the creator to accept; default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Joins as the Convos apps do: a join request with the person's name and no
 * member kind, accepted by the conversation's creator, then a profile update
 * with the name and no member kind (joinConversation with `agent: false`).
 */
export function joinAsPerson<G extends JoinedGroup>(
  client: JoiningClient<G>,
  invite: string,
  opts: JoinAsPersonOptions,
): Promise<Joined<G>> {
  return joinConversation(client, invite, {
    resolver: opts.resolver,
    profileName: opts.name,
    agent: false,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** XMTP's reaction as the apps send it: a Unicode emoji on a message, naming its sender; `remove` takes it back. */
export function personReaction(reference: string, referenceInboxId: string, emoji: string, remove = false): Reaction {
  // ReactionAction and ReactionSchema are const enums of the bindings, which isolated modules cannot read as values.
  const added: ReactionAction.Added = 1;
  const removed: ReactionAction.Removed = 2;
  const unicode: ReactionSchema.Unicode = 1;
  return { reference, referenceInboxId, action: remove ? removed : added, content: emoji, schema: unicode };
}

/** XMTP's reply as the apps send one: a text on a message, naming its sender when known. */
export function personReply(reference: string, text: string, referenceInboxId?: string): Reply {
  return { reference, ...(referenceInboxId ? { referenceInboxId } : {}), content: encodeText(text) };
}

/** A message: its id, and when (XMTP's nanoseconds), to read what came after it. */
export interface Sent {
  id: string;
  sentAtNs: bigint;
}

/** A text someone said: a reply's own text, with the message it replies to. */
export interface Said extends Sent {
  senderInboxId: string;
  text: string;
  replyTo?: string;
}

/** What saidOf reads of a decoded message (`@xmtp/node-sdk`'s DecodedMessage fits). */
export interface ReadMessage {
  id: string;
  sentAtNs: bigint;
  senderInboxId: string;
  contentType?: { typeId: string };
  content: unknown;
}

/** A text, markdown or a text reply as said; undefined for anything else. */
export function saidOf(m: ReadMessage): Said | undefined {
  const type = m.contentType?.typeId;
  const base = { id: m.id, sentAtNs: m.sentAtNs, senderInboxId: m.senderInboxId };
  if ((type === "text" || type === "markdown") && typeof m.content === "string") return { ...base, text: m.content };
  const reply = m.content as { content?: unknown; referenceId?: string } | undefined;
  if (type === "reply" && typeof reply?.content === "string")
    return { ...base, text: reply.content, ...(reply.referenceId ? { replyTo: reply.referenceId } : {}) };
  return undefined;
}
