import { deadlineExceeded, failedPreconditionOn, invalidArgument } from "@convos-pool/kit/content";
import type { InboxResolver } from "@convos-pool/kit/signing";
import {
  encodeJoinRequest,
  encodeProfileUpdate,
  readAppData,
  type EncodedContent,
  type ProfileMetadataValues,
} from "./app-data.js";
import { parseInvite, verifyInvite, type Invite } from "./invite.js";

/** What joining needs of an XMTP client (`@xmtp/node-sdk`'s Client fits). */
export interface JoiningClient<G extends JoinedGroup = JoinedGroup> {
  inboxId: string;
  conversations: {
    createDm(inboxId: string): Promise<JoinRequestDm>;
    sync(): Promise<unknown>;
    listGroups(): G[];
    /** New groups as their welcomes arrive; resolves once subscribed. */
    streamGroups(options: GroupStreamOptions): Promise<GroupStream<G>>;
  };
}

/** The DM a join request goes in: both messages queued, then published together (one round of publishing, not two). */
export interface JoinRequestDm {
  send(content: EncodedContent, opts: { shouldPush: boolean; optimistic: boolean }): Promise<string>;
  sendText(text: string, opts: { optimistic: boolean }): Promise<string>;
  publishMessages(): Promise<void>;
}

/** The options of `@xmtp/node-sdk`'s streamGroups that joining sets. */
export interface GroupStreamOptions {
  /** The caller syncs itself, after subscribing (the SDK's own sync comes before it: a gap). */
  disableSync: boolean;
  retryDelay: number;
  onRestart: () => void;
  onError: (err: Error) => void;
}

export interface GroupStream<G> extends AsyncIterable<G | undefined> {
  end(): Promise<unknown>;
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
  members(): Promise<unknown[]>;
}

/**
 * Members (inboxes) XMTP allows in a group: libxmtp's MAX_GROUP_SIZE, the
 * network's documented limit. libxmtp checks it only when members are added
 * by address; a Convos client adds a joiner by inbox id, which it does not
 * check, so a group can grow past it (docs/claims.md, "A full conversation").
 */
export const GROUP_MEMBER_LIMIT = 250;

