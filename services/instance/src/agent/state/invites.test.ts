import { describe, expect, it } from "vitest";
import { ABANDONED_INVITE_TTL_MS, abandonInvite, retirement } from "./invites.js";

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
