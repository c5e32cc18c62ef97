// One agent in several conversations, the pool's rules (policy.ts): pure,
// in memory, no database and no host.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  AddToConversationRequestSchema,
  RemoveFromConversationRequestSchema,
  SetParticipationRequestSchema,
} from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import {
  AgentConversationState,
  ConversationTools,
  ParticipationMode,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { limitExceededOf } from "@convos-pool/kit/server";
import {
  checkAddition,
  checkConversationCap,
  checkNotThere,
  checkParticipationIn,
  checkRemoval,
  checkRunning,
  CONVERSATIONS_LIMIT,
  nextHome,
  participationTarget,
  planRemoval,
  settleStale,
  type ConversationRow,
} from "./policy.js";

const refusal = (f: () => unknown): ConnectError => {
  try {
    f();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("not refused");
};
const fields = (err: ConnectError) => fieldViolations(err).map((v) => v.field);

const ID = "inst_0123456789abcdef";
const HOME = "aa".repeat(16);
const TRIP = "bb".repeat(16);
const FAMILY = "cc".repeat(16);

const row = (over: Partial<ConversationRow>): ConversationRow => ({
  addId: `add_${over.conversationId ?? "x"}`,
  conversationId: "",
  conversationKey: null,
  home: false,
  state: "joined",
  joinedAt: new Date("2026-11-01T00:00:00Z"),
  ...over,
});
const home = row({ conversationId: HOME, conversationKey: "creator/home", home: true, addId: "clm_1" });
const trip = row({
  conversationId: TRIP,
  conversationKey: "creator/trip",
  joinedAt: new Date("2026-11-02T00:00:00Z"),
});
const family = row({
  conversationId: FAMILY,
  conversationKey: "creator/family",
  joinedAt: new Date("2026-11-03T00:00:00Z"),
});

describe("an addition's fields", () => {
  it("fills in what the owner signs: participation by the conversation's size, tools shared", () => {
    const asked = checkAddition(
      create(AddToConversationRequestSchema, { instanceId: ID, conversationInvite: "  https://x/v2?i=abc  " }),
    );
    expect(asked).toEqual({
      instanceId: ID,
      invite: "https://x/v2?i=abc",
      participation: { mode: ParticipationMode.UNSPECIFIED, cooldownSeconds: 0 },
      tools: ConversationTools.SHARED,
      confirmSecondAgent: false,
    });
  });

  it("refuses a missing or malformed field with INVALID_ARGUMENT naming it", () => {
    const add = (over: object) =>
      refusal(() =>
        checkAddition(create(AddToConversationRequestSchema, { instanceId: ID, conversationInvite: "x", ...over })),
      );
    for (const [over, field] of [
      [{ instanceId: "" }, "instance_id"],
      [{ instanceId: "inst_short" }, "instance_id"],
      [{ conversationInvite: "   " }, "conversation_invite"],
      // A group id where the invite goes: REST's body refuses it by the same rule.
      [{ conversationInvite: "ab".repeat(16) }, "conversation_invite"],
      [{ tools: 7 }, "tools"],
      [{ participation: { mode: 9 } }, "participation.mode"],
    ] as const) {
      const err = add(over);
      expect(err.code, field).toBe(Code.InvalidArgument);
      expect(fields(err), field).toEqual([field]);
    }
  });

  it("names every bad field of an addition at once", () => {
    const err = refusal(() =>
      checkAddition(
        create(AddToConversationRequestSchema, {
          instanceId: "",
          conversationInvite: " ",
          participation: { mode: 9 as ParticipationMode, cooldownSeconds: 86_401 },
          tools: 7 as ConversationTools,
        }),
      ),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fields(err)).toEqual([
      "instance_id",
      "conversation_invite",
      "participation.mode",
      "participation.cooldown_seconds",
      "tools",
    ]);
  });

  it("refuses a removal without a group id, or with something else, naming conversation_id", () => {
    for (const conversationId of ["", "not-hex", "ab"]) {
      const err = refusal(() =>
        checkRemoval(create(RemoveFromConversationRequestSchema, { instanceId: ID, conversationId })),
      );
      expect(err.code).toBe(Code.InvalidArgument);
      expect(fields(err)).toEqual(["conversation_id"]);
    }
    expect(checkRemoval(create(RemoveFromConversationRequestSchema, { instanceId: ID, conversationId: TRIP }))).toEqual(
      { instanceId: ID, conversationId: TRIP },
    );
  });

  it("names both bad ids of a removal at once", () => {
    const err = refusal(() =>
      checkRemoval(create(RemoveFromConversationRequestSchema, { instanceId: "", conversationId: "ab" })),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fields(err)).toEqual(["instance_id", "conversation_id"]);
  });
});

describe("who may be added where", () => {
  it("adds only a running agent: a crashed one is refused with FAILED_PRECONDITION", () => {
    expect(() => checkRunning("claimed")).not.toThrow();
    expect(refusal(() => checkRunning("crashed")).code).toBe(Code.FailedPrecondition);
  });

  it("refuses a conversation the agent is in, naming conversation_invite and the conversation", () => {
    const err = refusal(() => checkNotThere([home, trip], "creator/trip"));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(fields(err)).toEqual(["conversation_invite"]);
    expect(err.rawMessage).toContain(TRIP);
    // One it left may be joined again.
    expect(() => checkNotThere([home, { ...trip, state: "left" }], "creator/trip")).not.toThrow();
  });

  it("takes one addition of an agent at a time, whichever conversation", () => {
    const joining = row({ conversationKey: "creator/family", state: "joining", joinedAt: null });
    expect(refusal(() => checkNotThere([home, joining], "creator/family")).rawMessage).toContain("already");
    const other = refusal(() => checkNotThere([home, joining], "creator/trip"));
    expect(fields(other)).toEqual(["conversation_invite"]);
    expect(other.rawMessage).toContain("another conversation");
  });

  it("caps an agent's conversations, the home and those joining counted, with RESOURCE_EXHAUSTED naming agents.conversations", () => {
    const joining = row({ state: "joining", joinedAt: null });
    expect(() => checkConversationCap([home, trip], 3)).not.toThrow();
    const err = refusal(() => checkConversationCap([home, trip, joining], 3));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(limitExceededOf(err)?.limit).toBe(CONVERSATIONS_LIMIT);
    expect(CONVERSATIONS_LIMIT).toBe("agents.conversations");
    // Left ones do not count; no cap, no refusal.
    expect(() => checkConversationCap([home, trip, { ...family, state: "left" }], 3)).not.toThrow();
    expect(() => checkConversationCap([home, trip, joining], undefined)).not.toThrow();
  });
});

describe("a removal", () => {
  it("leaves an added conversation and keeps the home", () => {
    expect(planRemoval([home, trip], TRIP)).toEqual({ leaving: trip, newHome: undefined });
  });

  it("leaving the home makes the oldest other joined conversation the home", () => {
    const plan = planRemoval([home, family, trip], HOME);
    expect(plan.leaving).toBe(home);
    expect(plan.newHome).toBe(trip);
  });

  it("refuses the agent's last conversation with FAILED_PRECONDITION naming conversation_id", () => {
    const joining = row({ state: "joining", joinedAt: null });
    const err = refusal(() => planRemoval([home, joining], HOME));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(fields(err)).toEqual(["conversation_id"]);
    expect(err.rawMessage).toContain("RemoveAgent");
  });

  it("refuses a conversation the agent is not in (or only joining) with NOT_FOUND naming conversation_id", () => {
    for (const rows of [
      [home, trip],
      [home, { ...family, state: "joining" as const }],
    ]) {
      const err = refusal(() => planRemoval(rows, FAMILY));
      expect(err.code).toBe(Code.NotFound);
      expect(fields(err)).toEqual(["conversation_id"]);
    }
  });

  it("picks the next home by when each was joined, then the smaller group id", () => {
    const same = new Date("2026-11-05T00:00:00Z");
    expect(
      nextHome([
        { ...family, joinedAt: same },
        { ...trip, joinedAt: same },
      ])?.conversationId,
    ).toBe(TRIP);
    expect(nextHome([family, trip])?.conversationId).toBe(TRIP);
    expect(nextHome([])).toBeUndefined();
  });
});

describe("participation in a named conversation", () => {
  it("checks the ids, naming each, and fills the defaults the owner signs", () => {
    const asked = checkParticipationIn(
      create(SetParticipationRequestSchema, {
        instanceId: ID,
        conversationId: TRIP,
        participation: { mode: ParticipationMode.MENTION },
      }),
    );
    expect(asked).toEqual({
      instanceId: ID,
      conversationId: TRIP,
      participation: { mode: ParticipationMode.MENTION, cooldownSeconds: 0 },
    });
    for (const [req, field] of [
      [{ instanceId: "inst_x!", conversationId: TRIP }, "instance_id"],
      [{ instanceId: ID, conversationId: "TRIP" }, "conversation_id"],
      [{ instanceId: ID, conversationId: "ab" }, "conversation_id"],
    ] as const) {
      const err = refusal(() => checkParticipationIn(create(SetParticipationRequestSchema, req)));
      expect([err.code, err.rawMessage.split(":")[0]]).toEqual([Code.InvalidArgument, field]);
    }
  });

  it("names every bad field of a participation in a named conversation at once", () => {
    const err = refusal(() =>
      checkParticipationIn(
        create(SetParticipationRequestSchema, {
          instanceId: "inst_x!",
          conversationId: "TRIP",
          participation: { mode: 9 as ParticipationMode, cooldownSeconds: 86_401 },
        }),
      ),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fields(err)).toEqual([
      "instance_id",
      "conversation_id",
      "participation.mode",
      "participation.cooldown_seconds",
    ]);
  });

  it("applies to a conversation the agent is in, the home by its id too; one joining, left or elsewhere is NOT_FOUND naming conversation_id", () => {
    expect(participationTarget([home, trip], TRIP)).toBe(trip);
    expect(participationTarget([home, trip], HOME)).toBe(home);
    for (const rows of [
      [home, trip],
      [home, { ...family, state: "joining" as const }],
      [home, { ...family, state: "left" as const }],
    ]) {
      const err = refusal(() => participationTarget(rows, FAMILY));
      expect(err.code).toBe(Code.NotFound);
      expect(fields(err)).toEqual(["conversation_id"]);
    }
  });
});

describe("a stale addition, settled against the agent's host", () => {
  const joined = (conversationId: string) => ({ conversationId, state: AgentConversationState.JOINED });

  it("is joined to the one conversation the host lists and the pool does not know", () => {
    expect(settleStale([home, trip], [joined(HOME), joined(TRIP), joined(FAMILY)])).toEqual({
      kind: "joined",
      conversationId: FAMILY,
    });
  });

  it("is dropped when the host lists nothing new, or does not run the agent", () => {
    expect(settleStale([home, trip], [joined(HOME), joined(TRIP)])).toEqual({ kind: "drop" });
    expect(settleStale([home], undefined)).toEqual({ kind: "drop" });
    // Still asking to be let in is not joined.
    expect(
      settleStale([home], [joined(HOME), { conversationId: FAMILY, state: AgentConversationState.REJOINING }]),
    ).toEqual({
      kind: "drop",
    });
  });

  it("waits, guessing nothing, when the host lists two conversations the pool does not know", () => {
    expect(settleStale([home], [joined(HOME), joined(TRIP), joined(FAMILY)])).toEqual({ kind: "wait" });
  });
});