export interface JoinOptions {
  /** Checks the invite's signer against the creator's inbox on the XMTP network. */
  resolver: InboxResolver;
  /** The name the agent shows in the conversation. */
  profileName?: string;
  /** Its profile's metadata from the start (an agent's description and avatar). */
  profileMetadata?: ProfileMetadataValues;
  /** An image URL for its profile, as Convos' join request carries it. */
  profileImageUrl?: string;
  /**
   * Whether it joins as an agent (Convos' member kind, in the join request
   * and the profile it announces); default true. A person joins without it,
   * as the Convos apps do.
   */
  agent?: boolean;
  /**
   * Refuse a conversation that, with us in it, has more members than this
   * (FAILED_PRECONDITION on conversation_invite), before we say anything
   * there: the caller leaves it. None: any size.
   */
  memberLimit?: number;
  /** How long to wait for the creator to add us; default 60 s. */
  timeoutMs?: number;
  /** How often to sync while waiting, in case the welcome stream missed or dropped it; default 1 s. */
  fallbackSyncMs?: number;
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
 * 2. subscribe to new groups (welcomes), then sync: if we are already in the
 *    conversation, return it;
 * 3. in a DM to the creator's inbox, send a `convos.org/join_request:1.0`
 *    (the slug and our profile) and the bare slug as text (what older
 *    clients read);
 * 4. wait until the creator's client adds us: the conversation is the group
 *    whose app data carries the invite's tag and that the creator's inbox added
 *    us to (a look-alike group with the same tag from anyone else is ignored);
 *    DEADLINE_EXCEEDED after `timeoutMs`;
 * 5. with `memberLimit`, count the group's members: past it, FAILED_PRECONDITION
 *    (the creator's client let us into a group larger than XMTP allows);
 * 6. announce ourselves in it (`convos.org/profile_update:1.0`: our name,
 *    member kind agent unless `agent` is false).
 *
 * The welcome arrives on the stream, which is open before the request goes
 * out, so a creator that adds us at once is not missed; a sync every
 * `fallbackSyncMs` (and when the stream reconnects) finds it if the stream
 * dropped. The stream ends on every way out.
 *
 * The creator's client decides; we only ask. It is the only party that can
 * read the conversation id in the invite, and it ignores requests it does not
 * accept (a wrong, locked or exploded conversation) without an answer: from
 * here that looks like the timeout.
 */
export async function joinConversation<G extends JoinedGroup>(
  client: JoiningClient<G>,
  input: string,
  opts: JoinOptions,
): Promise<Joined<G>> {
  const invite = await parseInvite(input);
  await verifyInvite(invite, opts.resolver);
  await opts.onInvite?.(invite);
  const isOurs = (g: G) =>
    g.isActive && g.addedByInboxId === invite.creatorInboxId && readAppData(g.appData)?.tag === invite.payload.tag;
  const fallbackSyncMs = opts.fallbackSyncMs ?? 1_000;
  const timeoutMs = opts.timeoutMs ?? 60_000;

  let found: (group: G) => void = () => undefined;
  let failed: (err: unknown) => void = () => undefined;
  const added = new Promise<G>((resolve, reject) => {
    found = resolve;
    failed = reject;
  });
  // Settled (timeout, abort) while the request is still being sent: awaited below.
  void added.catch(() => undefined);
  const syncAndLook = async () => {
    await client.conversations.sync();
    const group = client.conversations.listGroups().find(isOurs);
    if (group) found(group);
    return group;
  };
  let fallbackSyncing = false;
  const fallbackSync = () => {
    if (fallbackSyncing) return;
    fallbackSyncing = true;
    void syncAndLook()
      .catch(() => undefined)
      .finally(() => (fallbackSyncing = false));
  };
  const stream = await client.conversations.streamGroups({
    disableSync: true,
    retryDelay: fallbackSyncMs,
    onRestart: fallbackSync,
    // A failing stream leaves the fallback sync to find the group.
    onError: () => undefined,
  });
  const timers: NodeJS.Timeout[] = [];
  const { signal } = opts;
  const onAbort = () => failed(signal?.reason);
  try {
    const already = await syncAndLook();
    if (already) return { invite, group: already };
    if (invite.creatorInboxId === client.inboxId) {
      throw invalidArgument(
        "conversation_invite",
        "the invite is our own, and its conversation is not among our groups",
      );
    }
    signal?.throwIfAborted();
    signal?.addEventListener("abort", onAbort, { once: true });
    void (async () => {
      for await (const group of stream) if (group && isOurs(group)) return found(group);
    })().catch(() => undefined);

    const dm = await client.conversations.createDm(invite.creatorInboxId);
    await dm.send(
      encodeJoinRequest({
        inviteSlug: invite.slug,
        profile: {
          ...(opts.profileName ? { name: opts.profileName } : {}),
          ...(opts.profileImageUrl ? { imageURL: opts.profileImageUrl } : {}),
          ...(opts.agent === false ? {} : { memberKind: "agent" as const }),
        },
      }),
      { shouldPush: false, optimistic: true },
    );
    await dm.sendText(invite.slug, { optimistic: true });
    await dm.publishMessages();
    signal?.throwIfAborted();

    timers.push(
      setInterval(fallbackSync, fallbackSyncMs),
      setTimeout(
        () =>
          failed(
            deadlineExceeded(
              `conversation_invite: the creator ${invite.creatorInboxId} did not add us within ${timeoutMs} ms ` +
                "(its client offline, the invite no longer taken, or the conversation full: XMTP allows 250 members, " +
                "and a Convos client that cannot add one more does not say so)",
            ),
          ),
        timeoutMs,
      ),
    );
    const group = await added;
    if (opts.memberLimit !== undefined) {
      const members = (await group.members()).length;
      if (members > opts.memberLimit) {
        throw failedPreconditionOn(
          "conversation_invite",
          `the conversation has ${members} members with the agent, more than XMTP allows in a group ` +
            `(${opts.memberLimit}): it was let in, and leaves`,
        );
      }
    }
    await group.send(encodeProfileUpdate(opts.profileName, opts.agent !== false, opts.profileMetadata));
    return { invite, group };
  } finally {
    for (const t of timers) clearTimeout(t);
    signal?.removeEventListener("abort", onAbort);
    await stream.end().catch(() => undefined);
  }
}
