// A staged rollout end to end (docs/rollouts.md): a creator's template runs
// in 20 Convos conversations, each its owner's, each with a person who joined
// by its invite as the Convos apps do. The creator rolls a new version out
// to half of them, signed. In the first run the people of the new version's
// conversations 👎 every answer and two owners remove their agent within the
// day: the agents' signed counts reach lineage, the templates service's
// watch asks it, and the pool halts the rollout by itself, says why with the
// figures, and every agent answers on the current instructions again. In the
// second run both versions get the same 👎 from their guests; beside them
// one member joins two of the new version's conversations and 👎s every
// answer she gets in both, and the template's creator joins two of the
// current version's and 👎s every answer there. The member counts once (a
// person is one source a side and day, by the pseudonym of the day the
// agents send: docs/signals.md, "Per person") and the creator not at all;
// whether the watch halts is scored on the figures it counted. The watch
// keeps the rollout running, and the creator promotes it.
// The watch runs on this stack's rules (lineage's `watchRules`): four owners
// of five agents each, one guest a conversation and a day of minutes would
// be out of the pool's watch (owners of more than three agents, three days
// with others, ten conversations a side). Here every owner counts, from the
// first day, and five conversations with 30 answers a side are a sample;
// the creator's bound on 👎 is 9 (ten times the current rate): a person's
// day counts one 👎 at most, so some six people 👎ing every answer in a day
// pass the line of 8.34 only against a bound that wide.
// Which version each agent runs is read from what its conversation sees:
// every answer is signed with its instructions' word (a stand-in model,
// the one third-party part). The conversations in the share are checked
// against kit's `inRollout`, the function the claims service applies in SQL.
// Real: PostgreSQL, the local XMTP node, the templates, claims, keys and
// lineage services, the instance host, @xmtp/node-sdk clients for the owners
// and people. A system test (minutes): `npm run test:system`.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create, toJsonString } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RolloutAction,
  RolloutBoundsSchema,
  RolloutSchema,
  RolloutService,
  RolloutState,
  type Rollout,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { SyncState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { as } from "@convos-pool/claims/testing";
import { Person, type Said } from "@convos-pool/convos/person";
import { startCreator } from "@convos-pool/convos/testing";
import {
  ROLLBACK_SIGNALS,
  ROLLOUT_SIGNAL_NAMES,
  contentFromJson,
  dayEvidence,
  inRollout,
  jsonHash,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { createServiceClient, type ServiceClient } from "@convos-pool/kit/server";
import { rolloutBoundsHash, rolloutBoundsJson, signOperation } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { closeWithin, waitFor } from "@convos-pool/testing";
import { RealStack } from "./real-stack.js";

const AGENT = "Ledger";
const CONVERSATIONS = 20;
const HALF = 5_000;
/** The creator's bounds: ten times the current rate of 👎 halts it, the others at their defaults. */
const BOUNDS = { thumbsDown: 9 };
/** Who the watch counts on this stack, and how much is enough (see the header). */
const WATCH_RULES = { maxOwnerAgents: CONVERSATIONS, realUseDays: 0, minSample: { conversations: 5, answers: 30 } };
/** Questions each person asks in a run, before the last one. */
const QUESTIONS = 6;

/** Every answer names the instructions that made it: what a conversation sees is the version its agent runs. */
const instructions = (word: string) => `You keep the group's accounts. Sign every answer with the word ${word}.`;
const WORD = /Sign every answer with the word (\w+)\./;
const content = (word: string): TemplateContentJson =>
  sampleContent({
    agent_name: AGENT,
    instructions: instructions(word),
    model: { default: "model-a", allow_override: false },
    tools: [],
  });

type Creator = Awaited<ReturnType<typeof startCreator>>;
const identity = (c: Creator): TestIdentity => ({ account: c.account, inboxId: c.inboxId });

interface Table {
  label: string;
  owner: Creator;
  groupId: string;
  invite: string;
  agentId: string;
  agentInbox: string;
  person: Person;
}

let stack: RealStack;
let chat: ChatServer;
let creator: Creator;
const owners: Creator[] = [];
const tables: Table[] = [];
let template: Template;
let rollouts: ServiceClient<typeof RolloutService>;

/** An agent of the template claimed into `t`'s conversation by its owner. */
async function claimInto(t: Pick<Table, "owner" | "invite">): Promise<{ agentId: string; agentInbox: string }> {
  await stack.idleAgents(1, 120_000);
  const { instanceId } = await stack.claimsSc!.client.claim(
    { requester: t.owner.inboxId, templateId: template.id, conversationInvite: t.invite },
    as(identity(t.owner)),
  );
  return { agentId: instanceId, agentInbox: stack.host!.instances.get(instanceId)!.inboxId };
}

/** Runs `f` on every item, `n` at a time. */
async function eachOf<T>(items: readonly T[], n: number, f: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await f(item);
    }),
  );
}

