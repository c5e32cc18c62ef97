// The agent's conversations (conversations.ts): what a start loads from a
// real workspace in a temporary directory, and the conversation at hand: a
// turn's own, however deep and late its calls, else the home. The agent's
// other rooms are not built: the holder and its conversations touch only
// its workspace, log and status until they listen.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { conversationFile, FILES, Workspace } from "../../platform/workspace.js";
import { entryOf, saveState, type ConversationsFile } from "./files.js";
import type { ConversationParts, ConversationState } from "./listening.js";
import { Conversations } from "./conversations.js";
import type { AgentGroup, AgentMessage } from "../../platform/xmtp.js";

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
    profiled: Object.keys(names),
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

// The agent's one stream (conversations.ts): a stand-in client whose
// streamAllMessages the test feeds, and each conversation's `heard` and
// `restarted` recorded instead of queued: what is checked is where each
// message goes and when streams open and end.
describe("the agent's one stream", () => {
  const DIRECT = "d".repeat(32);
  const STRANGER = "e".repeat(32);
  const NEW = "f".repeat(32);
  let dir: string;
  let ws: Workspace;
  let conversations: Conversations;
  /** What happened, in order: "open 1", "end 1", ... */
  let events: string[];
  let streams: { push(m: AgentMessage): void; restart(): void; ended: boolean }[];
  let known: string[];
  /** Whether the node takes a while to open a stream. */
  let slow: boolean;

  const message = (conversationId: string, id = `m-${conversationId.slice(0, 1)}`) =>
    ({ id, conversationId, senderInboxId: "inbox-of-someone", content: "hi" }) as unknown as AgentMessage;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "one-stream-"));
    ws = new Workspace(dir, "inst_one_stream");
    await ws.create();
    events = [];
    streams = [];
    known = [HOME, TRIP, DIRECT, STRANGER];
    slow = false;
    const client = {
      conversations: {
        listGroups: () => known.map((id) => ({ id })),
        streamAllMessages: async (opts: { onRestart: () => void }) => {
          const n = streams.length + 1;
          events.push(`open ${n}`);
          if (slow) await sleep(20);
          const queue: AgentMessage[] = [];
          let wake: (() => void) | undefined;
          const s = {
            ended: false,
            push(m: AgentMessage) {
              queue.push(m);
              wake?.();
            },
            restart: () => opts.onRestart(),
            end() {
              s.ended = true;
              events.push(`end ${n}`);
              wake?.();
            },
            async *[Symbol.asyncIterator]() {
              while (!s.ended) {
                const m = queue.shift();
                if (m) yield m;
                else await new Promise<void>((r) => (wake = r));
              }
            },
          };
          streams.push(s);
          return s;
        },
      },
    };
    const agent = {
      ws,
      deps: {},
      log: createLogger("one-stream-test", { level: "silent" }),
      status: { stopped: false, inboxId: "inbox-of-the-agent", mustClient: () => client },
      declaredConnections: () => [],
    } as unknown as ConversationParts;
    conversations = new Conversations(agent);
    await saveState(ws, state(HOME));
    await saveState(ws, state(TRIP));
    await ws.writeJson(FILES.conversations, {
      v: 1,
      home: HOME,
      conversations: [entryOf(state(HOME)), entryOf(state(TRIP))],
    } satisfies ConversationsFile);
    await conversations.load();
  });
  afterEach(async () => {
    await conversations.endStreams();
    await rm(dir, { recursive: true, force: true });
  });

  /** Each conversation's `heard` and `restarted`, recorded. */
  function recorded(): Record<string, string[]> {
    const got: Record<string, string[]> = { [HOME]: [], [TRIP]: [] };
    for (const id of [HOME, TRIP]) {
      const c = conversations.get(id)!;
      vi.spyOn(c, "heard").mockImplementation((m) => void got[id]!.push(m.id));
      vi.spyOn(c, "restarted").mockImplementation(() => void got[id]!.push("restarted"));
    }
    return got;
  }

  it("hands each message to its conversation, the direct line's to its tap, and any other group's to a clone's wait or to no one", async () => {
    const got = recorded();
    const direct: string[] = [];
    await conversations.tap({ id: DIRECT } as AgentGroup, {
      heard: (m) => void direct.push(m.id),
      restarted: () => {},
    });
    const stream = streams[0]!;
    stream.push(message(HOME, "at-home"));
    stream.push(message(TRIP, "on-trip"));
    stream.push(message(DIRECT, "yes"));
    stream.push(message(STRANGER, "before-the-wait"));
    await sleep(5);
    const others: string[] = [];
    const untap = await conversations.tapOthers({ heard: (m) => void others.push(m.id), restarted: () => {} });
    stream.push(message(STRANGER, "summary"));
    await sleep(5);
    untap();
    stream.push(message(STRANGER, "after-the-wait"));
    await sleep(5);
    expect(got).toEqual({ [HOME]: ["at-home"], [TRIP]: ["on-trip"] });
    expect(direct).toEqual(["yes"]);
    expect(others).toEqual(["summary"]);
    // One stream for all of them.
    expect(events).toEqual(["open 1"]);
  });

  it("opens one stream for every group its client knows, and for a newer group opens another before it ends the first", async () => {
    await conversations.openStream({ id: HOME } as AgentGroup);
    await conversations.openStream({ id: TRIP } as AgentGroup);
    expect(events).toEqual(["open 1"]);
    // A group joined after the stream opened: carried for sure only by a stream opened after it.
    known.push(NEW);
    await conversations.openStream({ id: NEW } as AgentGroup);
    await conversations.openStream({ id: NEW } as AgentGroup);
    expect(events).toEqual(["open 1", "open 2", "end 1"]);
    await conversations.endStreams();
    expect(events).toEqual(["open 1", "open 2", "end 1", "end 2"]);
  });

  it("catches up every conversation and tells each tap when its stream restarts", async () => {
    const got = recorded();
    let directRestarts = 0;
    await conversations.tap({ id: DIRECT } as AgentGroup, { heard: () => {}, restarted: () => void directRestarts++ });
    streams[0]!.restart();
    expect(got).toEqual({ [HOME]: ["restarted"], [TRIP]: ["restarted"] });
    expect(directRestarts).toBe(1);
  });

  it("leaves ended a stream asked for before it was ended (a sleep, a stop), and opens it at the next listen (a wake)", async () => {
    const asked = conversations.openStream();
    await conversations.endStreams();
    await asked;
    expect(events).toEqual([]);
    // Opening when it was ended: ended as soon as it is open.
    await conversations.openStream();
    known.push(NEW);
    slow = true;
    const opening = conversations.openStream({ id: NEW } as AgentGroup);
    await sleep(5);
    await conversations.endStreams();
    await opening;
    expect(events).toEqual(["open 1", "open 2", "end 1", "end 2"]);
    await conversations.openStream();
    expect(events).toEqual(["open 1", "open 2", "end 1", "end 2", "open 3"]);
  });
});
