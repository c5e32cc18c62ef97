// The warm pool's decisions (policy.ts), pure: no database, no host. Rows
// and listings are written out here, the fill's placements walked by
// fast-check; the manager applying them against real
// PostgreSQL and a stand-in host is manager.int.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  CONVERSATION_NAME_MAX,
  DEFAULT_HOST_CAPACITY,
  decideRow,
  MOVE_BACKOFF_FIRST_SECONDS,
  MOVE_BACKOFF_MAX_SECONDS,
  moveBackoffSeconds,
  mostFreeHost,
  placeInstances,
  planFill,
  shownConversationName,
  strangerStep,
  type HostView,
  type PoolRow,
  type RowAction,
  type StrangerView,
} from "./policy.js";

const row = (state: PoolRow["state"], more: Partial<PoolRow> = {}): PoolRow => ({
  state,
  owned: state === "claimed" || state === "claiming",
  stuck: false,
  ...more,
});
const host = (onHost: InstanceState | undefined, more: Partial<HostView> = {}): HostView => ({
  onHost,
  draining: false,
  wasUnreachable: false,
  ...more,
});
const keep: RowAction = { kind: "keep", back: false };
const { IDLE, CLAIMED, STARTING, CRASHED, DEAD } = InstanceState;

describe("a row's step in a pass", () => {
  const cases: [string, PoolRow, HostView, RowAction][] = [
    ["an idle instance its host runs idle is kept", row("idle"), host(IDLE), keep],
    ["a claimed agent its host runs is kept", row("claimed"), host(CLAIMED), keep],
    [
      "a claimed agent on a host that was unreachable last pass is kept, and back (its pending update becomes due)",
      row("claimed"),
      host(CLAIMED, { wasUnreachable: true }),
      { kind: "keep", back: true },
    ],
    [
      "an idle instance on a host that was unreachable last pass is kept, not back (it has no owner to update)",
      row("idle"),
      host(IDLE, { wasUnreachable: true }),
      keep,
    ],
    [
      "an idle instance its host no longer runs is marked crashed, then replaced",
      row("idle"),
      host(undefined),
      { kind: "crash", next: { kind: "replace" } },
    ],
    [
      "an idle instance its host reports dead is marked crashed, then replaced",
      row("idle"),
      host(DEAD),
      { kind: "crash", next: { kind: "replace" } },
    ],
    [
      "a claimed agent its host reports crashed is marked crashed and kept for its owner",
      row("claimed"),
      host(CRASHED),
      { kind: "crash", next: keep },
    ],
    [
      "a claimed agent its host no longer runs is marked crashed and kept for its owner",
      row("claimed"),
      host(undefined),
      { kind: "crash", next: keep },
    ],
    [
      "a crashed agent with an owner its host runs again recovers to claimed",
      row("crashed", { owned: true }),
      host(CLAIMED),
      { kind: "recover" },
    ],
    [
      "a crashed agent with an owner its host still does not run is kept as it is",
      row("crashed", { owned: true }),
      host(undefined),
      keep,
    ],
    [
      "a crashed agent with an owner its host lists idle recovers to claimed: never put back in the pool",
      row("crashed", { owned: true }),
      host(IDLE),
      { kind: "recover" },
    ],
    [
      "a crashed instance set aside while its host was away, idle there again, goes back to idle",
      row("crashed"),
      host(IDLE),
      { kind: "reidle" },
    ],
    [
      "a crashed instance without an owner its host does not run idle is replaced (dead)",
      row("crashed"),
      host(undefined),
      { kind: "replace" },
    ],
    [
      "a crashed instance without an owner its host runs in another state is replaced",
      row("crashed"),
      host(STARTING),
      { kind: "replace" },
    ],
    ["an idle instance on a draining host is drained", row("idle"), host(IDLE, { draining: true }), { kind: "drain" }],
    ["a claimed agent on a draining host stays where it is", row("claimed"), host(CLAIMED, { draining: true }), keep],
    [
      "an idle instance on a draining host that no longer runs it is marked crashed and replaced, not drained",
      row("idle"),
      host(undefined, { draining: true }),
      { kind: "crash", next: { kind: "replace" } },
    ],
    [
      "an instance set aside while its draining or lost host was away is replaced, not put back into the pool there",
      row("crashed"),
      host(IDLE, { draining: true }),
      { kind: "replace" },
    ],
    ["a starting instance within its start time is kept", row("starting"), host(undefined), keep],
    [
      "a starting instance stuck past its start time that its host runs idle becomes idle from the lost start",
      row("starting", { stuck: true }),
      host(IDLE),
      { kind: "idleFromLostStart" },
    ],
    [
      "a starting instance stuck past its start time that its host does not run is abandoned (dead)",
      row("starting", { stuck: true }),
      host(undefined),
      { kind: "abandonStart" },
    ],
    [
      "a starting instance stuck past its start time that its host reports crashed is abandoned",
      row("starting", { stuck: true }),
      host(CRASHED),
      { kind: "abandonStart" },
    ],
    ["a claiming instance is left to its claim", row("claiming"), host(undefined), keep],
  ];
  it.each(cases)("%s", (_name, r, h, action) => {
    expect(decideRow(r, h)).toEqual(action);
  });
});

