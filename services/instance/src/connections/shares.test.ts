// What people's phones shared, kept across a restart (shares.ts, kept.ts):
// a real workspace in a temporary directory, sealed with a random key; the
// payloads are made up in the shape Convos' phones send.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionPayload } from "@convos-pool/convos";
import { createLogger } from "@convos-pool/kit/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeConversations } from "../agent/conversation/files.js";
import { conversationFile, Workspace } from "../platform/workspace.js";
import { keptIn } from "./kept.js";
import { repeatedIn } from "./labels.js";
import { keptOf, MAX_KEPT_CHARS, PhoneShares } from "./shares.js";

const ANA = "ana-inbox";
const BEA = "bea-inbox";
const GROUP = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const OTHER = "ffeeddccbbaa99887766554433221100";
const log = createLogger("test", { level: "silent" });

const calendar = (title: string): ConnectionPayload => ({
  id: "P",
  schemaVersion: 1,
  source: "calendar",
  capturedAt: 0,
  body: { type: "calendar", data: { summary: "1 event", events: [{ title, location: "3rd floor at St. Mary's" }] } },
});

let dir: string;
let ws: Workspace;
const key = randomBytes(32);
const keep = (conversationId = GROUP) => keptIn(ws, { conversationId: () => conversationId, key: () => key, log });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "phones-"));
  ws = new Workspace(dir, "agent-1");
  await ws.create();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("what people's phones shared, across a restart", () => {
  it("is remembered: each person's pieces, their parts, and whose phones spoke here", async () => {
    const before = new PhoneShares(keep());
    before.receive(ANA, calendar("Oncology follow-up: ask about the chemo schedule"), new Date("2026-05-01T10:00:00Z"));
    before.heardFrom(BEA, "connection_event", new Date("2026-05-01T11:00:00Z"));
    await before.settled();

    const after = new PhoneShares(keep());
    expect(after.all()).toEqual([]);
    await after.restore();
    expect(after.of(ANA).map((p) => [p.kind, p.capturedAt.toISOString()])).toEqual([
      ["calendar", "2026-05-01T10:00:00.000Z"],
    ]);
    expect(after.withPhones().sort()).toEqual([ANA, BEA]);
    // What it screens against is back too: a reply that repeats a part of it is caught after the restart.
    expect(repeatedIn("She is at St. Mary's for the chemo.", after.all(), "")).toEqual([
      { whose: ANA, kind: "calendar" },
    ]);
  });

  it("is kept in its conversation's folder, sealed: no word of it on disk, and it opens in no other conversation's", async () => {
    const shares = new PhoneShares(keep());
    shares.receive(ANA, calendar("Chemo schedule"), new Date());
    await shares.settled();
    const text = await readFile(ws.path(conversationFile(GROUP, "phones")), "utf8");
    expect(text).not.toMatch(/chemo|mary|ana-inbox/i);
    const moved = await ws.readText(conversationFile(GROUP, "phones"));
    await ws.writeText(conversationFile(OTHER, "phones"), moved!);
    const elsewhere = new PhoneShares(keep(OTHER));
    await elsewhere.restore();
    expect(elsewhere.all()).toEqual([]);
  });

  it("goes with the conversation's folder when the agent is released", async () => {
    const shares = new PhoneShares(keep());
    shares.receive(ANA, calendar("Chemo schedule"), new Date());
    await shares.settled();
    await removeConversations(ws);
    expect(await ws.readText(conversationFile(GROUP, "phones"))).toBeUndefined();
  });

  it("does not take an older piece over a newer one that came since", async () => {
    const before = new PhoneShares(keep());
    before.receive(ANA, calendar("Old title"), new Date("2026-05-01T10:00:00Z"));
    await before.settled();
    const after = new PhoneShares(keep());
    after.receive(ANA, calendar("New title"), new Date("2026-05-02T10:00:00Z"));
    await after.restore();
    expect(after.of(ANA)[0]!.data).toContain("New title");
  });

  it("keeps the newest pieces that fit its size, and whose phones spoke whatever the size", () => {
    const shares = new PhoneShares();
    const big = "x".repeat(3_000);
    for (let i = 0; i < 40; i++)
      shares.receive(`person-${i}`, calendar(`${big} ${i}`), new Date(Date.UTC(2026, 4, 1, 0, i)));
    const kept = shares.kept();
    expect(JSON.stringify(kept.pieces).length).toBeLessThanOrEqual(MAX_KEPT_CHARS);
    expect(kept.pieces[0]!.from).toBe("person-39");
    expect(kept.pieces.length).toBeLessThan(40);
    expect(Object.keys(kept.phones)).toHaveLength(40);
  });

  it("reads nothing from a file of another version, or damaged", () => {
    expect(keptOf({ v: 2, phones: {}, pieces: [] })).toBeUndefined();
    expect(keptOf({ v: 1, phones: {}, pieces: [{ from: ANA }] })).toEqual({ v: 1, phones: {}, pieces: [] });
  });
});