/** `t`'s person asks question `n`; the agent's answer, which must be signed with one of `words`. */
async function ask(t: Table, n: string, ...words: string[]): Promise<Said> {
  const sent = await t.person.send(`${AGENT}, ${t.person.name} asks at ${t.label}: question ${n}`);
  const heard = await t.person.heard(t.agentInbox, sent, new RegExp(`on question ${n}\\b`), 90_000);
  expect(
    words.map((w) => `${w} on question ${n}`),
    t.label,
  ).toContain(heard.text);
  return heard;
}

/**
 * The person asks QUESTIONS questions, 👎 the answers `down` picks, then asks
 * once more (all taken in by then); each answer signed with one of `words`.
 */
async function talk(t: Table, run: string, words: string[], down: (i: number) => boolean): Promise<void> {
  const answers: Said[] = [];
  for (let i = 1; i <= QUESTIONS; i++) answers.push(await ask(t, `${run}${i}`, ...words));
  for (const [i, a] of answers.entries()) if (down(i)) await t.person.react(a.id, t.agentInbox, "👎");
  await ask(t, `${run}last`, ...words);
}

const templateNow = async () =>
  (await stack.templatesSc!.client.getTemplate({ templateId: template.id }, as(identity(creator)))).template!;

const read = async (rolloutId: string): Promise<Rollout> =>
  (await rollouts.client.getRollout({ templateId: template.id, rolloutId }, as(identity(creator)))).rollout!;

/** Until each of `agents` runs content version `version`, in the share or not as `inShare` says. */
async function settled(
  version: (t: Table) => bigint,
  inShare: (t: Table) => boolean | undefined,
  agents: readonly Table[] = tables,
) {
  await waitFor(
    "every agent on its version",
    async () => {
      for (const t of agents) {
        const { instance } = await stack.claimsSc!.client.getInstance({ instanceId: t.agentId }, as(identity(t.owner)));
        const s = instance!.sync!;
        const want = inShare(t);
        if (s.state !== SyncState.CURRENT || s.appliedVersion !== version(t)) return false;
        if (want !== undefined && s.inRollout !== want) return false;
      }
      return true;
    },
    120_000,
    250,
  );
}

/** The creator's signed step on `r`. */
async function step(r: Rollout, action: RolloutAction, share = r.shareBasisPoints): Promise<Rollout> {
  const me = identity(creator);
  const signature = await signOperation(me.account, "RolloutStep", {
    inboxId: me.inboxId,
    templateId: template.id,
    version: r.candidateVersion,
    action,
    shareBasisPoints: share,
    boundsHash: rolloutBoundsHash(rolloutBoundsJson(r.bounds)),
  });
  return (
    await rollouts.client.stepRollout(
      { templateId: template.id, rolloutId: r.rolloutId, action, shareBasisPoints: 0, signature },
      as(me),
    )
  ).rollout!;
}

/**
 * The creator's signed start of `word`'s version to half the conversations,
 * with BOUNDS: the update, the way back to the current content
 * and the step, each signed as a client signs them. The draw is random per
 * rollout; one that leaves either side below six people who 👎 after the
 * share loses two to removals in the first run (five to halt on, the
 * loudest left out) is rolled back and drawn again, as a creator would.
 */
