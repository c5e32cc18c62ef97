// The agent's conversations (conversations.ts): what a start loads from a
// real workspace in a temporary directory, and the conversation at hand: a
// turn's own, however deep and late its calls, else the home. The agent's
// other rooms are not built: the holder and its conversations touch only
// its workspace, log and status until they listen.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { conversationFile, FILES, Workspace } from "../../platform/workspace.js";
import { entryOf, saveState, type ConversationsFile } from "./files.js";
import type { ConversationParts, ConversationState } from "./listening.js";
import { Conversations } from "./conversations.js";

const HOME = "a".repeat(32);
const TRIP = "b".repeat(32);
const GONE = "c".repeat(32);

function state(conversationId: string, names: Record<string, string> = {}): ConversationState {
  return {
    conversationId,
    inviteTag: `tag-${conversationId.slice(0, 4)}`,
    joinedAt: "2026-11-01T10:00:00.000Z",
    lastSeenNs: "0",
    agents: [],
    creatorInboxId: "inbox-of-the-creator",
    names,
  };
}

describe("the agent's conversations", () => {
  let dir: string;
  let ws: Workspace;
  let conversations: Conversations;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "conversations-"));
    ws = new Workspace(dir, "inst_conversations");
    await ws.create();
    // What building a conversation reads of its agent, and no more.
    const agent = {
      ws,
      log: createLogger("conversations-test", { level: "silent" }),
      status: { stopped: false, inboxId: "inbox-of-the-agent" },
      declaredConnections: () => [],
    } as unknown as ConversationParts;
    conversations = new Conversations(agent);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function twoConversations(): Promise<void> {
    await saveState(ws, state(HOME, { "inbox-of-saul": "Saul" }));
    await saveState(ws, state(TRIP, { "inbox-of-eve": "Eve" }));
    await ws.writeJson(FILES.conversations, {
      v: 1,
      home: HOME,
      conversations: [
        entryOf(state(TRIP)),
        entryOf(state(HOME)),
        // Being left when the agent stopped: not one of its conversations at the next start.
        entryOf(state(GONE), { state: "leaving" }),
      ],
    } satisfies ConversationsFile);
  }

  it("loads every conversation conversations.json lists, the home first, with what each state.json says", async () => {
    await twoConversations();
    const home = await conversations.load();
    expect(home?.conversationId).toBe(HOME);
    expect(conversations.all().map((c) => c.id)).toEqual([HOME, TRIP]);
    expect(conversations.count).toBe(2);
    expect(conversations.has(TRIP)).toBe(true);
    expect(conversations.has(GONE)).toBe(false);
    expect(conversations.get(TRIP)?.current?.names).toEqual({ "inbox-of-eve": "Eve" });
  });

  it("gives each conversation pieces of its own: what phones share and owners leave open in one is not another's", async () => {
    await twoConversations();
    await conversations.load();
    const home = conversations.get(HOME)!;
    const trip = conversations.get(TRIP)!;
    expect(home.voice).not.toBe(trip.voice);
    expect(home.phones).not.toBe(trip.phones);
    expect(home.openRequest).not.toBe(trip.openRequest);
    await trip.outsideWords.add("msg-from-outside");
    expect([...(await trip.outsideWords.ids())]).toEqual(["msg-from-outside"]);
    expect([...(await home.outsideWords.ids())]).toEqual([]);
    expect(await ws.readJson(conversationFile(TRIP, "outside-words"))).toEqual(["msg-from-outside"]);
  });

  it("is at the turn's conversation while the turn runs, through its waits, and at the home outside any turn", async () => {
    await twoConversations();
    await conversations.load();
    const trip = conversations.get(TRIP)!;
    expect(conversations.here.id).toBe(HOME);
    const seen: (string | undefined)[] = [];
    const late: Promise<void>[] = [];
    await conversations.within(trip, async () => {
      seen.push(conversations.here.id);
      await sleep(5);
      seen.push(conversations.here.id);
      // What a turn starts and leaves running (a question to the owner waiting) stays the turn's.
      late.push(sleep(20).then(() => void seen.push(conversations.here.id)));
    });
    // Another conversation's turn meanwhile, and a call outside any.
    const home = conversations.within(conversations.get(HOME)!, async () => {
      await sleep(10);
      return conversations.here.id;
    });
    expect(conversations.here.id).toBe(HOME);
    expect(await home).toBe(HOME);
    await Promise.all(late);
    expect(seen).toEqual([TRIP, TRIP, TRIP]);
  });

  it("in no conversation is nowhere: no id, no group, nothing said", async () => {
    expect(await conversations.load()).toBeUndefined();
    expect(conversations.here.id).toBeUndefined();
    expect(conversations.here.group).toBeUndefined();
    expect(await conversations.here.voice.say("anyone?")).toBeUndefined();
  });

  it("forgets every conversation at a Release, and a reset removes their files", async () => {
    await twoConversations();
    await conversations.load();
    const trip = conversations.get(TRIP)!;
    conversations.forget();
    expect(conversations.count).toBe(0);
    expect(trip.current).toBeUndefined();
    expect(conversations.here.id).toBeUndefined();
    await conversations.reset();
    expect(await ws.readJson(FILES.conversations)).toBeUndefined();
    expect(await ws.readJson(conversationFile(TRIP, "state"))).toBeUndefined();
  });
});
