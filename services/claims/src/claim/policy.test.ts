// Who may do what to an agent (policy.ts), pure: no database, no services.
// Agents, offers and templates are plain values as the rows give them;
// fast-check walks every owner, caller and state for the rules that hold
// for all of them (a stranger learns nothing, a dead agent is nobody's).
import fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { TemplateSchema, TemplateStatus, Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  callersLiveAgent,
  checkCloneParent,
  checkDashboardReader,
  checkOwnerListing,
  isLive,
  LIVE_STATES,
  noOpenOffer,
  openOfferFor,
  readableBy,
  shownTo,
  REPORTED_JOIN_FAILURES,
  rolledBackTo,
  withdrawerOf,
} from "./policy.js";
import type { Stage } from "./errors.js";

const ALICE = "a".repeat(64);
const BOB = "b".repeat(64);
const CAROL = "c".repeat(64);
const ID = "inst_AAAAAAAAAAAAAAAA";
const STATES = ["starting", "idle", "claiming", "claimed", "crashed", "dead"];

const inbox = fc.constantFrom(ALICE, BOB, CAROL);
const agent = fc.record({
  ownerId: fc.option(inbox, { nil: null }),
  state: fc.constantFrom(...STATES),
  pendingTransfer: fc.option(fc.record({ newOwnerId: inbox }), { nil: null }),
});

/** The code a call refused with; undefined when it was allowed. */
function refusal(fn: () => unknown): Code | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe("the owner's live agent", () => {
  it("names its live states: claimed, and crashed (its host lost it for now)", () => {
    expect(LIVE_STATES).toEqual(["claimed", "crashed"]);
    expect(STATES.filter(isLive)).toEqual(["claimed", "crashed"]);
  });

  it("is the caller's only when the caller owns it and it is live, and every refusal is NOT_FOUND", () => {
    fc.assert(
      fc.property(fc.option(agent, { nil: undefined }), inbox, (a, caller) => {
        const code = refusal(() => callersLiveAgent(ID, a, caller));
        const allowed = a !== undefined && a.ownerId === caller && isLive(a.state);
        // A stranger is told what a missing agent gets: never that it exists.
        expect(code).toBe(allowed ? undefined : Code.NotFound);
        if (allowed) expect(callersLiveAgent(ID, a, caller).ownerId).toBe(caller);
      }),
    );
  });
});

describe("who reads an agent", () => {
  it("its owner and the inbox it is offered to, nobody else, and nobody one without an owner", () => {
    fc.assert(
      fc.property(agent, inbox, (a, caller) => {
        const reads = readableBy(a, caller);
        if (a.ownerId === null) expect(reads).toBe(false);
        else expect(reads).toBe(caller === a.ownerId || caller === a.pendingTransfer?.newOwnerId);
      }),
    );
    expect(readableBy(undefined, ALICE)).toBe(false);
  });

  it("lists 'My agents' to their owner signed in only", () => {
    expect(refusal(() => checkOwnerListing(ALICE, ALICE))).toBeUndefined();
    expect(refusal(() => checkOwnerListing(ALICE, undefined))).toBe(Code.Unauthenticated);
    expect(refusal(() => checkOwnerListing(ALICE, BOB))).toBe(Code.PermissionDenied);
    expect(refusal(() => checkOwnerListing("nobody", ALICE))).toBe(Code.InvalidArgument);
  });
});

describe("a transfer offer", () => {
  it("is accepted by the inbox it was made to (or a signature alone), and is NOT_FOUND to everyone else", () => {
    fc.assert(
      fc.property(agent, fc.option(inbox, { nil: undefined }), (a, caller) => {
        const code = refusal(() => openOfferFor(ID, a, caller));
        const offer = a.pendingTransfer;
        const allowed = !!offer && a.ownerId !== null && (caller === undefined || caller === offer.newOwnerId);
        expect(code).toBe(allowed ? undefined : Code.NotFound);
      }),
    );
  });

  it("that is not there: the owner's session learns why, anyone else is told NOT_FOUND", () => {
    const a = { ownerId: ALICE, pendingTransfer: null };
    expect(noOpenOffer(ID, a, ALICE).code).toBe(Code.FailedPrecondition);
    for (const caller of [BOB, undefined]) expect(noOpenOffer(ID, a, caller).code).toBe(Code.NotFound);
    expect(noOpenOffer(ID, undefined, ALICE).code).toBe(Code.NotFound);
  });
});

