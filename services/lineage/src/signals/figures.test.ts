// What a creator reads of their template's counts (figures.ts), in
// memory: the threshold (conversations, not agents, each once), an owner's
// weight, the creator's own agents apart.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  FIGURES,
  FREE_PART,
  MAX_OVER_NEXT,
  MIN_CONVERSATIONS,
  capLargest,
  conversationsOf,
  creatorView,
  type AgentDay,
} from "./figures.js";

const CREATOR = "creator";
const count = fc.nat({ max: 1000 });
const counts = fc.record({
  answers: count,
  people: count,
  thumbsUp: count,
  thumbsDown: count,
  corrections: count,
  forgetRequests: count,
  approvalsAsked: count,
  approvalsDeclined: count,
  toolCallsFailed: count,
  pauses: count,
  stopRequests: count,
  pinned: fc.boolean(),
});
const CONVERSATIONS = ["c1", "c2", "c3", "c4", "c5", "c6", "c7"];
/**
 * Agents of a few owners (the creator among them) in a few conversations
 * (some shared, some agents in several, some in none the feed said), over
 * two versions and two days.
 */
const agentDays = fc
  .array(
    fc.record({
      ownerId: fc.constantFrom(CREATOR, "ana", "bo", "cy", "di", "ed", "fay"),
      conversationId: fc.constantFrom(...CONVERSATIONS, ""),
      conversationIds: fc.option(fc.subarray(CONVERSATIONS), { nil: undefined }),
      version: fc.constantFrom("6", "7"),
      day: fc.constantFrom("2026-11-25", "2026-11-26"),
      counts,
    }),
    { maxLength: 40 },
  )
  .map((rows): AgentDay[] => rows.map((r, i) => ({ ...r, instanceId: `inst_${i}` })));

const ZERO: AgentDay["counts"] = {
  answers: 0,
  people: 0,
  thumbsUp: 0,
  thumbsDown: 0,
  corrections: 0,
  forgetRequests: 0,
  approvalsAsked: 0,
  approvalsDeclined: 0,
  toolCallsFailed: 0,
  pauses: 0,
  stopRequests: 0,
  pinned: false,
};

const key = (d: { version: string; day: string }) => `${d.day}/${d.version}`;
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

