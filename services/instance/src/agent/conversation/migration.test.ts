// A workspace of before conversations.json moved into a folder per
// conversation (migration.ts): the plan alone (pure), the plan applied to a
// map of files standing in for the workspace, with a crash after any of its
// steps, and once on a real workspace in a temporary directory with the
// agent's real memory holder. Nothing else stands in.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterEach, describe, expect, it } from "vitest";
import { conversationFile, FILES, Workspace } from "../../platform/workspace.js";
import { HeldMemory, stampEntries } from "../state/memory.js";
import { readConversations, readHome, readJoin } from "./files.js";
import type { ConversationState } from "./listening.js";
import {
  applyMigration,
  applyStep,
  factsOf,
  type MigrationStore,
  migrateWorkspace,
  OLD_FILES,
  planWorkspaceMigration,
} from "./migration.js";

const GROUP = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8";

const OLD_STATE: ConversationState = {
  conversationId: GROUP,
  inviteTag: "tag-1",
  inviteHash: `0x${"ab".repeat(32)}`,
  joinedAt: "2026-11-01T10:00:00.000Z",
  lastSeenNs: "1764000000000000000",
  doneAfter: [{ id: "m9", sentAtNs: "1764000000000000009" }],
  agents: ["inbox-of-another-agent"],
  creatorInboxId: "inbox-of-the-creator",
  names: { "inbox-of-saul": "Saul" },
  profiled: ["inbox-of-saul"],
};

/** The files of before, as a workspace of then would have them. */
const OLD_FILE_TEXT: Record<string, string> = {
  [FILES.state]: `${JSON.stringify(OLD_STATE)}\n`,
  [FILES.join]: '{"invite":"https://convos.org/v2?i=abc"}\n',
  [FILES.participation]: '{"participation":{"mode":3,"cooldownSeconds":0},"setAt":"2026-11-02T00:00:00.000Z"}\n',
  [FILES.outsideWords]: '["m1","m2"]\n',
};

/** A workspace's files in a map; memory entries are stamped as the agent's memory holder does. */
class MapStore implements MigrationStore {
  constructor(readonly files = new Map<string, string>()) {}
  async readText(name: string) {
    return this.files.get(name);
  }
  async writeText(name: string, text: string) {
    this.files.set(name, text);
  }
  async remove(name: string) {
    this.files.delete(name);
  }
  async stampMemory(conversationId: string) {
    const text = this.files.get(FILES.memory);
    if (text === undefined) return;
    const file = JSON.parse(text) as { entries: { conversationId?: string }[] };
    this.files.set(FILES.memory, JSON.stringify({ ...file, entries: stampEntries(file.entries, conversationId) }));
  }
  snapshot(): Record<string, string> {
    return Object.fromEntries([...this.files].sort(([a], [b]) => a.localeCompare(b)));
  }
}

const MEMORY = JSON.stringify({
  version: 1,
  entries: [
    { id: "mem_a", kind: "personalization", text: "my diet is vegan" },
    { id: "mem_b", kind: "training", text: "confirm dates", conversationId: "0011223344556677" },
  ],
});

function oldWorkspace(names: readonly string[] = OLD_FILES, memory = true): MapStore {
  const store = new MapStore();
  for (const n of names) store.files.set(n, OLD_FILE_TEXT[n]!);
  if (memory) store.files.set(FILES.memory, MEMORY);
  store.files.set(FILES.config, '{"ownerId":"inbox-of-the-owner"}\n');
  return store;
}

describe("the plan of a workspace's migration", () => {
  it("makes the one conversation of state.json the home: its files first, conversations.json last, the old files after", () => {
    const steps = planWorkspaceMigration({ present: new Set(OLD_FILES), oldState: OLD_STATE });
    expect(steps).toEqual([
      {
        kind: "write",
        file: conversationFile(GROUP, "state"),
        value: {
          lastSeenNs: OLD_STATE.lastSeenNs,
          doneAfter: OLD_STATE.doneAfter,
          agents: OLD_STATE.agents,
          names: OLD_STATE.names,
          profiled: OLD_STATE.profiled,
        },
      },
      { kind: "copy", from: FILES.join, to: conversationFile(GROUP, "join") },
      { kind: "copy", from: FILES.participation, to: conversationFile(GROUP, "participation") },
      { kind: "copy", from: FILES.outsideWords, to: conversationFile(GROUP, "outside-words") },
      { kind: "stampMemory", conversationId: GROUP },
      {
        kind: "write",
        file: FILES.conversations,
        value: {
          v: 1,
          home: GROUP,
          conversations: [
            {
              conversationId: GROUP,
              inviteTag: "tag-1",
              inviteHash: OLD_STATE.inviteHash,
              creatorInboxId: "inbox-of-the-creator",
              joinedAt: OLD_STATE.joinedAt,
              tools: "shared",
              state: "joined",
            },
          ],
        },
      },
      { kind: "remove", file: FILES.join },
      { kind: "remove", file: FILES.participation },
      { kind: "remove", file: FILES.outsideWords },
      { kind: "remove", file: FILES.state },
    ]);
  });

  it("with conversations.json written already (a crash after the writes), only removes the old files left", () => {
    const present = new Set([FILES.conversations, FILES.state, FILES.outsideWords]);
    expect(planWorkspaceMigration({ present, oldState: OLD_STATE })).toEqual([
      { kind: "remove", file: FILES.outsideWords },
      { kind: "remove", file: FILES.state },
    ]);
  });

  it("plans nothing for a workspace in the new layout, in no conversation, or whose state.json names no group", () => {
    expect(planWorkspaceMigration({ present: new Set([FILES.conversations]), oldState: undefined })).toEqual([]);
    expect(planWorkspaceMigration({ present: new Set(), oldState: undefined })).toEqual([]);
    // A claim not joined yet may have no state.json: nothing to move, nothing removed.
    expect(planWorkspaceMigration({ present: new Set([FILES.participation]), oldState: undefined })).toEqual([]);
    expect(planWorkspaceMigration({ present: new Set([FILES.state]), oldState: undefined })).toEqual([]);
    for (const conversationId of ["../../etc", "ABCDEF0123456789", "abc"]) {
      expect(
        planWorkspaceMigration({ present: new Set([FILES.state]), oldState: { ...OLD_STATE, conversationId } }),
      ).toEqual([]);
    }
  });

  it("gives memory entries without a conversation the home's, and leaves the others' as they are", () => {
    const stamped = stampEntries([{ id: "a" }, { id: "b", conversationId: "0011223344556677" }], GROUP);
    expect(stamped).toEqual([
      { id: "a", conversationId: GROUP },
      { id: "b", conversationId: "0011223344556677" },
    ]);
  });
});

