// The instance's XMTP client: `createXmtpClient` of @convos-pool/convos (its
// options: the node, an encrypted database on disk, device sync off), plus
// codecs for the Convos profile messages. The codecs are why this is not a
// plain call to createXmtpClient (which takes no codecs): without them the SDK
// decodes `convos.org/profile_update` as nothing, and an instance could not
// tell which members are agents. It must, or two agents in one conversation
// answer each other forever. Also here: the encodings of what the agent
// sends besides text (markdown, Convos' thinking status and typing
// indicator, an approval question's buttons), and how a reply or markdown is
// read as text, and a tap on a button as what it names.

import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  encodeActions,
  encodeMarkdown,
  encodeText,
  encodeTransactionReference,
  type ActionStyle,
  type Actions,
  type Client,
  type ClientOptions,
  type EnrichedReply,
  type Intent,
  type Reaction,
  type ReactionAction,
  type TransactionReference,
} from "@xmtp/node-sdk";
import type { LocalAccount } from "viem/accounts";
import { connectionCodecs, createXmtpClient, type XmtpClientOptions } from "@convos-pool/convos";
import { statementCodec } from "@convos-pool/kit/content";
import {
  MemberKind,
  ProfileSnapshotSchema,
  ProfileUpdateSchema,
  type ProfileSnapshot,
  type ProfileUpdate,
} from "@convos-pool/gen/convos/app/v1/profile_pb.js";
import { CloneSummarySchema, type CloneSummary } from "@convos-pool/gen/convos/pool/v1/clone_summary_pb.js";

type Codec = NonNullable<ClientOptions["codecs"]>[number];

export type AgentClient = Client<unknown>;
export type AgentGroup = ReturnType<AgentClient["conversations"]["listGroups"]>[number];
export type AgentMessage = Awaited<ReturnType<AgentGroup["messages"]>>[number];
/** What a group sends: a content type, its parameters, its bytes, and the text a client without the type shows. */
export type Encoded = Parameters<AgentGroup["send"]>[0];

function protoCodec<T>(typeId: string, decode: (bytes: Uint8Array) => T, encode: (value: T) => Uint8Array): Codec {
  const contentType = { authorityId: "convos.org", typeId, versionMajor: 1, versionMinor: 0 };
  return {
    contentType,
    encode: (value: unknown) => ({ type: contentType, parameters: {}, content: encode(value as T) }),
    decode: (encoded: { content: Uint8Array }) => decode(encoded.content),
    fallback: () => undefined,
    shouldPush: () => false,
  };
}

/** A content type of Convos whose payload is JSON (join requests, thinking, typing indicators): decoded so the SDK does not warn about it. */
function jsonCodec(typeId: string): Codec {
  const contentType = { authorityId: "convos.org", typeId, versionMajor: 1, versionMinor: 0 };
  return {
    contentType,
    encode: (value: unknown) => encodeJson(contentType, value),
    decode: (encoded: { content: Uint8Array }) => {
      try {
        return JSON.parse(new TextDecoder().decode(encoded.content)) as unknown;
      } catch {
        return undefined;
      }
    },
    fallback: () => undefined,
    shouldPush: () => false,
  };
}

function encodeJson(type: NonNullable<Encoded["type"]>, value: unknown): Encoded {
  return { type, parameters: {}, content: new TextEncoder().encode(JSON.stringify(value)) };
}

/** convos.org/thinking:1.0: the agent's "thinking about this message" status (docs/instance.md, "Manners"). */
export const THINKING_TYPE = { authorityId: "convos.org", typeId: "thinking", versionMajor: 1, versionMinor: 0 };
/** convos.org/typing_indicator:1.0, as Convos' apps send it. */
export const TYPING_TYPE = { authorityId: "convos.org", typeId: "typing_indicator", versionMajor: 1, versionMinor: 0 };

/** Convos' thinking status: `start` anchored to a message, `stop` naming the reply that closed it, if one did. */
export interface Thinking {
  state: "start" | "stop";
  targetMessageId: string;
  content: string;
  resultMessageId?: string;
}