describe("placement of new instances", () => {
  const [a, b, c] = [{ url: "a" }, { url: "b" }, { url: "c" }];

  it("places by free places: the host with the smallest share of its size, none on a full one", () => {
    const size = new Map([
      ["a", 10],
      ["b", 40],
      ["c", 5],
    ]);
    expect(
      mostFreeHost(
        [a, b, c],
        new Map([
          ["a", 2],
          ["b", 4],
          ["c", 5],
        ]),
        size,
      ),
    ).toBe(b); // 0.2, 0.1, full
    expect(
      mostFreeHost(
        [a, b, c],
        new Map([
          ["a", 2],
          ["b", 8],
          ["c", 1],
        ]),
        size,
      ),
    ).toBe(a); // 0.2 ties 0.2: the first listed
    expect(
      mostFreeHost(
        [a, c],
        new Map([
          ["a", 10],
          ["c", 5],
        ]),
        size,
      ),
    ).toBeUndefined();
  });

  it("a host that does not say its size holds the default", () => {
    expect(mostFreeHost([a], new Map([["a", DEFAULT_HOST_CAPACITY - 1]]), new Map())).toBe(a);
    expect(mostFreeHost([a], new Map([["a", DEFAULT_HOST_CAPACITY]]), new Map())).toBeUndefined();
  });

  it("spreads new instances to the most free places first, counting each one placed before the next", () => {
    const size = new Map([
      ["a", 4],
      ["b", 12],
    ]);
    const { placements, unplaced } = placeInstances(
      8,
      [a, b],
      new Map([
        ["a", 0],
        ["b", 0],
      ]),
      size,
    );
    expect(placements.map((h) => h.url)).toEqual(["a", "b", "b", "b", "a", "b", "b", "b"]);
    expect(unplaced).toBe(0);
  });

  it("places what fits and counts the rest as unplaced when the hosts fill up", () => {
    const { placements, unplaced } = placeInstances(
      5,
      [a, b],
      new Map([
        ["a", 1],
        ["b", 2],
      ]),
      new Map([
        ["a", 2],
        ["b", 3],
      ]),
    );
    expect(placements.map((h) => h.url)).toEqual(["a", "b"]);
    expect(unplaced).toBe(3);
  });

  it("places nothing when none is asked, and leaves the counts it was given as they were", () => {
    const counts = new Map([["a", 1]]);
    expect(placeInstances(0, [a], counts, new Map())).toEqual({ placements: [], unplaced: 0 });
    placeInstances(3, [a], counts, new Map());
    expect(counts.get("a")).toBe(1);
  });
});

describe("moveBackoffSeconds", () => {
  it(`waits ${MOVE_BACKOFF_FIRST_SECONDS} s after a first failed move, twice as long each time, at most ${MOVE_BACKOFF_MAX_SECONDS} s`, () => {
    expect([1, 2, 3, 4].map(moveBackoffSeconds)).toEqual([5, 10, 20, 40]);
    expect(moveBackoffSeconds(30)).toBe(MOVE_BACKOFF_MAX_SECONDS);
  });
});

describe("a stranger's step (an instance a host runs that is none of its live rows there)", () => {
  const recorded = (more: Partial<StrangerView> = {}): StrangerView => ({
    row: { hostUrl: "http://b", dead: false },
    hereLost: false,
    recordedHere: false,
    recordedConfigured: true,
    recordedLost: false,
    recordedRuns: true,
    ...more,
  });

  it("stops one the pool has no row for and keeps its workspace", () => {
    expect(strangerStep(recorded({ row: undefined }))).toBe("stopKeep");
  });

  it("destroys a dead one, and anything of ours on a lost host", () => {
    expect(strangerStep(recorded({ row: { hostUrl: "http://b", dead: true }, recordedRuns: false }))).toBe("destroy");
    expect(strangerStep(recorded({ hereLost: true, recordedRuns: undefined }))).toBe("destroy");
    expect(strangerStep(recorded({ hereLost: true, recordedConfigured: false }))).toBe("destroy");
  });

  it("follows a host that came back on another address: its row moves here", () => {
    expect(strangerStep(recorded({ recordedConfigured: false, recordedRuns: undefined }))).toBe("adopt");
  });

  it("leaves one whose row came to this host since it was listed (a move that just ended here)", () => {
    expect(strangerStep(recorded({ recordedHere: true }))).toBe("leave");
    expect(strangerStep(recorded({ recordedHere: true, hereLost: true }))).toBe("leave");
  });

  it("leaves a move under way alone: its row is on a lost host, the mover's", () => {
    expect(strangerStep(recorded({ recordedLost: true, recordedRuns: undefined }))).toBe("leave");
    expect(strangerStep(recorded({ recordedLost: true, recordedRuns: true }))).toBe("leave");
  });

  it("destroys a copy left behind where the agent's recorded host runs it, and never takes that host's row", () => {
    expect(strangerStep(recorded())).toBe("destroy");
    expect(strangerStep(recorded({ recordedRuns: false }))).toBe("leave");
    expect(strangerStep(recorded({ recordedRuns: undefined }))).toBe("leave");
  });
});