describe("the migration applied", () => {
  it("moves every file of before into the home's folder, the same text, and a second run does nothing", async () => {
    const store = oldWorkspace();
    await applyMigration(store);
    const after = store.snapshot();
    expect(Object.keys(after).filter((n) => OLD_FILES.includes(n))).toEqual([]);
    expect(after[conversationFile(GROUP, "join")]).toBe(OLD_FILE_TEXT[FILES.join]);
    expect(after[conversationFile(GROUP, "participation")]).toBe(OLD_FILE_TEXT[FILES.participation]);
    expect(after[conversationFile(GROUP, "outside-words")]).toBe(OLD_FILE_TEXT[FILES.outsideWords]);
    const entries = (JSON.parse(after[FILES.memory]!) as { entries: { conversationId: string }[] }).entries;
    expect(entries.map((e) => e.conversationId)).toEqual([GROUP, "0011223344556677"]);
    expect(await applyMigration(store)).toEqual([]);
    expect(store.snapshot()).toEqual(after);
  });

  it("stopped after its writes and run again, ends as one run would", async () => {
    const once = oldWorkspace();
    await applyMigration(once);
    const crashed = oldWorkspace();
    const steps = planWorkspaceMigration(await factsOf(crashed));
    const writes = steps.filter((s) => s.kind !== "remove");
    for (const step of writes) await applyStep(crashed, step);
    // The next start: conversations.json is there, the old files too.
    expect(await factsOf(crashed)).toMatchObject({ present: new Set([FILES.conversations, ...OLD_FILES]) });
    await applyMigration(crashed);
    expect(crashed.snapshot()).toEqual(once.snapshot());
  });

  test.prop([fc.subarray([...OLD_FILES]), fc.boolean(), fc.nat(), fc.boolean()])(
    "whichever files of before exist, a crash after any step and a second start end as one run would",
    async (names, memory, at, crashTwice) => {
      const once = oldWorkspace(names, memory);
      await applyMigration(once);
      const crashed = oldWorkspace(names, memory);
      const steps = planWorkspaceMigration(await factsOf(crashed));
      for (const step of steps.slice(0, steps.length === 0 ? 0 : at % (steps.length + 1)))
        await applyStep(crashed, step);
      if (crashTwice) {
        // The second start crashes too, after its first step.
        const again = planWorkspaceMigration(await factsOf(crashed));
        if (again[0]) await applyStep(crashed, again[0]);
      }
      await applyMigration(crashed);
      expect(crashed.snapshot()).toEqual(once.snapshot());
      // Moved only with a state.json to name the home; then nothing of before stays, and nothing of it is lost.
      const after = once.snapshot();
      if (names.includes(FILES.state)) {
        expect(Object.keys(after).filter((n) => OLD_FILES.includes(n))).toEqual([]);
        for (const [from, kind] of [
          [FILES.join, "join"],
          [FILES.participation, "participation"],
          [FILES.outsideWords, "outside-words"],
        ] as const) {
          expect(after[conversationFile(GROUP, kind)]).toBe(names.includes(from) ? OLD_FILE_TEXT[from] : undefined);
        }
      } else {
        expect(after).toEqual(oldWorkspace(names, memory).snapshot());
      }
    },
  );
});

describe("the migration of a real workspace", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("reads back as the conversation it was, with its invite, its memory stamped, and no file of before left", async () => {
    const dir = await mkdtemp(join(tmpdir(), "migration-"));
    dirs.push(dir);
    const written: string[] = [];
    const ws = new Workspace(dir, "inst_migrating", (name) => written.push(name));
    await ws.create();
    for (const name of OLD_FILES) await ws.writeText(name, OLD_FILE_TEXT[name]!);
    await ws.writeText(FILES.memory, MEMORY);
    const memory = new HeldMemory(ws, () => undefined);

    const steps = await migrateWorkspace(ws, (id) => memory.stampConversation(id));
    expect(steps.length).toBeGreaterThan(0);
    expect(await readHome(ws)).toEqual(OLD_STATE);
    expect(await readJoin(ws, GROUP)).toEqual({ invite: "https://convos.org/v2?i=abc" });
    expect((await readConversations(ws))?.home).toBe(GROUP);
    for (const name of OLD_FILES) expect(await ws.readText(name), name).toBeUndefined();
    const loaded = await memory.load("inbox-of-the-owner");
    expect(loaded.entries.map((e) => e.conversationId)).toEqual([GROUP, "0011223344556677"]);
    // Every file it wrote or removed was heard of, so that the state kept off the host follows (host/vault-sender.ts).
    expect(written).toEqual(
      expect.arrayContaining([FILES.conversations, conversationFile(GROUP, "state"), FILES.state]),
    );
    expect(await migrateWorkspace(ws, (id) => memory.stampConversation(id))).toEqual([]);
  });
});
