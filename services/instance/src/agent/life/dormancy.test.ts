// Dormancy (dormancy.ts): its pure parts, which cursors of a dormant.json a
// dormant start watches (one per conversation, the one-conversation form of
// before read as one) and one wake shared by every watched group; and a
// sleep of an agent in two conversations, its failure paths included. The
// agent's parts, its groups and the host's watch are stand-ins that record
// what they are asked (a node that does not answer for one group cannot be
// made on the local XMTP node); the real ones are host/dormancy.int.test.ts's.
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { DormancyWatch } from "./deps.js";
import type { Parts } from "./parts.js";
import { cursorsFor, Dormancy, DORMANT_FILE, watchAll, type DormantFile, type OneCursorFile } from "./dormancy.js";

const HOME = "a".repeat(32);
const CLUB = "b".repeat(32);
const SINCE = "2026-11-29T07:00:00.000Z";

/** A watch that keeps each group's callback, and a message delivered to a group as the host's would (unwatched first). */
function recordingWatch() {
  const watched = new Map<string, { cursor: bigint; onMessage: () => void }>();
  const watch: DormancyWatch = {
    newest: () => Promise.resolve(0n),
    watch: (groupId, cursor, onMessage) => void watched.set(groupId, { cursor, onMessage }),
    unwatch: (groupId) => void watched.delete(groupId),
  };
  const deliver = (groupId: string) => {
    const w = watched.get(groupId);
    watched.delete(groupId);
    w?.onMessage();
  };
  return { watch, watched, deliver };
}

describe("cursorsFor", () => {
  it("reads one cursor per conversation, in the order of its conversations", () => {
    const file: DormantFile = {
      conversations: [
        { conversationId: CLUB, cursor: "42" },
        { conversationId: HOME, cursor: "7" },
      ],
      since: SINCE,
    };
    expect(cursorsFor(file, [HOME, CLUB])).toEqual([
      { conversationId: HOME, cursor: 7n },
      { conversationId: CLUB, cursor: 42n },
    ]);
  });

  it("reads the one-conversation dormant.json of before as a list of one", () => {
    const old: OneCursorFile = { conversationId: HOME, cursor: "18446744073709551615", since: SINCE };
    expect(cursorsFor(old, [HOME])).toEqual([{ conversationId: HOME, cursor: 18446744073709551615n }]);
  });

  it("watches nothing when a conversation has no cursor, a cursor has no conversation, or a cursor is not a decimal id", () => {
    const one = (conversationId: string, cursor: string): DormantFile => ({
      conversations: [{ conversationId, cursor }],
      since: SINCE,
    });
    // A conversation without a cursor: its group would go unwatched.
    expect(cursorsFor(one(HOME, "7"), [HOME, CLUB])).toBeUndefined();
    expect(cursorsFor({ conversationId: HOME, cursor: "7", since: SINCE }, [HOME, CLUB])).toBeUndefined();
    // A cursor of a conversation it is no longer in.
    expect(
      cursorsFor(
        {
          conversations: [
            { conversationId: HOME, cursor: "7" },
            { conversationId: CLUB, cursor: "9" },
          ],
          since: SINCE,
        },
        [HOME],
      ),
    ).toBeUndefined();
    expect(cursorsFor(one(CLUB, "7"), [HOME])).toBeUndefined();
    expect(cursorsFor(one(HOME, "-1"), [HOME])).toBeUndefined();
    expect(cursorsFor(one(HOME, "0x10"), [HOME])).toBeUndefined();
    expect(cursorsFor({ since: SINCE } as unknown as DormantFile, [HOME])).toBeUndefined();
    expect(cursorsFor(one(HOME, "7"), [])).toBeUndefined();
  });
});

describe("watchAll", () => {
  const cursors = [
    { conversationId: HOME, cursor: 7n },
    { conversationId: CLUB, cursor: 42n },
  ];

  it("watches every group from its own cursor", () => {
    const { watch, watched } = recordingWatch();
    watchAll(watch, cursors, () => undefined);
    expect([...watched].map(([id, w]) => [id, w.cursor])).toEqual([
      [HOME, 7n],
      [CLUB, 42n],
    ]);
  });

  it("a message in the second group wakes it once and unwatches the home", () => {
    const { watch, watched, deliver } = recordingWatch();
    let woke = 0;
    watchAll(watch, cursors, () => woke++);
    deliver(CLUB);
    expect(woke).toBe(1);
    expect(watched.size).toBe(0);
  });

  it("two groups delivered together wake it once", () => {
    const { watch, watched } = recordingWatch();
    let woke = 0;
    watchAll(watch, cursors, () => woke++);
    // Both callbacks taken before either runs: the host's shards deliver each group on its own.
    const callbacks = [...watched.values()].map((w) => w.onMessage);
    for (const onMessage of callbacks) onMessage();
    expect(woke).toBe(1);
    expect(watched.size).toBe(0);
  });
});

/**
 * An agent claimed into HOME and added to CLUB, quiet for a minute, with
 * stand-ins of what a sleep touches; `events` says in which order the node
 * and the groups were asked, and what the agent did.
 */