describe("the fill's placements", () => {
  type Host = { url: string; runtime: "pool" | "openclaw" };
  const hosts = fc.uniqueArray(
    fc.record({ url: fc.constantFrom("h1", "h2", "h3", "h4", "h5"), runtime: fc.constantFrom("pool", "openclaw") }),
    { selector: (h) => h.url, maxLength: 5 },
  );
  const sizes = fc.dictionary(fc.constantFrom("h1", "h2", "h3", "h4", "h5"), fc.integer({ min: 0, max: 12 }));

  it("start what each runtime lacks of the target, on hosts of that runtime, never past a host's size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.record({ pool: fc.nat(25), openclaw: fc.nat(25) }),
        hosts,
        sizes,
        sizes,
        (target, warmBy, open: Host[], countOf, sizeOf) => {
          const warm = new Map(Object.entries(warmBy));
          const counts = new Map(Object.entries(countOf));
          // A host runs at most its size.
          const capacity = new Map(open.map((h) => [h.url, Math.max(sizeOf[h.url] ?? 1, counts.get(h.url) ?? 0)]));
          const plan = planFill(target, warm, open, (h) => h.runtime, counts, capacity);
          for (const runtime of ["pool", "openclaw"] as const) {
            const ofRuntime = open.filter((h) => h.runtime === runtime);
            const placed = plan.placements.filter((p) => p.runtime === runtime);
            const lacking = ofRuntime.length === 0 ? 0 : Math.max(0, target - warmBy[runtime]);
            const unplaced = plan.unplaced.find((u) => u.runtime === runtime)?.missing ?? 0;
            // What the runtime lacks is placed, or said to have no free place: no more, no less.
            expect(placed.length + unplaced).toBe(lacking);
            for (const p of placed) expect(p.host.runtime).toBe(runtime);
            // Something unplaced: every host of the runtime is full once the placed are counted.
            const after = (url: string) =>
              (counts.get(url) ?? 0) + plan.placements.filter((p) => p.host.url === url).length;
            if (unplaced > 0) for (const h of ofRuntime) expect(after(h.url)).toBe(capacity.get(h.url));
          }
          for (const h of open)
            expect((counts.get(h.url) ?? 0) + plan.placements.filter((p) => p.host === h).length).toBeLessThanOrEqual(
              capacity.get(h.url)!,
            );
        },
      ),
    );
  });

  it("says which runtime came short, on how many hosts, by how many", () => {
    const a = { url: "a", runtime: "openclaw" as const };
    const plan = planFill(
      3,
      new Map([["openclaw", 1]]),
      [a],
      (h) => h.runtime,
      new Map([["a", 1]]),
      new Map([["a", 2]]),
    );
    expect(plan.placements).toEqual([{ host: a, runtime: "openclaw" }]);
    expect(plan.unplaced).toEqual([{ runtime: "openclaw", hosts: 1, missing: 1 }]);
  });
});

describe("shownConversationName", () => {
  it("keeps a name as members wrote it, on one line, trimmed", () => {
    expect(shownConversationName("  Tokyo trip 🗼 ")).toBe("Tokyo trip 🗼");
    expect(shownConversationName("Tokyo\n\ttrip\u2028now")).toBe("Tokyo trip now");
    expect(shownConversationName(" \n ")).toBe("");
  });

  it("is never longer than CONVERSATION_NAME_MAX code points, and never holds a line break or a control character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), (name) => {
        const shown = shownConversationName(name);
        expect([...shown].length).toBeLessThanOrEqual(CONVERSATION_NAME_MAX);
        expect(shown).not.toMatch(/[\p{Cc}\p{Zl}\p{Zp}]/u);
        expect(shown).toBe(shown.trim());
      }),
    );
  });
});
