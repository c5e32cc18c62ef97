// TEST FIXTURE, NOT PRODUCT CODE (@convos-pool/convos/testing). A Convos
// conversation creator for the benchmarks that join agents to conversations
// (bench/claims.ts, bench/clone.ts, bench/soak.ts), the fault suite
// (services/e2e/src/faults.system.test.ts) and the instance host's tests
// (OneHost, @convos-pool/instance/testing): one @xmtp/node-sdk client,
// which also waits for agents' answers in its groups and reads back what
// was said in them.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Client, createBackend, isLeaveRequest, type ClientOptions } from "@xmtp/node-sdk";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { statementCodec } from "@convos-pool/kit/content";
import { parseInvite, walletSigner, writeAppData } from "../src/index.js";
import { inviteUrl } from "./invite.js";

type CreatorClient = Client<unknown>;
type CreatorGroup = Awaited<ReturnType<CreatorClient["conversations"]["createGroup"]>>;
type Codec = NonNullable<ClientOptions["codecs"]>[number];

/** Convos content types the creator receives: join_request (JSON) is read; the others are only accepted. */
function convosCodec(typeId: string, decode: (bytes: Uint8Array) => unknown): Codec {
  const contentType = { authorityId: "convos.org", typeId, versionMajor: 1, versionMinor: 0 };
  return {
    contentType,
    encode: (value: unknown) => ({
      type: contentType,
      parameters: {},
      content: new TextEncoder().encode(JSON.stringify(value)),
    }),
    decode: (encoded: { content: Uint8Array }) => decode(encoded.content),
    fallback: () => undefined,
    shouldPush: () => false,
  };
}

const CREATOR_CODECS = [
  convosCodec("join_request", (bytes) => {
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    } catch {
      return undefined;
    }
  }),
  convosCodec("profile_update", () => ({})),
  // An agent's thinking status and typing indicator (docs/instance.md, "Manners"): only accepted.
  convosCodec("thinking", () => ({})),
  convosCodec("typing_indicator", () => ({})),
  // The pool's statement of what an agent may do (docs/statement.md): read, to check what an agent posted.
  statementCodec as unknown as Codec,
];

/**
 * What a Convos client does for the conversations it creates, reduced to what
 * a join needs: one SDK client creates groups tagged in their app data,
 * hands out signed invites for them, and answers a join_request (in a DM) for
 * one of its invites by adding the sender to that group. (A real invite's
 * conversation token is the conversation id encrypted for the creator; this
 * creator finds the group by the invite's tag instead.)
 */
/**
 * What a message says: a text or markdown (the SDK decodes both to a
 * string), or the text of a reply (an agent answers in a group of three or
 * more with replies, docs/instance.md "Manners"); undefined for anything else.
 */
function textOf(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  const inner = (content as { content?: unknown } | null | undefined)?.content;
  return content && typeof content === "object" && "referenceId" in content && typeof inner === "string"
    ? inner
    : undefined;
}