async function startHalf(word: string, current: string): Promise<{ rollout: Rollout; side: Map<Table, boolean> }> {
  const me = identity(creator);
  for (;;) {
    const t = await templateNow();
    const base = { inboxId: me.inboxId, templateId: t.id };
    const signature = await signOperation(me.account, "UpdateTemplate", {
      ...base,
      version: t.version,
      contentHash: jsonHash(content(word)),
    });
    const fallbackSignature = await signOperation(me.account, "RollbackTemplate", {
      ...base,
      version: t.version + 1n,
      targetVersion: t.version,
      contentHash: jsonHash(content(current)),
    });
    const stepSignature = await signOperation(me.account, "RolloutStep", {
      ...base,
      version: t.version + 1n,
      action: RolloutAction.START,
      shareBasisPoints: HALF,
      boundsHash: rolloutBoundsHash(rolloutBoundsJson(BOUNDS)),
    });
    const started = await rollouts.client.startRollout(
      {
        templateId: t.id,
        expectedVersion: t.version,
        content: contentFromJson(content(word)),
        signature,
        shareBasisPoints: HALF,
        bounds: create(RolloutBoundsSchema, BOUNDS),
        fallbackSignature,
        stepSignature,
      },
      as(me),
    );
    const rollout = started.rollout!;
    const side = new Map(tables.map((x) => [x, inRollout(rollout.rolloutId, x.groupId, HALF)]));
    const inside = [...side.values()].filter(Boolean).length;
    // The share the claims service applies is exactly kit's draw, and sticky.
    await settled(
      (x) => (side.get(x) ? started.template!.contentVersion : t.contentVersion),
      (x) => side.get(x),
    );
    if (inside >= 8 && CONVERSATIONS - inside >= 6) return { rollout, side };
    await step(rollout, RolloutAction.ROLL_BACK);
    const back = (await templateNow()).contentVersion;
    await settled(
      () => back,
      () => false,
    );
  }
}

beforeAll(async () => {
  chat = await startChatServer((req) => {
    // The memory extraction after each turn (temperature 0): nothing to learn.
    if (req.body.temperature === 0) return '{"entries":[]}';
    const system = String(req.body.messages.find((m) => m.role === "system")?.content ?? "");
    const asked = [...JSON.stringify(req.body.messages).matchAll(/question (\w+)/g)].at(-1)?.[1] ?? "none";
    return `${WORD.exec(system)?.[1] ?? "UNSIGNED"} on question ${asked}`;
  });
  stack = new RealStack({
    name: "rollout-e2e",
    conversationName: "Accounts",
    models: ["model-a"],
    // Each agent's signed day of counts every 2 s, and the watch looks every 2 s: minutes, not days. A day's
    // questions come within minutes too, so the conversations' model budget (a member's share a minute) is off.
    host: {
      llm: { baseUrl: chat.baseUrl, apiKey: "sk-local-test" },
      llmLimits: { callsPerMinute: 0 },
      signalsIntervalMs: 2_000,
      joinTimeoutMs: 30_000,
    },
    rolloutWatchMs: 2_000,
    lineage: { watchRules: WATCH_RULES },
    templatesSync: { intervalMs: 200, backoff: { initialMs: 200, maxMs: 1_000 } },
    claims: { pool: { target: 4 }, sync: { scanIntervalMs: 200 } },
  });
  await stack.start();
  rollouts = createServiceClient(RolloutService, stack.templates!.url, stack.creds.gateway);
  const started = async (name: string) => {
    const dir = join(stack.dir, name);
    await mkdir(dir, { recursive: true });
    return startCreator(stack.node!.url, dir);
  };
  creator = await started("creator");
  owners.push(...(await Promise.all(["oda", "pia", "quinn", "rui"].map(started))));
  template = await signedTemplate(stack.templatesSc!.client, identity(creator), content("STEADY"));
  for (let i = 0; i < CONVERSATIONS; i++) {
    const owner = owners[i % owners.length]!;
    const label = `table ${i + 1}`;
    const { groupId, invite } = await owner.conversation(label);
    tables.push({ label, owner, groupId, invite, ...(await claimInto({ owner, invite })), person: undefined as never });
  }
  await eachOf(tables, 4, async (t) => {
    t.person = await Person.join(t.invite, {
      name: `guest${tables.indexOf(t) + 1}`,
      apiUrl: stack.node!.url,
      dir: stack.dir,
    });
  });
}, 900_000);