export const encodeThinking = (t: Thinking): Encoded => encodeJson(THINKING_TYPE, t);
export const encodeTyping = (isTyping: boolean): Encoded => encodeJson(TYPING_TYPE, { isTyping });

/**
 * An answer's content: plain text, or markdown whose fallback is its own
 * source, so that a client without the markdown type shows the text as
 * written rather than nothing.
 */
export function encodeAnswer(text: string, markdown: boolean): Encoded {
  return markdown ? { ...encodeMarkdown(text), fallback: text } : encodeText(text);
}

/** XMTP's transaction reference, with a fallback of our own words instead of the SDK's. */
export function encodeTransaction(reference: TransactionReference, fallback: string): Encoded {
  return { ...encodeTransactionReference(reference), fallback };
}

export const CLONE_SUMMARY_TYPE = {
  authorityId: "convos-pool.org",
  typeId: "clone_summary",
  versionMajor: 1,
  versionMinor: 0,
} as const;

/** The summary message's limit: its protobuf encoding. */
export const MAX_SUMMARY_BYTES = 32 * 1024;

/** The project's own content type: protobuf CloneSummary; never shown, never pushed. */
export const cloneSummaryCodec = {
  contentType: CLONE_SUMMARY_TYPE,
  encode: (value: unknown) => ({
    type: CLONE_SUMMARY_TYPE,
    parameters: {},
    content: toBinary(CloneSummarySchema, value as CloneSummary),
  }),
  decode: (encoded: { content: Uint8Array }) => {
    if (encoded.content.byteLength > MAX_SUMMARY_BYTES) return undefined;
    try {
      return fromBinary(CloneSummarySchema, encoded.content);
    } catch {
      return undefined;
    }
  },
  fallback: () => undefined,
  shouldPush: () => false,
} as unknown as Codec;

export function isCloneSummary(m: {
  contentType?: { authorityId: string; typeId: string } | undefined;
  content: unknown;
}): boolean {
  return (
    m.contentType?.authorityId === CLONE_SUMMARY_TYPE.authorityId &&
    m.contentType.typeId === CLONE_SUMMARY_TYPE.typeId &&
    m.content !== undefined
  );
}

export const CONVOS_CODECS: Codec[] = [
  protoCodec<ProfileUpdate>(
    "profile_update",
    (b) => fromBinary(ProfileUpdateSchema, b),
    (v) => toBinary(ProfileUpdateSchema, v),
  ),
  protoCodec<ProfileSnapshot>(
    "profile_snapshot",
    (b) => fromBinary(ProfileSnapshotSchema, b),
    (v) => toBinary(ProfileSnapshotSchema, v),
  ),
  jsonCodec("join_request"),
  jsonCodec(THINKING_TYPE.typeId),
  jsonCodec(TYPING_TYPE.typeId),
  // The pool's own: a parent's summary for its clone (clone/summary.ts), and the statement of what an agent may do (docs/statement.md).
  cloneSummaryCodec,
  statementCodec,
  // ConvosConnections: what people's phones share, and what the agent asks of them (connections/).
  ...connectionCodecs(),
];

/**
 * An agent's XMTP client: createXmtpClient with the Convos codecs, to tell
 * agents from people, and one database connection: a host runs a thousand
 * of these, and libxmtp's pool would hold each one's 5 to 25 connections
 * (11 file descriptors with their WAL and shared-memory files) and 3 threads
 * for an agent that handles one conversation a turn at a time
 * (docs/instance.md, "Live agents per host").
 */
export async function createAgentClient(account: LocalAccount, opts: XmtpClientOptions): Promise<AgentClient> {
  return createXmtpClient(account, { ...opts, codecs: CONVOS_CODECS, singleDbConnection: true });
}

export interface MemberProfileInfo {
  inboxId: string;
  name?: string;
  agent: boolean;
  /** Said of them by the conversation's creator in a profile_snapshot, not by themselves: it fills only what they never said (people.ts). */
  vouched?: true;
}