function quietAgent(opts: { newest?: (groupId: string) => Promise<bigint>; unhandled?: Record<string, number> } = {}) {
  const events: string[] = [];
  const written = new Map<string, unknown>();
  const watched = new Map<string, bigint>();
  const watch: DormancyWatch = {
    newest: async (groupId) => {
      events.push(`newest ${groupId}`);
      return (await opts.newest?.(groupId)) ?? (groupId === HOME ? 7n : 42n);
    },
    watch: (groupId, cursor) => void watched.set(groupId, cursor),
    unwatch: (groupId) => void watched.delete(groupId),
  };
  const conversation = (id: string) => {
    const group = { sync: () => Promise.resolve(void events.push(`sync ${id}`)) };
    return {
      id,
      group,
      current: { conversationId: id, inviteTag: `tag-${id}` },
      unhandled: () => Promise.resolve(opts.unhandled?.[id] ?? 0),
    };
  };
  const ops = {
    pending: 0,
    async run<T>(job: () => Promise<T>): Promise<T> {
      ops.pending++;
      try {
        return await job();
      } finally {
        ops.pending--;
      }
    },
  };
  let state = InstanceState.CLAIMED;
  const parts = {
    id: "inst-two",
    log: createLogger("dormancy-test", { level: "silent" }),
    deps: { dormancy: { afterMs: 1_000, watch } },
    settings: { config: { tools: [] } },
    status: {
      stopped: false,
      get state() {
        return state;
      },
      client: {},
      lastActive: Date.now() - 60_000,
      disconnect: () => void events.push("disconnect"),
      close: () => Promise.resolve(),
      dormant: () => {
        state = InstanceState.DORMANT;
      },
    },
    conversations: {
      all: () => [conversation(HOME), conversation(CLUB)],
      endStreams: () => Promise.resolve(void events.push("end streams")),
      resume: () => Promise.resolve(void events.push("resume")),
      letGo: () => void events.push("let go"),
      forgetHandled: () => undefined,
    },
    turns: { pending: 0, idle: () => Promise.resolve() },
    ops,
    toolbox: { waitingForOwner: false, level: 0, close: () => undefined },
    inheritance: { waiting: false },
    // Its home's invite abandoned when the club's join took over the attempt (state/invites.ts): no reason to stay awake.
    invites: {
      abandoned: [{ tag: `tag-${HOME}`, until: new Date(Date.now() + 60_000).toISOString() }],
      stop: () => Promise.resolve(),
    },
    ws: { writeJson: (name: string, value: unknown) => Promise.resolve(void written.set(name, value)) },
    memory: { drop: () => undefined },
    forgetNonces: () => undefined,
  };
  const dormancy = new Dormancy(parts as unknown as Parts);
  return { dormancy, events, written, watched, state: () => state };
}

describe("Dormancy.sleepIfQuiet, in two conversations", () => {
  it("sleeps with each group's cursor taken before that group's last sync, and watches both", async () => {
    const agent = quietAgent();
    expect(await agent.dormancy.sleepIfQuiet(1_000)).toBe(true);
    expect(agent.state()).toBe(InstanceState.DORMANT);
    for (const id of [HOME, CLUB])
      expect(agent.events.indexOf(`newest ${id}`)).toBeLessThan(agent.events.indexOf(`sync ${id}`));
    expect(agent.events.indexOf("end streams")).toBe(0);
    expect(agent.written.get(DORMANT_FILE)).toEqual({
      conversations: [
        { conversationId: HOME, cursor: "7" },
        { conversationId: CLUB, cursor: "42" },
      ],
      since: expect.any(String),
    });
    expect([...agent.watched]).toEqual([
      [HOME, 7n],
      [CLUB, 42n],
    ]);
  });

  it("stays awake and listens again in both when the node does not answer for one group", async () => {
    const agent = quietAgent({
      newest: (id) => (id === CLUB ? Promise.reject(new Error("unavailable")) : Promise.resolve(7n)),
    });
    expect(await agent.dormancy.sleepIfQuiet(1_000)).toBe(false);
    expect(agent.state()).toBe(InstanceState.CLAIMED);
    expect(agent.events.filter((e) => e === "resume")).toHaveLength(1);
    expect(agent.events).not.toContain("disconnect");
    expect(agent.written.has(DORMANT_FILE)).toBe(false);
    expect(agent.watched.size).toBe(0);
  });

  it("stays awake and listens again in both when a message came at the last moment in the second", async () => {
    const agent = quietAgent({ unhandled: { [CLUB]: 1 } });
    expect(await agent.dormancy.sleepIfQuiet(1_000)).toBe(false);
    expect(agent.state()).toBe(InstanceState.CLAIMED);
    expect(agent.events.filter((e) => e === "resume")).toHaveLength(1);
    expect(agent.events).not.toContain("let go");
    expect(agent.written.has(DORMANT_FILE)).toBe(false);
    expect(agent.watched.size).toBe(0);
  });
});
