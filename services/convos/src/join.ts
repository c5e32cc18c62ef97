import { setTimeout as sleep } from "node:timers/promises";
import { deadlineExceeded, invalidArgument, type InboxResolver } from "@convos-pool/kit";
import { encodeJoinRequest, encodeProfileUpdate, readAppData, type EncodedContent } from "./app-data.js";
import { parseInvite, verifyInvite, type Invite } from "./invite.js";

/** What joining needs of an XMTP client (`@xmtp/node-sdk`'s Client fits). */
export interface JoiningClient<G extends JoinedGroup = JoinedGroup> {
  inboxId: string;
  conversations: {
    createDm(inboxId: string): Promise<{ send(content: EncodedContent): Promise<string>; sendText(text: string): Promise<string> }>;
    sync(): Promise<unknown>;
    listGroups(): G[];
  };
}

/** What joining needs of a group (`@xmtp/node-sdk`'s Group fits). */
export interface JoinedGroup {
  id: string;
  appData: string;
  /** The inbox whose commit added ours to the group (from the MLS welcome). */
  addedByInboxId: string;
  /** False once we are no longer a member (we left, or were removed). */
  isActive: boolean;
  send(content: EncodedContent): Promise<string>;
}

export interface JoinOptions {
  /** Checks the invite's signer against the creator's inbox on the XMTP network. */
  resolver: InboxResolver;
  /** The name the agent shows in the conversation. */
  profileName?: string;
  /** How long to wait for the creator to add us; default 60 s. */
  timeoutMs?: number;
  /** How often to sync while waiting; default 500 ms. */
  pollMs?: number;
  signal?: AbortSignal;
  /** Called with the checked invite before anything else: the join request it leads to cannot be taken back. */
  onInvite?: (invite: Invite) => Promise<void>;
}

export interface Joined<G extends JoinedGroup = JoinedGroup> {
  invite: Invite;
  group: G;
}

/**
 * Joins a Convos conversation from an invite link or slug, the way Convos
 * clients do (`convos conversations join`, the apps):
 *
 * 1. read the invite and check it: signed by a wallet of the creator's inbox
 *    (as `resolver` says), not expired: else INVALID_ARGUMENT or
 *    PERMISSION_DENIED, and nothing is sent;
 * 2. if we are already in the conversation, return it;
 * 3. in a DM to the creator's inbox, send a `convos.org/join_request:1.0`
 *    (the slug and our agent profile) and the bare slug as text (what older
 *    clients read);
 * 4. sync until the creator's client adds us: the conversation is the group
 *    whose app data carries the invite's tag and that the creator's inbox added
 *    us to (a look-alike group with the same tag from anyone else is ignored);
 *    DEADLINE_EXCEEDED after `timeoutMs`;
 * 5. announce ourselves in it (`convos.org/profile_update:1.0`: our name,
 *    member kind agent).
 *
 * The creator's client decides; we only ask. It is the only party that can
 * read the conversation id in the invite, and it ignores requests it does not
 * accept (a wrong, locked or exploded conversation) without an answer: from
 * here that looks like the timeout.
 */
export async function joinConversation<G extends JoinedGroup>(client: JoiningClient<G>, input: string, opts: JoinOptions): Promise<Joined<G>> {
  const invite = await parseInvite(input);
  await verifyInvite(invite, opts.resolver);
  await opts.onInvite?.(invite);
  await client.conversations.sync();
  const already = findGroup(client, invite);
  if (already) return { invite, group: already };
  if (invite.creatorInboxId === client.inboxId) {
    throw invalidArgument("conversation_invite", "the invite is our own, and its conversation is not among our groups");
  }

  const dm = await client.conversations.createDm(invite.creatorInboxId);
  await dm.send(encodeJoinRequest({ inviteSlug: invite.slug, profile: { name: opts.profileName, memberKind: "agent" } }));
  await dm.sendText(invite.slug);

  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    await client.conversations.sync();
    const group = findGroup(client, invite);
    if (group) {
      await group.send(encodeProfileUpdate(opts.profileName));
      return { invite, group };
    }
    if (Date.now() >= deadline) {
      throw deadlineExceeded(`conversation_invite: the creator ${invite.creatorInboxId} did not add us within ${timeoutMs} ms`);
    }
    await sleep(opts.pollMs ?? 500, undefined, { signal: opts.signal });
  }
}

/**
 * The invite's conversation among our groups: its tag, and added by the
 * invite's creator. A group we left is not it (the creator adds us again:
 * then it is active again).
 */
function findGroup<G extends JoinedGroup>(client: JoiningClient<G>, invite: Invite): G | undefined {
  return client.conversations
    .listGroups()
    .find((g) => g.isActive && g.addedByInboxId === invite.creatorInboxId && readAppData(g.appData)?.tag === invite.payload.tag);
}