afterAll(async () => {
  if (process.env.ROLLOUT_E2E_LOG) await writeFile(process.env.ROLLOUT_E2E_LOG, stack?.logs.join("\n") ?? "");
  const clients: Record<string, () => Promise<unknown>> = {};
  for (const t of tables) if (t.person) clients[t.label] = () => t.person.close();
  for (const [i, c] of [creator, ...owners].entries()) if (c) clients[`creator ${i}`] = () => c.close();
  await closeWithin(clients, 60_000);
  rollouts?.close();
  await stack?.close();
  await chat?.close();
}, 150_000);

describe("a staged rollout across 20 Convos conversations", () => {
  it("a version people 👎 and remove is halted by the pool and rolled back by itself, with the reason and the figures", {
    timeout: 600_000,
  }, async () => {
    const { rollout, side } = await startHalf("BRASH", "STEADY");
    expect(rollout).toMatchObject({ state: RolloutState.RUNNING, shareBasisPoints: HALF });
    expect(rollout.bounds?.thumbsDown).toBe(BOUNDS.thumbsDown);
    const inside = tables.filter((t) => side.get(t));
    // Each person asks once: the answer says which version their conversation's agent runs.
    await eachOf(tables, 5, async (t) => void (await ask(t, "a0", side.get(t) ? "BRASH" : "STEADY")));
    // Two owners of the new version's agents remove theirs, within the day of the claim.
    const removed = inside.slice(0, 2);
    for (const t of removed) {
      const owner = identity(t.owner);
      const ownerSignature = await signOperation(owner.account, "RemoveAgent", {
        inboxId: owner.inboxId,
        instanceId: t.agentId,
      });
      await stack.claimsSc!.client.removeAgent({ instanceId: t.agentId, ownerSignature }, as(owner));
    }
    const live = tables.filter((t) => !removed.includes(t));
    // In the share every answer is 👎'd, outside none. The pool may halt while they talk (it looks every 2 s):
    // from then on the share's agents answer on the current instructions again.
    await eachOf(live, 5, (t) => talk(t, "a", side.get(t) ? ["BRASH", "STEADY"] : ["STEADY"], () => side.get(t)!));

    await waitFor(
      "the pool to halt the rollout",
      async () => (await read(rollout.rolloutId)).state === RolloutState.HALTED,
      180_000,
      500,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; the rollout: ${toJsonString(RolloutSchema, await read(rollout.rolloutId))}`);
    });
    const halted = await read(rollout.rolloutId);
    const watch = halted.watch!;
    // Why, in words, with the figures: "👎 on its answers: 21 in 32.5 answers on version 3, against 0 in 43 on version 2
    // (…)"; a conversation's day past its cap counts its answers at a weight, so a figure may have a tenth.
    expect(watch.haltedOn).toMatch(
      new RegExp(
        `^👎 on its answers: [\\d.]+ in [\\d.]+ answers on version ${halted.candidateVersion}, against 0 in [\\d.]+ on version ${halted.baselineVersion} \\(evidence`,
      ),
    );
    expect(watch.daysCounted).toBe(1);
    // The stack's rules reached the watch: its sample, not the pool's ten conversations.
    expect(watch.minSample).toBe(WATCH_RULES.minSample.conversations);
    expect(watch.pausedOn).toBe("");
    const down = watch.signals.find((s) => s.signal === "thumbs_down")!;
    // None outside the share; in it, enough to halt on (the busiest conversation of each side left out).
    expect(down.baselineEvents).toBe(0);
    expect(down.candidateEvents).toBeGreaterThan(0);
    expect(down.evidence).toBeGreaterThanOrEqual(watch.threshold);
    expect(halted.steps.map((s) => s.action)).toEqual([RolloutAction.START, RolloutAction.HALT]);
    expect(halted.conversationsIn).toBeGreaterThan(0);

    // Every agent left is back on the current instructions, signed by the creator at the start, and answers so.
    const back = await templateNow();
    expect(back.version).toBe(halted.fallbackVersion);
    expect(back.content?.instructions).toBe(instructions("STEADY"));
    await settled(
      () => back.contentVersion,
      () => false,
      live,
    );
    await eachOf(live, 5, async (t) => void (await ask(t, "back", "STEADY")));

    // The two owners claim again, on the current version: 20 conversations again for the next run.
    for (const t of removed) Object.assign(t, await claimInto(t));
  });

  it("a version that does as well keeps running: a member who 👎s every answer in two of its conversations counts once, the creator's 👎 on the current version not at all, and the creator promotes it", {
    timeout: 600_000,
  }, async () => {
    const { rollout, side } = await startHalf("CALM", "STEADY");
    const inside = tables.filter((t) => side.get(t));
    const outside = tables.filter((t) => !side.get(t));
    const word = (t: Table) => (inside.some((x) => x.groupId === t.groupId) ? "CALM" : "STEADY");
    // The same from every guest on both sides: one 👎 in each conversation.
    await eachOf(tables, 5, (t) => talk(t, "b", [word(t)], (i) => i === 0));
    // Then a member in two of the new version's conversations (one wallet, an installation in each), and the
    // template's creator in two of the current version's, each 👎ing every answer they get.
    const mara = newIdentity().account;
    const visits: Table[] = [];
    for (const [t, name, account] of [
      ...inside.slice(0, 2).map((t) => [t, "mara", mara] as const),
      ...outside.slice(0, 2).map((t) => [t, "creator", creator.account] as const),
    ])
      visits.push({
        ...t,
        person: await Person.join(t.invite, { name, apiUrl: stack.node!.url, dir: stack.dir, account }),
      });
    try {
      await eachOf(visits, 4, (t) => talk(t, "v", [word(t)], () => true));
      const down = (r: Rollout) => r.watch?.signals.find((s) => s.signal === "thumbs_down");
      await waitFor(
        "the watch to count every 👎",
        async () => {
          const r = await read(rollout.rolloutId);
          const d = down(r);
          return (
            r.state !== RolloutState.RUNNING ||
            (d !== undefined && d.candidateEvents >= inside.length && d.baselineEvents >= outside.length - 1)
          );
        },
        180_000,
        500,
      );
      // A few more rounds of reports and looks: what came late is in the figures too.
      await new Promise((r) => setTimeout(r, 8_000));
      const watched = await read(rollout.rolloutId);
      const w = watched.watch!;
      const d = down(watched)!;
      // Each guest's one 👎 and Mara's day once (her 12 in two conversations count one); one person's day on each
      // side left out. The creator's 24 count nowhere.
      expect({ candidate: d.candidateEvents, baseline: d.baselineEvents }).toEqual({
        candidate: inside.length,
        baseline: outside.length - 1,
      });
      expect(w.daysCounted).toBe(1);
      // Scored on what happened: the evidence is the day's test on these figures, and the rollout halted iff it
      // passed the line.
      const scored = dayEvidence(
        {
          candidate: { events: d.candidateEvents, exposure: d.candidateExposure },
          baseline: { events: d.baselineEvents, exposure: d.baselineExposure },
        },
        BOUNDS.thumbsDown,
      );
      expect(d.evidence).toBeCloseTo(Math.max(0, scored), 6);
      const halts = w.signals.some(
        (s) => ROLLBACK_SIGNALS.some((r) => ROLLOUT_SIGNAL_NAMES[r] === s.signal) && s.evidence >= w.threshold,
      );
      expect(watched.state).toBe(halts ? RolloutState.HALTED : RolloutState.RUNNING);
      expect(watched.state).toBe(RolloutState.RUNNING);
      expect(w.haltedOn).toBe("");
      for (const s of w.signals) expect(s.evidence, s.signal).toBeLessThan(w.threshold);
      expect({ all: watched.conversations, in: watched.conversationsIn }).toEqual({
        all: CONVERSATIONS,
        in: inside.length,
      });

      const promoted = await step(watched, RolloutAction.PROMOTE);
      expect(promoted.state).toBe(RolloutState.PROMOTED);
      const now = await templateNow();
      expect(now.content?.instructions).toBe(instructions("CALM"));
      await settled(
        () => now.contentVersion,
        () => false,
      );
      await eachOf(tables, 5, async (t) => void (await ask(t, "promoted", "CALM")));
    } finally {
      await Promise.all(visits.map((v) => v.person.close()));
    }
  });
});
