// Where the agent's conversations are kept in its workspace
// (`docs/design/one-agent-many-conversations.md`, 3.2): conversations.json
// lists them and names the home; each has a folder of its own (platform/workspace.ts
// `conversationFile`) with its state.json (who is who, how far it has read),
// join.json (the invite it joined with), participation.json and
// outside-words.json. This is the only code that knows those paths and
// shapes; its callers hold what they read (listening.ts, claim.ts,
// state/settings.ts, state/outside-words.ts, conversations.ts).

import type { JsonValue } from "@bufbuild/protobuf";
import { profiledBefore } from "./people.js";
import {
  CONVERSATION_FILES,
  CONVERSATION_ID_PATTERN,
  CONVERSATIONS_DIR,
  conversationFile,
  FILES,
  type JoinFile,
  type Workspace,
} from "../../platform/workspace.js";

/** Whether the agent's tools act for a conversation's members: the same tools as the home (shared), or none there. */
export type ConversationTools = "shared" | "none";

/** Where a conversation stands for the agent (AgentConversationState, lower case). */
export type ConversationStanding = "joining" | "joined" | "rejoining" | "leaving";

/** Its conversation, and how far it has read: its entry in conversations.json and its state.json (this file). */
export interface ConversationState {
  conversationId: string;
  inviteTag: string;
  /** keccak256 of the invite it joined with: how an owner's clone signature names this conversation. */
  inviteHash?: string;
  joinedAt: string;
  /** How far it has read (agent/conversation/read-mark.ts): every message sent at or before this (ns, decimal) is done. */
  lastSeenNs: string;
  /** Messages done that were sent after `lastSeenNs` while an older one waited (agent/conversation/read-mark.ts); absent when none. */
  doneAfter?: { id: string; sentAtNs: string }[];
  /** Members known to be agents (their profile says so): never answered. */
  agents: string[];
  /** The conversation's creator, from the invite: a principal even when its client is an agent. */
  creatorInboxId: string;
  /** Profile names by inbox id. */
  names: Record<string, string>;
  /** Members who sent a profile of their own (people.ts): the creator's snapshot no longer speaks for them. */
  profiled: string[];
}

/** One conversation in conversations.json: what does not change while it is there. */
export interface ConversationEntry {
  conversationId: string;
  inviteTag: string;
  /** keccak256 of the invite it joined with: how an owner's signature names this conversation. */
  inviteHash?: string;
  /** The conversation's creator, from the invite. */
  creatorInboxId: string;
  joinedAt: string;
  tools: ConversationTools;
  state: ConversationStanding;
  /** The owner's signed AddToConversation that sent it there (convos.pool.v1.ConversationAddition as JSON); none for the conversation it was claimed into. */
  addition?: JsonValue;
}

/** conversations.json. */
export interface ConversationsFile {
  v: 1;
  /** The home conversation's id: the one it was claimed into, while it is there. */
  home: string;
  conversations: ConversationEntry[];
}

/** A conversation's state.json: ConversationState less what conversations.json holds (its id, its invite, its creator). */
export type SavedConversationState = Pick<ConversationState, "lastSeenNs" | "doneAfter" | "agents" | "names"> &
  Partial<Pick<ConversationState, "profiled">>;

/** A conversation's entry, from its state as the agent holds it. Pure. */
export function entryOf(
  convo: ConversationState,
  opts: { tools?: ConversationTools; state?: ConversationStanding } = {},
): ConversationEntry {
  return {
    conversationId: convo.conversationId,
    inviteTag: convo.inviteTag,
    ...(convo.inviteHash ? { inviteHash: convo.inviteHash } : {}),
    creatorInboxId: convo.creatorInboxId,
    joinedAt: convo.joinedAt,
    tools: opts.tools ?? "shared",
    state: opts.state ?? "joined",
  };
}

/** What a conversation's state.json holds of its state. Pure. */
export function savedStateOf(convo: ConversationState): SavedConversationState {
  return {
    lastSeenNs: convo.lastSeenNs,
    ...(convo.doneAfter ? { doneAfter: convo.doneAfter } : {}),
    agents: convo.agents,
    names: convo.names,
    profiled: convo.profiled,
  };
}

