// The policy of a request that waits for its conversation's zone
// (zone-wait.ts), pure: fixed instants, no clock, no I/O.
import { describe, expect, it } from "vitest";
import type { Waiting } from "../../tools/schedules/scheduling.js";
import { held, replayed, ZONE_WAIT_MS } from "./zone-wait.js";

const OWNER = "a".repeat(64);
const MEMBER = "b".repeat(64);
const NOW = Date.parse("2026-12-01T09:00:00Z");
const HOUR = 3_600_000;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const said = (sender: string, sentAt?: number): Waiting["said"] => ({
  id: "msg-1",
  senderInboxId: sender,
  content: "remind me in an hour to call Mum",
  ...(sentAt === undefined ? {} : { sentAtNs: ns(sentAt) }),
});

describe("a request that waits for the zone", () => {
  it("waits a day at most", () => {
    expect(ZONE_WAIT_MS).toBe(24 * HOUR);
  });

  it("is held with the instant it was said, or the instant it was heard when its message has none", () => {
    expect(held(said(MEMBER, NOW - 5_000), "member", NOW).said.sentAtNs).toBe(ns(NOW - 5_000));
    expect(held(said(MEMBER), "member", NOW)).toEqual({ said: { ...said(MEMBER), sentAtNs: ns(NOW) }, role: "member" });
  });

  it("is carried out when the zone is set within a day, read from when it was said, not from when the zone came", () => {
    const w = held(said(MEMBER, NOW - 3 * HOUR), "member", NOW - 3 * HOUR);
    expect(replayed(w, { now: NOW, ownerId: OWNER })).toEqual({ kind: "replay", said: w.said, role: "member" });
    // At the bound itself, still.
    expect(replayed(w, { now: NOW - 3 * HOUR + ZONE_WAIT_MS, ownerId: OWNER }).kind).toBe("replay");
  });

  it("is not carried out when the zone comes more than a day after it was said, and the person is asked to ask again", () => {
    const w = held(said(MEMBER, NOW), "member", NOW);
    expect(replayed(w, { now: NOW + ZONE_WAIT_MS + 1, ownerId: OWNER })).toEqual({
      kind: "expired",
      words:
        "This waited more than a day for the conversation's time zone, so I did not carry it out: ask again if you still want it.",
    });
    expect(replayed(w, { now: NOW + 3 * 24 * HOUR, ownerId: OWNER }).kind).toBe("expired");
  });

  it("is heard again as its sender's role is now: an owner's request after a transfer is a member's", () => {
    const w = held(said(OWNER, NOW), "owner", NOW);
    expect(replayed(w, { now: NOW + HOUR, ownerId: OWNER })).toMatchObject({ kind: "replay", role: "owner" });
    expect(replayed(w, { now: NOW + HOUR, ownerId: MEMBER })).toMatchObject({ kind: "replay", role: "member" });
    expect(replayed(w, { now: NOW + HOUR, ownerId: undefined })).toMatchObject({ kind: "replay", role: "member" });
    // A member who has since become the owner asks as the owner.
    const theirs = held(said(MEMBER, NOW), "member", NOW);
    expect(replayed(theirs, { now: NOW + HOUR, ownerId: MEMBER })).toMatchObject({ kind: "replay", role: "owner" });
  });
});