describe("a creator's view of their template's days", () => {
  test.prop([agentDays])(
    "a day of agents in fewer than MIN_CONVERSATIONS conversations never shows figures, however many agents",
    (rows) => {
      const view = creatorView(rows, CREATOR);
      for (const [d, mine] of [
        ...view.days.map((d) => [d, false] as const),
        ...view.ownDays.map((d) => [d, true] as const),
      ]) {
        const here = rows.filter((r) => (r.ownerId === CREATOR) === mine && key(r) === key(d));
        const conversations = new Set(
          here.flatMap((r) =>
            r.conversationIds?.length ? r.conversationIds : [r.conversationId || `agent:${r.instanceId}`],
          ),
        ).size;
        expect(d.conversations).toBe(conversations);
        if (conversations < MIN_CONVERSATIONS) expect(d.figures).toBeUndefined();
        else expect(d.figures).toBeDefined();
      }
    },
  );

  it("one agent in two conversations counts two; two agents in one count one", () => {
    const agent = (instanceId: string, conversationIds: string[]): AgentDay => ({
      instanceId,
      ownerId: `owner_${instanceId}`,
      conversationId: conversationIds[0] ?? "",
      conversationIds,
      version: "7",
      day: "2026-11-26",
      counts: { ...ZERO, answers: 1 },
    });
    const conversations = (rows: AgentDay[]) => creatorView(rows, CREATOR, 1).days[0]?.conversations;
    expect(conversations([agent("a", ["c1", "c2"])])).toBe(2);
    expect(conversations([agent("a", ["c1"]), agent("b", ["c1"])])).toBe(1);
    expect(conversations([agent("a", ["c1", "c2"]), agent("b", ["c2", "c3"])])).toBe(3);
    // Five conversations of two agents reach the threshold; the figures stay per agent.
    const five = creatorView([agent("a", ["c1", "c2", "c3"]), agent("b", ["c3", "c4", "c5"])], CREATOR).days[0];
    expect(five).toMatchObject({ agents: 2, conversations: 5, owners: 2, figures: { answers: 2 } });
    expect(creatorView([agent("a", ["c1", "c2", "c3"]), agent("b", ["c3", "c4"])], CREATOR).days[0]?.figures).toBe(
      undefined,
    );
  });

  test.prop([agentDays])(
    "a day's conversations are the size of their union: one agent in several or one agent in each counts the same",
    (rows) => {
      // Each agent in several conversations split into one agent per conversation (of the same owner).
      const split = rows.flatMap((r) =>
        (r.conversationIds?.length ?? 0) > 1
          ? r.conversationIds!.map((c, i) => ({ ...r, instanceId: `${r.instanceId}_${i}`, conversationIds: [c] }))
          : [r],
      );
      const conversations = (view: ReturnType<typeof creatorView>) =>
        new Map(
          [...view.days, ...view.ownDays.map((d) => ({ ...d, day: `own ${d.day}` }))].map((d) => [
            key(d),
            d.conversations,
          ]),
        );
      expect(conversations(creatorView(split, CREATOR))).toEqual(conversations(creatorView(rows, CREATOR)));
    },
  );

  it("an agent counts in the conversations the feed says it was in that day, else its home, else one of its own", () => {
    expect(conversationsOf({ conversationId: "home", conversationIds: ["home", "b"] }, "own")).toEqual(["home", "b"]);
    expect(conversationsOf({ conversationId: "home", conversationIds: [] }, "own")).toEqual(["home"]);
    expect(conversationsOf({ conversationId: "home" }, "own")).toEqual(["home"]);
    expect(conversationsOf({ conversationId: "" }, "own")).toEqual(["own"]);
  });

  it("five agents in one conversation show nothing; in five conversations they show", () => {
    const rows = Array.from(
      { length: 5 },
      (_, i): AgentDay => ({
        instanceId: `inst_${i}`,
        ownerId: `owner_${i}`,
        conversationId: "one-conversation",
        version: "7",
        day: "2026-11-26",
        counts: { ...ZERO, answers: 3 },
      }),
    );
    expect(creatorView(rows, CREATOR).days).toEqual([
      { version: "7", day: "2026-11-26", agents: 5, conversations: 1, owners: 5 },
    ]);
    const apart = rows.map((r, i) => ({ ...r, conversationId: `conversation_${i}` }));
    expect(creatorView(apart, CREATOR).days[0]?.figures?.answers).toBe(15);
  });

  test.prop([agentDays, fc.nat({ max: 5 }), fc.nat({ max: 20 })])(
    "an owner's more agents with the same counts never change the figures: an owner counts once",
    (rows, pick, copies) => {
      const others = rows.filter((r) => r.ownerId !== CREATOR);
      const owner = others[pick % Math.max(1, others.length)]?.ownerId;
      if (!owner) return;
      const more = rows.flatMap((r) =>
        r.ownerId === owner
          ? [r, ...Array.from({ length: copies }, (_, i) => ({ ...r, instanceId: `${r.instanceId}_copy${i}` }))]
          : [r],
      );
      const before = new Map(creatorView(rows, CREATOR, 1).days.map((d) => [key(d), d]));
      for (const d of creatorView(more, CREATOR, 1).days) {
        const b = before.get(key(d));
        expect(d.owners).toBe(b?.owners);
        for (const f of [...FIGURES, "pinned"] as const) expect(close(d.figures![f], b!.figures![f]), f).toBe(true);
      }
    },
  );

  test.prop([agentDays])("no owner weighs more than one agent that counts their most", (rows) => {
    const view = creatorView(rows, CREATOR, 1);
    for (const d of view.days) {
      const here = rows.filter((r) => r.ownerId !== CREATOR && key(r) === key(d));
      const owners = new Set(here.map((r) => r.ownerId));
      for (const f of FIGURES) {
        const bound = [...owners].reduce(
          (sum, o) => sum + Math.max(...here.filter((r) => r.ownerId === o).map((r) => r.counts[f])),
          0,
        );
        expect(d.figures![f]).toBeLessThanOrEqual(bound + 1e-9);
      }
    }
  });

  test.prop([agentDays, agentDays])(
    "the creator's own agents are never in the figures others' agents make, however many",
    (rows, extra) => {
      const mine = extra.map((r, i) => ({ ...r, ownerId: CREATOR, instanceId: `mine_${i}` }));
      expect(creatorView([...rows, ...mine], CREATOR).days).toEqual(creatorView(rows, CREATOR).days);
    },
  );

  it("five agents of three owners: each owner's agents averaged, then summed; the creator's apart", () => {
    const day = (instanceId: string, ownerId: string, answers: number, pinned = false): AgentDay => ({
      instanceId,
      ownerId,
      conversationId: `in_${instanceId}`,
      version: "7",
      day: "2026-11-26",
      counts: { ...ZERO, answers, people: 1, pinned },
    });
    const rows = [
      day("a1", "ana", 10),
      day("a2", "ana", 30, true),
      day("a3", "ana", 20),
      day("b1", "bo", 5),
      day("c1", "cy", 1),
      day("m1", CREATOR, 100),
    ];
    const view = creatorView(rows, CREATOR);
    expect(view.days).toEqual([
      {
        version: "7",
        day: "2026-11-26",
        agents: 5,
        conversations: 5,
        owners: 3,
        figures: expect.objectContaining({ answers: 20 + 5 + 1, people: 3, pinned: 1 / 9 }),
      },
    ]);
    expect(view.ownDays).toEqual([{ version: "7", day: "2026-11-26", agents: 1, conversations: 1, owners: 1 }]);
    expect(creatorView(rows.slice(1), CREATOR).days[0]?.figures).toBeUndefined();
  });
});