/**
 * The profiles a message announces: its sender's own (a profile_update, or
 * the sender's entry of a profile_snapshot), and, when the conversation's
 * creator (`creator`) sent the snapshot, everyone else's in it as vouched.
 * The creator's app sends one as it lets a member in, so that the newcomer
 * knows who is who; the Convos apps fill a member's profile from it until
 * the member sends their own, and so does the agent (people.ts). Anyone
 * else's entries for other inboxes are not taken: a member's word about
 * someone else's name or kind would rename the owner or mark a person an
 * agent (docs/trust.md, "Profiles and names"). `agent`: the profile
 * declares the agent kind; one without it declares a person.
 */
export function profilesIn(message: AgentMessage, creator?: string): MemberProfileInfo[] {
  const t = message.contentType;
  if (t?.authorityId !== "convos.org" || !message.content) return [];
  const sender = message.senderInboxId.toLowerCase();
  if (t.typeId === "profile_update") {
    const u = message.content as ProfileUpdate;
    return [
      { inboxId: message.senderInboxId, ...(u.name ? { name: u.name } : {}), agent: u.memberKind === MemberKind.AGENT },
    ];
  }
  if (t.typeId !== "profile_snapshot") return [];
  const byCreator = creator !== undefined && sender === creator.toLowerCase();
  const profiles: MemberProfileInfo[] = [];
  const seen = new Set<string>();
  for (const p of (message.content as ProfileSnapshot).profiles) {
    const inboxId = Buffer.from(p.inboxId).toString("hex");
    const own = inboxId === sender;
    // An inbox given twice counts once, by its first entry.
    if ((!own && !byCreator) || seen.has(inboxId)) continue;
    seen.add(inboxId);
    profiles.push({
      inboxId: own ? message.senderInboxId : inboxId,
      ...(p.name ? { name: p.name } : {}),
      agent: p.memberKind === MemberKind.AGENT,
      ...(own ? {} : { vouched: true as const }),
    });
  }
  return profiles;
}

/**
 * Whether `message` says someone other than `self` joined its group: a
 * member who joined after the agent never saw the agent's own profile, and
 * only its own profile, or its creator's snapshot, names it (profilesIn), so
 * the agent says it again.
 */
export function othersJoined(message: AgentMessage, self: string): boolean {
  if (message.contentType?.typeId !== "group_updated" || !message.content) return false;
  const added = (message.content as { addedInboxes?: readonly { inboxId: string }[] }).addedInboxes ?? [];
  return added.some((i) => i.inboxId !== self);
}

export function isText(message: AgentMessage): message is AgentMessage & { content: string } {
  return (
    message.contentType?.authorityId === "xmtp.org" &&
    message.contentType.typeId === "text" &&
    typeof message.content === "string"
  );
}

function isMarkdown(message: AgentMessage): message is AgentMessage & { content: string } {
  return (
    message.contentType?.authorityId === "xmtp.org" &&
    message.contentType.typeId === "markdown" &&
    typeof message.content === "string"
  );
}

/**
 * ContentType.Text, Markdown and Reply (a const enum of the bindings): what
 * people and agents say, for reading a conversation back without its
 * receipts, thinking statuses and typing indicators taking the places of texts.
 */
export const SAID_TYPES = [13, 7, 12] as never[];

/** A text message, or a text reply or markdown read as one (`replyTo`: the message it answers, sent by `replyToSender`). */
export type TextMessage = AgentMessage & { content: string; replyTo?: string; replyToSender?: string };

/** A reply whose content is text or markdown (the SDK decodes both to a string). */
function isTextReply(message: AgentMessage): message is AgentMessage & { content: EnrichedReply<string> } {
  const t = message.contentType;
  return (
    t?.authorityId === "xmtp.org" &&
    t.typeId === "reply" &&
    typeof (message.content as EnrichedReply | undefined)?.content === "string"
  );
}

