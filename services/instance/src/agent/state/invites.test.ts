import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeAppData } from "@convos-pool/convos";
import { createLogger } from "@convos-pool/kit/server";
import { FILES, Workspace } from "../../platform/workspace.js";
import type { AgentClient } from "../../platform/xmtp.js";
import { ABANDONED_INVITE_TTL_MS, abandonInvite, InviteGuard, type InvitesFile, retirement } from "./invites.js";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

describe("abandonInvite", () => {
  it("is watched until the invite's own expiry, or for the TTL when it names none", () => {
    expect(abandonInvite({ tag: "a", creatorInboxId: "c", expiresAt: iso(NOW + 5_000) }, NOW).until).toBe(
      iso(NOW + 5_000),
    );
    expect(abandonInvite({ tag: "a", creatorInboxId: "c" }, NOW).until).toBe(iso(NOW + ABANDONED_INVITE_TTL_MS));
  });
});

describe("retirement: what a destroyed instance still watches", () => {
  it("nothing when it never asked to join anything", () => {
    expect(retirement(undefined, NOW)).toEqual({ file: { abandoned: [] } });
    expect(retirement({ abandoned: [] }, NOW)).toEqual({ file: { abandoned: [] } });
  });

  it("its current claim's invite, never released (a claim swept after its process died), is watched too", () => {
    const r = retirement(
      { attempt: { tag: "now", creatorInboxId: "c", expiresAt: iso(NOW + 60_000) }, abandoned: [] },
      NOW,
    );
    expect(r.file).toEqual({ abandoned: [{ tag: "now", creatorInboxId: "c", until: iso(NOW + 60_000) }] });
    expect(r.until).toBe(iso(NOW + 60_000));
  });

  it("an attempt already abandoned is not counted twice; expired invites are dropped; it watches until the latest", () => {
    const r = retirement(
      {
        attempt: { tag: "b", creatorInboxId: "c" },
        abandoned: [
          { tag: "old", creatorInboxId: "c", until: iso(NOW - 1) },
          { tag: "a", creatorInboxId: "c", until: iso(NOW + 10_000) },
          { tag: "b", creatorInboxId: "c", until: iso(NOW + 20_000) },
        ],
      },
      NOW,
    );
    expect(r.file.abandoned.map((a) => a.tag)).toEqual(["a", "b"]);
    expect(r.file.attempt).toBeUndefined();
    expect(r.until).toBe(iso(NOW + 20_000));
  });

  it("only expired invites: nothing to watch, the workspace can go", () => {
    const r = retirement(
      {
        attempt: { tag: "x", creatorInboxId: "c", expiresAt: iso(NOW) },
        abandoned: [{ tag: "y", creatorInboxId: "c", until: iso(NOW - 5) }],
      },
      NOW,
    );
    expect(r).toEqual({ file: { abandoned: [] } });
  });
});

describe("InviteGuard: a group of an abandoned invite", () => {
  it("is left by the backstop sync when its stream never brings it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "invite-guard-"));
    const ws = new Workspace(dir, "inst");
    await ws.create();
    await ws.writeJson(FILES.invites, {
      abandoned: [{ tag: "late", creatorInboxId: "c", until: iso(Date.now() + 60_000) }],
    } satisfies InvitesFile);
    const removed: string[] = [];
    const group = (id: string, tag: string) => ({
      id,
      appData: writeAppData({ tag }),
      isActive: true,
      addedByInboxId: "c",
      isPendingRemoval: () => false,
      requestRemoval: async () => void removed.push(id),
    });
    let groups = [group("other", "mine")];
    // A stream that is open and never yields: what a missed welcome looks like from here.
    const silent = { end: () => undefined, [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }) };
    const client = {
      conversations: { streamGroups: async () => silent, sync: async () => undefined, listGroups: () => groups },
    } as unknown as AgentClient;
    const log = createLogger("test", { level: "error", sink: () => undefined });
    const guard = new InviteGuard(ws, log, { mine: () => false, retryMs: 1_000, sweepMs: 50 });
    try {
      await guard.open(client);
      expect(removed).toEqual([]);
      groups = [...groups, group("added-late", "late")];
      await expect.poll(() => removed, { timeout: 2_000, interval: 20 }).toEqual(["added-late"]);
    } finally {
      await guard.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("InviteGuard: the invites of conversations its owner added it to", () => {
  const at = (tag: string) => ({ tag, creatorInboxId: "c" });

  /** A guard over a fresh workspace with no client (nothing streamed): what invites.json holds after each step. */
  async function guarded(steps: (guard: InviteGuard) => Promise<void>): Promise<InvitesFile | undefined> {
    const dir = await mkdtemp(join(tmpdir(), "invite-guard-"));
    const ws = new Workspace(dir, "inst");
    await ws.create();
    const log = createLogger("test", { level: "error", sink: () => undefined });
    const guard = new InviteGuard(ws, log, { mine: () => false, retryMs: 1_000 });
    try {
      await steps(guard);
      return await ws.readJson<InvitesFile>(FILES.invites);
    } finally {
      await guard.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }

  it("an added conversation's invite leaves the claim's its own: nothing is abandoned while it is in both", async () => {
    const file = await guarded(async (g) => {
      await g.attempt(at("home"));
      await g.attemptAdded(at("club"));
    });
    expect(file).toEqual({ attempt: at("home"), added: [at("club")], abandoned: [] });
  });

  it("a join that gave up is watched (its request may still be answered); a conversation left is not", async () => {
    const file = await guarded(async (g) => {
      await g.attempt(at("home"));
      await g.attemptAdded(at("gave-up"));
      await g.attemptAdded(at("left"));
      await g.doneWith("gave-up", false);
      await g.doneWith("left", true);
    });
    expect(file?.added).toEqual([]);
    expect(file?.abandoned.map((a) => a.tag)).toEqual(["gave-up"]);
  });

  it("a Release, and a new claim after a lost one, abandon the claim's invite and every added one", async () => {
    const released = await guarded(async (g) => {
      await g.attempt(at("home"));
      await g.attemptAdded(at("club"));
      await g.release();
    });
    expect(released?.abandoned.map((a) => a.tag).sort()).toEqual(["club", "home"]);
    expect(released?.added ?? []).toEqual([]);
    const reclaimed = await guarded(async (g) => {
      await g.attempt(at("home"));
      await g.attemptAdded(at("club"));
      await g.attempt(at("next"));
    });
    expect(reclaimed?.attempt).toEqual(at("next"));
    expect(reclaimed?.abandoned.map((a) => a.tag).sort()).toEqual(["club", "home"]);
  });

  it("a destroyed instance watches its added invites too", () => {
    const r = retirement({ attempt: at("home"), added: [at("club")], abandoned: [] }, NOW);
    expect(r.file.abandoned.map((a) => a.tag)).toEqual(["home", "club"]);
  });
});