export async function startCreator(apiUrl: string, dir: string) {
  const key = generatePrivateKey();
  const options: ClientOptions = {
    backend: await createBackend({ env: "local", apiUrl }),
    dbPath: join(dir, "creator.db3"),
    dbEncryptionKey: randomBytes(32),
    disableDeviceSync: true,
    historySyncUrl: null,
    codecs: CREATOR_CODECS,
  };
  const client: CreatorClient = await Client.create(walletSigner(privateKeyToAccount(key)), options);
  const byTag = new Map<string, CreatorGroup>();
  let joinRequests = 0;
  /** While set, join requests wait here to be answered (a creator whose client answers late). */
  let held: (() => void)[] | undefined;
  const errors: string[] = [];
  /** Who waits for a text from whom in which group. */
  const waiting = new Set<{ groupId: string; from: string; resolve: () => void }>();

  async function answer(senderInboxId: string, slug: string) {
    const invite = await parseInvite(slug);
    const group = byTag.get(invite.payload.tag);
    if (!group || invite.creatorInboxId !== client.inboxId) return;
    // Added again when asked again, as the Convos CLI's `agent serve` does: a member whose inbox has a new
    // installation (an agent moved off a lost host) is let back in by it (docs/scaling.md).
    await group.addMembers([senderInboxId]);
  }

  type Received = { id: string; conversationId: string; senderInboxId: string; content: unknown };
  const seen = new Set<string>();
  const handle = (m: Received) => {
    if (m.senderInboxId === client.inboxId || seen.has(m.id)) return;
    seen.add(m.id);
    // A member asking to leave (an agent released after a failed claim): the admin takes it out, as a Convos client does.
    if (isLeaveRequest(m as never)) {
      const group = [...byTag.values()].find((g) => g.id === m.conversationId);
      group?.removeMembers([m.senderInboxId]).catch(() => undefined);
      return;
    }
    for (const w of waiting) {
      if (w.groupId === m.conversationId && w.from === m.senderInboxId && textOf(m.content) !== undefined) {
        waiting.delete(w);
        w.resolve();
      }
    }
    const c = m.content as { inviteSlug?: unknown } | undefined;
    if (c && typeof c === "object" && typeof c.inviteSlug === "string") {
      joinRequests++;
      const slug = c.inviteSlug;
      const go = () => void answer(m.senderInboxId, slug).catch((err: unknown) => errors.push(String(err)));
      if (held) held.push(go);
      else go();
    }
  };
  // As a Convos client does when its connection comes back (the XMTP node
  // restarted): sync, and read the join requests that came meanwhile.
  const catchUp = async () => {
    await client.conversations.syncAll();
    for (const dm of client.conversations.listDms()) for (const m of await dm.messages()) handle(m);
  };
  const stream = await client.conversations.streamAllMessages({
    retryAttempts: Number.MAX_SAFE_INTEGER,
    retryDelay: 500,
    onRestart: () => void catchUp().catch((err: unknown) => errors.push(String(err))),
  });
  void (async () => {
    for await (const m of stream) if (m) handle(m);
  })();

  return {
    inboxId: client.inboxId,
    /** Its wallet: it signs as the owner of the agents it adds. */
    account: privateKeyToAccount(key),
    /** A group it created, to talk in. */
    group: (groupId: string) => [...byTag.values()].find((g) => g.id === groupId),
    get joinRequests() {
      return joinRequests;
    },
    /** From now on, join requests are received (counted) but not answered until `answerJoins`. */
    holdJoins(): void {
      held ??= [];
    },
    /** Answers the join requests held since `holdJoins`, and every later one at once again. */
    answerJoins(): void {
      const queue = held ?? [];
      held = undefined;
      for (const go of queue) go();
    },
    errors,
    /** Sends `text` in one of its groups and resolves when `from` (an agent) writes there next. */
    async ask(groupId: string, from: string, text: string, ms = 30_000): Promise<void> {
      const group = [...byTag.values()].find((g) => g.id === groupId);
      if (!group) throw new Error(`no group ${groupId}`);
      let timer: NodeJS.Timeout | undefined;
      const answered = new Promise<void>((resolve, reject) => {
        const w = { groupId, from, resolve };
        waiting.add(w);
        timer = setTimeout(() => {
          waiting.delete(w);
          reject(new Error(`no answer from ${from.slice(0, 8)} in ${ms} ms`));
        }, ms);
      });
      // Its time runs from before the send: a send slower than `ms` ends it as a timeout, not a crash.
      answered.catch(() => undefined);
      await group.sendText(text);
      await answered.finally(() => clearTimeout(timer));
    },
    /** Sends `text` in one of its groups, or one it was added to, answered or not. */
    async send(groupId: string, text: string): Promise<void> {
      let group: { sendText(text: string): Promise<unknown> } | undefined = [...byTag.values()].find(
        (g) => g.id === groupId,
      );
      if (!group) {
        group = await client.conversations.getConversationById(groupId);
        if (!group) await client.conversations.sync();
        group ??= await client.conversations.getConversationById(groupId);
      }
      if (!group) throw new Error(`no group ${groupId}`);
      await group.sendText(text);
    },
    /** Every text said in one of its groups, oldest first, as the network has it (synced first). */
    async transcript(groupId: string): Promise<{ id: string; from: string; text: string; sentAtNs: bigint }[]> {
      const group = [...byTag.values()].find((g) => g.id === groupId);
      if (!group) throw new Error(`no group ${groupId}`);
      // A sync that read everything may still report an error of a step after a commit (a welcome the
      // creator's client could not send for another's installation): what it read is in the database.
      await group.sync().catch(() => undefined);
      const all = await group.messages();
      return all
        .filter((m) => textOf(m.content) !== undefined)
        .map((m) => ({ id: m.id, from: m.senderInboxId, text: textOf(m.content)!, sentAtNs: m.sentAtNs }))
        .sort((a, b) => (a.sentAtNs < b.sentAtNs ? -1 : a.sentAtNs > b.sentAtNs ? 1 : 0));
    },
    /** Its groups' members other than itself, by group id (synced first). */
    async members(): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      for (const g of byTag.values()) {
        await g.sync();
        out.set(
          g.id,
          (await g.members()).map((m) => m.inboxId).filter((id) => id !== client.inboxId),
        );
      }
      return out;
    },
    /** A new conversation and its invite link (which expires at `expiresAt` when given). */
    async conversation(name: string, opts: { expiresAt?: Date } = {}): Promise<{ groupId: string; invite: string }> {
      const tag = randomBytes(5).toString("hex");
      const group = await client.conversations.createGroup([], { appData: writeAppData({ tag }) });
      byTag.set(tag, group);
      const invite = await inviteUrl({
        creatorInboxId: client.inboxId,
        tag,
        name,
        expiresAt: opts.expiresAt,
        privateKey: key,
      });
      return { groupId: group.id, invite };
    },
    async close() {
      await stream.end();
      // Dropped, its libxmtp workers, database pool and files would stay for the life of the process.
      await client.close();
    },
  };
}