/** What a text, markdown or text reply says; undefined for anything else. */
export function readableText(message: AgentMessage): string | undefined {
  if (isText(message) || isMarkdown(message)) return message.content;
  return isTextReply(message) ? message.content.content : undefined;
}

/**
 * A text reply or a markdown message as a text message (a reply's
 * remembering what it replies to), so that the conversation's rules, turns
 * and history treat them as what people said: the agent's own answers are
 * replies and markdown in groups, and must count as its texts (learning from
 * feedback reads `replyTo`, memory/feedback.ts).
 */
export function asTextMessage(message: AgentMessage): AgentMessage {
  if (isMarkdown(message)) {
    const flat: TextMessage = { ...message, contentType: { ...message.contentType, typeId: "text" } };
    return flat;
  }
  if (!isTextReply(message)) return message;
  const flat: TextMessage = {
    ...message,
    content: message.content.content,
    contentType: { ...message.contentType, typeId: "text" },
    replyTo: message.content.referenceId,
    ...(message.content.inReplyTo ? { replyToSender: message.content.inReplyTo.senderInboxId } : {}),
  };
  return flat;
}

// ReactionAction is a const enum of the bindings, which isolated modules cannot
// read as values: its values, as the SDK sends them, typed as its members.
export const REACTION_ADDED: ReactionAction.Added = 1;
export const REACTION_REMOVED: ReactionAction.Removed = 2;

export function isReaction(message: AgentMessage): message is AgentMessage & { content: Reaction } {
  const t = message.contentType;
  return (
    t?.authorityId === "xmtp.org" &&
    t.typeId === "reaction" &&
    typeof (message.content as Reaction | undefined)?.reference === "string"
  );
}

// ActionStyle is a const enum of the bindings too: Primary 0, Danger 2.
const STYLE: Record<Buttons["actions"][number]["style"], ActionStyle> = { primary: 0, danger: 2 };

/** Buttons under a question (coinbase.com/actions:1.0): a set's id, what it asks, each button, when they expire. */
export interface Buttons {
  id: string;
  description: string;
  actions: { id: string; label: string; style: "primary" | "danger" }[];
  expiresAtMs: number;
}

/**
 * Buttons as XMTP's `actions`. When they expire is said in their
 * description, not in the protocol's 64-bit `expiresAtNs`: the Convos CLI
 * (0.10.15) shows a message holding one as empty, so no one reading its
 * list would see the buttons; the agent enforces the expiry itself (a tap
 * after it answers nothing). No fallback: they follow a text that asks the
 * same, which is what a client without buttons shows (the SDK's own
 * fallback asks for a number, which answers nothing here).
 */
export function encodeButtons(b: Buttons): Encoded {
  const actions: Actions = {
    id: b.id,
    description: `${b.description}\n\n${answerBy(b.expiresAtMs)}`,
    actions: b.actions.map((a) => ({ id: a.id, label: a.label, style: STYLE[a.style] })),
  };
  const { fallback: _shown, ...encoded } = encodeActions(actions);
  return encoded;
}

/** "Answer by 14:05 UTC." for buttons expiring at `expiresAtMs`. */
export function answerBy(expiresAtMs: number): string {
  return `Answer by ${new Date(expiresAtMs).toISOString().slice(11, 16)} UTC.`;
}

export function isIntent(message: AgentMessage): message is AgentMessage & { content: Intent } {
  const t = message.contentType;
  const c = message.content as Partial<Intent> | undefined;
  return (
    t?.authorityId === "coinbase.com" &&
    t.typeId === "intent" &&
    typeof c?.id === "string" &&
    typeof c.actionId === "string"
  );
}

export function isActions(message: AgentMessage): message is AgentMessage & { content: Actions } {
  const t = message.contentType;
  const c = message.content as Partial<Actions> | undefined;
  return (
    t?.authorityId === "coinbase.com" && t.typeId === "actions" && typeof c?.id === "string" && Array.isArray(c.actions)
  );
}