describe("capLargest", () => {
  it("cuts one conversation's flood to twice the next and two, and leaves a day where none stands out", () => {
    expect(capLargest([1, 1, 1, 1, 500])).toEqual([1, 1, 1, 1, 4]);
    expect(capLargest([0, 0, 0, 0, 500])).toEqual([0, 0, 0, 0, 2]);
    expect(capLargest([0, 0, 0, 0, 2])).toEqual([0, 0, 0, 0, 2]);
    expect(capLargest([3, 4, 5, 6, 7, 8])).toEqual([3, 4, 5, 6, 7, 8]);
    // Two that agree are two.
    expect(capLargest([0, 0, 500, 500])).toEqual([0, 0, 500, 500]);
  });

  it("cuts only the largest part, never raises one, and keeps a day where it is within bounds (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 40 }), (values) => {
        const capped = capLargest(values);
        const [first = 0, second = 0] = [...values].sort((a, b) => b - a);
        const bound = MAX_OVER_NEXT * second + FREE_PART;
        for (const [i, c] of capped.entries()) {
          expect(c).toBeLessThanOrEqual(values[i]!);
          expect(c).toBeLessThanOrEqual(Math.max(bound, second));
          if (values[i]! < first) expect(c).toBe(values[i]);
        }
        if (first <= bound) expect(capped).toEqual(values);
      }),
    );
  });

  it("one owner's flood counts twice the next owner's and two, however big", () => {
    const day = (flood: number): AgentDay[] =>
      ["a", "b", "c", "d", "e", "f"].map((o, i) => ({
        instanceId: `inst_${o}`,
        ownerId: o,
        conversationId: `conv-${o}`,
        version: "7",
        day: "2026-11-26",
        counts: { ...ZERO, answers: 10, thumbsDown: i === 0 ? flood : 1 },
      }));
    expect(creatorView(day(1), "creator").days[0]!.figures!.thumbsDown).toBe(6);
    expect(creatorView(day(500), "creator").days[0]!.figures!.thumbsDown).toBe(5 + 4);
    expect(creatorView(day(500), "creator").days[0]!.figures!.answers).toBe(60);
  });

  it("one conversation's stops, and one owner's pauses, are cut the same way: people give them, not the agent", () => {
    const day = (flood: Partial<AgentDay["counts"]>): AgentDay[] =>
      ["a", "b", "c", "d", "e", "f"].map((o, i) => ({
        instanceId: `inst_${o}`,
        ownerId: o,
        conversationId: `conv-${o}`,
        version: "7",
        day: "2026-11-26",
        counts: { ...ZERO, answers: 10, stopRequests: 1, pauses: 1, ...(i === 0 ? flood : {}) },
      }));
    expect(creatorView(day({}), "creator").days[0]!.figures).toMatchObject({ stopRequests: 6, pauses: 6 });
    expect(creatorView(day({ stopRequests: 500, pauses: 50 }), "creator").days[0]!.figures).toMatchObject({
      stopRequests: 5 + 4,
      pauses: 5 + 4,
      answers: 60,
    });
  });
});