/** A conversation's state from its entry and its state.json (none yet: nothing read). Pure. */
export function conversationOf(entry: ConversationEntry, saved: SavedConversationState | undefined): ConversationState {
  return {
    conversationId: entry.conversationId,
    inviteTag: entry.inviteTag,
    ...(entry.inviteHash ? { inviteHash: entry.inviteHash } : {}),
    joinedAt: entry.joinedAt,
    lastSeenNs: saved?.lastSeenNs ?? "0",
    ...(saved?.doneAfter ? { doneAfter: saved.doneAfter } : {}),
    agents: saved?.agents ?? [],
    creatorInboxId: entry.creatorInboxId,
    names: saved?.names ?? {},
    profiled: saved?.profiled ?? profiledBefore({ names: saved?.names ?? {}, agents: saved?.agents ?? [] }),
  };
}

/** conversations.json as the workspace has it (none: in no conversation). */
export function readConversations(ws: Workspace): Promise<ConversationsFile | undefined> {
  return ws.readJson<ConversationsFile>(FILES.conversations);
}

/** The home conversation's state, as the workspace has it (none: in no conversation). */
export async function readHome(ws: Workspace): Promise<ConversationState | undefined> {
  const list = await readConversations(ws);
  const entry = list?.conversations.find((c) => c.conversationId === list.home);
  if (!entry) return undefined;
  return conversationOf(
    entry,
    await ws.readJson<SavedConversationState>(conversationFile(entry.conversationId, "state")),
  );
}

/**
 * Joined its home: the conversation's files first (the invite it rejoins
 * with, its state), conversations.json last, whose entry is what makes it
 * in the conversation after a restart.
 */
export async function writeJoinedHome(ws: Workspace, convo: ConversationState, invite: string): Promise<void> {
  await ws.writeJson(conversationFile(convo.conversationId, "join"), { invite } satisfies JoinFile);
  await saveState(ws, convo);
  await ws.writeJson(FILES.conversations, {
    v: 1,
    home: convo.conversationId,
    conversations: [entryOf(convo)],
  } satisfies ConversationsFile);
}

/**
 * Joined another conversation (an owner's AddConversation): its files first,
 * then its entry added to conversations.json, which is what makes it one of
 * the agent's conversations after a restart.
 */
export async function writeJoined(
  ws: Workspace,
  convo: ConversationState,
  invite: string,
  entry: { tools: ConversationTools; addition: JsonValue },
): Promise<void> {
  const list = await readConversations(ws);
  if (!list) throw new Error("joined another conversation while in none");
  await ws.writeJson(conversationFile(convo.conversationId, "join"), { invite } satisfies JoinFile);
  await saveState(ws, convo);
  const others = list.conversations.filter((c) => c.conversationId !== convo.conversationId);
  await ws.writeJson(FILES.conversations, {
    ...list,
    conversations: [...others, { ...entryOf(convo, { tools: entry.tools }), addition: entry.addition }],
  } satisfies ConversationsFile);
}

/**
 * Left one of its conversations: its entry out of conversations.json first
 * (with `home` the home from now on), so that a crash leaves it not listed,
 * then its folder.
 */
export async function writeLeft(ws: Workspace, conversationId: string, home: string): Promise<void> {
  const list = await readConversations(ws);
  if (list) {
    await ws.writeJson(FILES.conversations, {
      ...list,
      home,
      conversations: list.conversations.filter((c) => c.conversationId !== conversationId),
    } satisfies ConversationsFile);
  }
  await removeFolder(ws, conversationId);
}

/** A conversation's state.json: who is who there and how far it has read. */
export function saveState(ws: Workspace, convo: ConversationState): Promise<void> {
  return ws.writeJson(conversationFile(convo.conversationId, "state"), savedStateOf(convo));
}

/** The invite a conversation was joined with (none: joined before it was kept). */
export function readJoin(ws: Workspace, conversationId: string): Promise<JoinFile | undefined> {
  return ws.readJson<JoinFile>(conversationFile(conversationId, "join"));
}

/**
 * No conversation (a new claim, a Release): conversations.json first, so
 * that a crash leaves none named, then every conversation's folder, listed
 * or not (a join that crashed before it was listed).
 */
export async function removeConversations(ws: Workspace): Promise<void> {
  await ws.remove(FILES.conversations);
  for (const id of await ws.list(CONVERSATIONS_DIR)) {
    if (CONVERSATION_ID_PATTERN.test(id)) await removeFolder(ws, id);
  }
}

async function removeFolder(ws: Workspace, conversationId: string): Promise<void> {
  for (const kind of CONVERSATION_FILES) await ws.remove(conversationFile(conversationId, kind));
  await ws.removeEmptyDir(`${CONVERSATIONS_DIR}/${conversationId}`);
}