describe("a creator's dashboard", () => {
  const template = (visibility: Visibility) =>
    create(TemplateSchema, { id: "tmpl_AAAAAAAAAAAAAAAA", creatorId: BOB, visibility, status: TemplateStatus.ACTIVE });

  it("is its creator's; someone else's private template is NOT_FOUND, a public one PERMISSION_DENIED", () => {
    expect(refusal(() => checkDashboardReader("t", template(Visibility.PRIVATE), BOB))).toBeUndefined();
    expect(refusal(() => checkDashboardReader("t", template(Visibility.PUBLIC), BOB))).toBeUndefined();
    expect(refusal(() => checkDashboardReader("t", template(Visibility.PRIVATE), ALICE))).toBe(Code.NotFound);
    expect(refusal(() => checkDashboardReader("t", template(Visibility.PUBLIC), ALICE))).toBe(Code.PermissionDenied);
  });
});

describe("a withdrawal from the agent's wallet", () => {
  it("is its owner's, in any state (a removed agent keeps its owner); none is NOT_FOUND, another session PERMISSION_DENIED", () => {
    fc.assert(
      fc.property(agent, fc.option(inbox, { nil: undefined }), (a, caller) => {
        const code = refusal(() => withdrawerOf(ID, a, caller));
        if (a.ownerId === null) expect(code).toBe(Code.NotFound);
        else expect(code).toBe(caller === undefined || caller === a.ownerId ? undefined : Code.PermissionDenied);
      }),
    );
  });
});

describe("a clone's parent", () => {
  const parent = { id: ID, state: "claimed", ownerId: ALICE as string | null, templateId: "tmpl_X" as string | null };

  it("is the requester's live agent running now, and the clone runs its template", () => {
    expect(checkCloneParent(ID, parent, ALICE, "tmpl_X")).toMatchObject({ ownerId: ALICE, templateId: "tmpl_X" });
    for (const p of [
      undefined,
      { ...parent, ownerId: BOB },
      { ...parent, state: "dead" },
      { ...parent, templateId: null },
    ])
      expect(refusal(() => checkCloneParent(ID, p, ALICE, "tmpl_X"))).toBe(Code.NotFound);
    expect(refusal(() => checkCloneParent(ID, { ...parent, state: "crashed" }, ALICE, "tmpl_X"))).toBe(
      Code.FailedPrecondition,
    );
    expect(refusal(() => checkCloneParent(ID, parent, ALICE, "tmpl_Y"))).toBe(Code.InvalidArgument);
  });
});

describe("what a rolled-back claim leaves", () => {
  const stage = fc.constantFrom<Stage>("provision", "configure", "join", "complete");
  const cause = fc.oneof(
    fc
      .constantFrom(...Object.values(Code).filter((c): c is Code => typeof c === "number"))
      .map((code) => new ConnectError("failed", code)),
    fc.constant(new Error("not a ConnectError")),
  );

  it("is idle only when nothing of the claim can be left on it; every other instance is dead", () => {
    fc.assert(
      fc.property(stage, fc.boolean(), fc.boolean(), cause, (s, released, toolsReleased, err) => {
        const to = rolledBackTo(s, { released, toolsReleased, cause: err });
        // A tool not given back keeps it dead, whatever the stage.
        if (!toolsReleased) expect(to).toBe("dead");
        // Contacted and not released: it may hold the claim's state.
        if (s !== "provision" && !released) expect(to).toBe("dead");
        // Joined, or failed in a way its host did not report: the pool replaces it.
        if (s === "complete") expect(to).toBe("dead");
        if (s === "join" && to === "idle")
          expect(err instanceof ConnectError && REPORTED_JOIN_FAILURES.includes(err.code)).toBe(true);
      }),
    );
  });

  it("gives back to the pool an instance never contacted, one configured and released, one whose join it reported", () => {
    const ok = { released: true, toolsReleased: true };
    expect(rolledBackTo("provision", { ...ok, released: false, cause: new Error("x") })).toBe("idle");
    expect(rolledBackTo("configure", { ...ok, cause: new Error("x") })).toBe("idle");
    for (const code of REPORTED_JOIN_FAILURES)
      expect(rolledBackTo("join", { ...ok, cause: new ConnectError("x", code) })).toBe("idle");
    expect(rolledBackTo("join", { ...ok, cause: new ConnectError("x", Code.Unavailable) })).toBe("dead");
  });
});

describe("shownTo", () => {
  it("tells the names of its home and of each of its conversations to the agent's owner only", () => {
    const owner = "0a".repeat(32);
    fc.assert(
      fc.property(
        fc.string(),
        fc.array(fc.string()),
        fc.constantFrom(owner, "0b".repeat(32), ""),
        (name, names, caller) => {
          const conversations = names.map((n, i) => ({ name: n, id: `c${i}` }));
          const agent = { ownerId: owner, conversationName: name, conversations, id: "inst_x" };
          const shown = shownTo(agent, caller);
          expect(shown.conversationName).toBe(caller === owner ? name : "");
          expect(shown.conversations).toEqual(
            conversations.map((c) => ({ ...c, name: caller === owner ? c.name : "" })),
          );
          expect(shown.id).toBe("inst_x");
        },
      ),
    );
  });
});
