// The walls over what a turn in conversation B reads (docs/design/one-agent-many-conversations.md
// 6.2, 6.3), over generated memories of an agent in three conversations (its
// home H, A and B): whatever members of A taught, corrected, disputed, had
// confirmed or marked by someone other than the current owner, none of it is
// in B's view (memoryIn, then each role's Memory.visibleTo), in the system
// prompt of B's turn (model/prompt.ts systemPrompt, capped and not), in the
// origins its tool calls are checked against (turn-origins.ts), or in a clone
// summary made for another conversation (clone/summary.ts cloneSelection, the
// offline summarizer, withProvenance, buildSummary). What the current owner
// taught, confirmed or shared travels to B, and a clone carries it. All real
// code; every entry's text carries a marker of its own, looked for in the
// text of each read. Beside walls.test.ts, which tests the rule entry by entry:
// there is no `walls/` folder, the labels live in memory/walls.ts.
import { create } from "@bufbuild/protobuf";
import { CloneAuthorizationSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { turnOrigins } from "../agent/conversation/turn-origins.js";
import { buildSummary, cloneSelection } from "../clone/summary.js";
import { PROMPT_LIMITS, UNCAPPED } from "../model/caps.js";
import { OfflineProvider } from "../model/offline.js";
import { systemPrompt } from "../model/prompt.js";
import type { HistoryLine } from "../model/turn.js";
import { ROLES, type Role } from "../platform/roles.js";
import { withProvenance } from "./provenance.js";
import { MEMORY_KINDS, Memory, type MemoryEntry } from "./store.js";
import { memoryIn, type Walls } from "./walls.js";

const OWNER = "saul";
const FORMER = "ana";
const MEMBERS = ["bea", "mallory"];
const HOME = "conv-home";
const A = "conv-a";
const B = "conv-b";
const walls: Walls = { ownerId: OWNER, home: HOME };

/** Where an entry may be read, as this test expects it, from how it was made (not from walls.ts). */
type Made = "a-members" | "travels" | "home" | "b";

interface Generated {
  made: Made;
  entry: Omit<MemoryEntry, "id" | "text">;
}

const kind = fc.constantFrom(...MEMORY_KINDS);
const member = fc.constantFrom(...MEMBERS);
const base = { via: "llm" as const, createdAt: "2026-11-29T00:00:00.000Z" };
const feedback = fc.record({
  messageId: fc.uuid(),
  signal: fc.constantFrom("up" as const, "down" as const, "correction" as const),
  about: fc.constant("the agent's answer"),
});
/** A correction's or a dispute's traces: what it disputes, the message it came from. */
const corrected = fc.record(
  { disputes: fc.array(fc.uuid(), { minLength: 1, maxLength: 2 }), messageId: fc.uuid() },
  { requiredKeys: [] },
);

/** Said in A by someone who is not the current owner, and not made the owner's: it stays in A. */
const aMembers: fc.Arbitrary<Generated> = fc
  .oneof(
    // A member's word, perhaps correcting or disputing, perhaps confirmed or marked by someone who is not the owner.
    fc
      .record({
        kind,
        from: member,
        role: fc.constantFrom<Role>("member", "outsider"),
        traces: corrected,
        confirmedBy: fc.option(fc.constantFrom(FORMER, ...MEMBERS), { nil: undefined }),
        sharedBy: fc.option(fc.constantFrom(FORMER, ...MEMBERS), { nil: undefined }),
      })
      .map(({ traces, confirmedBy, sharedBy, ...e }) => ({
        ...e,
        ...traces,
        ...(confirmedBy ? { confirmedBy } : {}),
        ...(sharedBy ? { sharedBy } : {}),
      })),
    // The former owner's (after a transfer): their own, confirmed or marked, no longer the owner's.
    fc
      .record({ kind, confirmedBy: fc.constantFrom(undefined, FORMER), shared: fc.boolean() })
      .map(({ confirmedBy, shared, kind }) => ({
        kind,
        from: FORMER,
        role: "owner" as const,
        ...(confirmedBy ? { confirmedBy } : {}),
        ...(shared ? { sharedBy: FORMER } : {}),
      })),
    // Feedback on the agent's answer in A, anyone's, the owner's too, even marked shared by the owner.
    fc
      .record({ kind, from: fc.constantFrom(OWNER, FORMER, ...MEMBERS), feedback, shared: fc.boolean() })
      .map(({ from, shared, ...e }) => ({
        ...e,
        from,
        role: from === OWNER ? ("owner" as const) : ("member" as const),
        ...(shared ? { sharedBy: OWNER } : {}),
      })),
  )
  .map((entry) => ({ made: "a-members" as const, entry: { ...base, ...entry, conversationId: A } }));

/** The current owner's own, wherever it was said: taught, a member's word they confirmed or marked, a pool lesson. */
const travels: fc.Arbitrary<Generated> = fc
  .record({
    kind,
    conversationId: fc.constantFrom(HOME, A, B),
    how: fc.constantFrom("taught", "confirmed", "shared", "adopted"),
    from: member,
    traces: corrected,
  })
  .map(({ kind, conversationId, how, from, traces }) => {
    const said = { ...base, ...traces, kind, conversationId };
    const entry: Generated["entry"] =
      how === "taught"
        ? { ...said, from: OWNER, role: "owner" }
        : how === "confirmed"
          ? { ...said, from, role: "member", confirmedBy: OWNER }
          : how === "shared"
            ? { ...said, from, role: "member", sharedBy: OWNER, sharedAt: base.createdAt }
            : { ...base, kind, adoptedFrom: "pat_1" };
    return { made: "travels" as const, entry };
  });

/** Carried from a clone's parent, or imported unsealed: the home's, whatever conversation it names. */
const homes: fc.Arbitrary<Generated> = fc
  .record({ kind, from: member, inherited: fc.boolean(), conversationId: fc.constantFrom(A, undefined) })
  .map(({ kind, from, inherited, conversationId }) => ({
    made: "home" as const,
    entry: {
      ...base,
      kind,
      from,
      role: "member" as const,
      ...(conversationId ? { conversationId } : {}),
      ...(inherited ? { inheritedFrom: "inst_parent" } : { imported: true }),
    },
  }));

/** Members' words in B itself: read there. */
const bMembers: fc.Arbitrary<Generated> = fc
  .record({ kind, from: member, traces: corrected })
  .map(({ kind, from, traces }) => ({
    made: "b" as const,
    entry: { ...base, ...traces, kind, from, role: "member" as const, conversationId: B },
  }));

/** An entry's marker: found in a read's text only if the entry (or its text) got into it. */
const marker = (i: number) => `⟦m${String(i).padStart(3, "0")}⟧`;

/** A memory of these entries, each with its own id and marker, and what the test expects of each. */
function memoryOf(generated: readonly Generated[]): { memory: Memory; made: Map<string, Made> } {
  const made = new Map<string, Made>();
  const entries = generated.map((g, i): MemoryEntry => {
    made.set(marker(i), g.made);
    return { ...g.entry, id: `e${i}`, text: `fact ${marker(i)} here` };
  });
  return { memory: new Memory(entries), made };
}

const markersIn = (text: string, made: Map<string, Made>, want: Made) =>
  [...made].filter(([m, how]) => how === want && text.includes(m)).map(([m]) => m);

const memoriesOf = fc.array(fc.oneof(aMembers, travels, homes, bMembers), { minLength: 1, maxLength: 30 });
/** A's conversation as the clone reads it: members' lines and the owner's, each with a marker. */
const historyOf = fc.array(fc.constantFrom<Role>("owner", "member"), { maxLength: 6 });

describe("what a turn in B reads of an agent's memory", () => {
  test.prop([memoriesOf, fc.constantFrom(B, HOME), fc.constantFrom(...ROLES), fc.boolean()])(
    "holds no member's entry of A, whoever starts the turn and however the prompt is cut; the owner's own is in it",
    (generated, here, role, capped) => {
      const { memory, made } = memoryOf(generated);
      const view = memoryIn(memory, here, walls);
      const seen = view.visibleTo(role);
      const prompt = systemPrompt({
        identity: "# Concierge",
        context: "## Where you are\n\nconversation B",
        memory: view,
        role,
        limits: capped ? PROMPT_LIMITS : UNCAPPED,
        history: [{ role: "user", text: "what do you know?" }],
      });
      const origins = turnOrigins({ history: [], memory: seen.entries, identity: "", userConfig: {}, names: {} });
      const reads = [JSON.stringify(view.entries), seen.render(), prompt, JSON.stringify(origins)];
      for (const read of reads) expect(markersIn(read, made, "a-members")).toEqual([]);
      // The owner's own travel: every one in the view, and in the owner's uncut prompt (credentials included).
      const own = [...made].filter(([, how]) => how === "travels").map(([m]) => m);
      expect(markersIn(JSON.stringify(view.entries), made, "travels")).toEqual(own);
      if (role === "owner" && !capped) expect(markersIn(prompt, made, "travels")).toEqual(own);
      // What came with no conversation of its own is the home's; B's own is B's.
      expect(markersIn(JSON.stringify(view.entries), made, "home").length > 0).toBe(
        here === HOME && [...made.values()].includes("home"),
      );
      expect(markersIn(JSON.stringify(view.entries), made, "b").length > 0).toBe(
        here === B && [...made.values()].includes("b"),
      );
    },
  );

  test.prop([memoriesOf, historyOf, fc.subarray([...MEMORY_KINDS], { minLength: 1 })])(
    "a clone summary made for another conversation carries no member's entry or line of A, and the owner's own entries of the kinds chosen",
    async (generated, speakers, carry) => {
      const { memory, made } = memoryOf(generated);
      const lines = speakers.map(
        (speaker, i): HistoryLine => ({
          role: "user",
          speaker,
          sender: speaker === "owner" ? "Saul" : "Bea",
          from: speaker === "owner" ? OWNER : "bea",
          text: `${speaker === "owner" ? "my" : "our"} line ⟦l${i}⟧`,
        }),
      );
      const selected = cloneSelection({ memory, history: lines, carry, ownerId: OWNER });
      const input = { model: "m", directive: "", carry, ...selected };
      const entries = await new OfflineProvider().summarize(input);
      const auth = create(CloneAuthorizationSchema, { ownerId: OWNER });
      const summary = buildSummary(auth, "", withProvenance(entries, memory), "offline");
      const read = JSON.stringify([selected, summary.entries.map((e) => [e.text, e.taughtBy, e.conversationId])]);
      expect(markersIn(read, made, "a-members")).toEqual([]);
      expect(markersIn(read, made, "b")).toEqual([]);
      expect(markersIn(read, made, "home")).toEqual([]);
      for (const [i, speaker] of speakers.entries()) expect(read.includes(`⟦l${i}⟧`)).toBe(speaker === "owner");
      const chosen = generated.flatMap((g, i) =>
        g.made === "travels" && carry.includes(g.entry.kind) ? [marker(i)] : [],
      );
      expect(markersIn(JSON.stringify(selected.entries), made, "travels")).toEqual(chosen);
    },
  );
});
