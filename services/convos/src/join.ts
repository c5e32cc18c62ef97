import { setTimeout as sleep } from "node:timers/promises";
import { deadlineExceeded, type InboxResolver } from "@convos-pool/kit";
import { encodeJoinRequest, encodeProfileUpdate, readAppData, type EncodedContent } from "./app-data.js";
import { parseInvite, verifyInvite, type Invite } from "./invite.js";

/** What joining needs of an XMTP client (`@xmtp/node-sdk`'s Client fits). */
export interface JoiningClient {
  inboxId: string;
  conversations: {
    createDm(inboxId: string): Promise<{ send(content: EncodedContent): Promise<string>; sendText(text: string): Promise<string> }>;
    sync(): Promise<unknown>;
    listGroups(): JoinedGroup[];
  };
}

export interface JoinedGroup {
  id: string;
  appData: string;
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
}

export interface Joined {
  invite: Invite;
  group: JoinedGroup;
}

/**
 * Joins a Convos conversation from an invite, the way Convos clients do: ask
 * the creator in a DM (a `join_request` plus the bare slug for older clients),
 * wait until the creator's client adds us to the group whose tag the invite
 * names, then announce ourselves as an agent. The creator's client decides;
 * we only ask.
 */
export async function joinConversation(client: JoiningClient, input: string, opts: JoinOptions): Promise<Joined> {
  const invite = await parseInvite(input);
  await verifyInvite(invite, opts.resolver);
  const tag = invite.payload.tag;
  const already = findGroup(client, tag);
  if (already) return { invite, group: already };

  const dm = await client.conversations.createDm(invite.creatorInboxId);
  await dm.send(encodeJoinRequest({ inviteSlug: invite.slug, profile: { name: opts.profileName, memberKind: "agent" } }));
  await dm.sendText(invite.slug);

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    opts.signal?.throwIfAborted();
    await client.conversations.sync();
    const group = findGroup(client, tag);
    if (group) {
      await group.send(encodeProfileUpdate(opts.profileName));
      return { invite, group };
    }
    if (Date.now() >= deadline) {
      throw deadlineExceeded(`conversation_invite: the creator ${invite.creatorInboxId} did not add us within ${opts.timeoutMs ?? 60_000} ms`);
    }
    await sleep(opts.pollMs ?? 500, undefined, { signal: opts.signal });
  }
}

function findGroup(client: JoiningClient, tag: string): JoinedGroup | undefined {
  return client.conversations.listGroups().find((g) => readAppData(g.appData)?.tag === tag);
}
