// A staged rollout's share in instruction sync (docs/claims.md, "Staged
// rollouts"): TemplateSyncService pushes with a rollout, the fan-out's target
// per instance (db/targets.ts), Instance.sync's in_rollout. Over gRPC with
// the real template service, the real claims service on real PostgreSQL and
// the real gRPC instance runtime, against the TEST STAND-IN instance host
// (claims/test/stand-in-host.ts), which verifies every release as an
// instance must. Releases and rollout steps are signed here with the kit, as
// a creator's client signs them; the templates service's RolloutService is
// not involved: the pushes are made by hand, as its outbox would make them.
// An agent's added conversations are written straight into
// agent_conversations, as the add and remove flows (conversations/) move
// them.

import { createHash, randomBytes } from "node:crypto";
import { Code, type Client } from "@connectrpc/connect";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { SyncState, type InstanceSync } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { RolloutAction } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateReleaseService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { inRollout, rolloutBucket, rolloutBucketSql, type TemplateContentJson } from "@convos-pool/kit/content";
import { createServiceClient } from "@convos-pool/kit/server";
import { signOperation, signUpdateRelease } from "@convos-pool/kit/signing";
import {
  creationNonceOf,
  newIdentity,
  sampleContent,
  signedTemplate,
  type TestIdentity,
} from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { targetOf } from "../db/targets.js";
import type { RunningClaimsService } from "../server.js";
import { as, expectCode } from "../../test/helpers.js";
import type { StandInHost } from "../../test/stand-in-host.js";
import { StandInStack } from "../../test/stand-in-stack.js";

const stack = new StandInStack({ name: "rollout", smsRange: "+15550630000..+15550630199", sync: { batchSize: 4 } });
let claims: RunningClaimsService;
let host: StandInHost;
let client: Client<typeof ClaimService>;
let syncClient: Client<typeof TemplateSyncService>;
let sql: pg.Client;

beforeAll(async () => {
  await stack.start();
  ({ claims, host, sql, claimsClient: client, syncClient } = stack);
});

afterAll(() => stack.close());

interface Fixture {
  creator: TestIdentity;
  id: string;
  version: bigint;
  content: TemplateContentJson;
}

interface Agent {
  id: string;
  owner: TestIdentity;
  conversationId: string;
}

/** A template, its first version held by the claims service as the templates service's outbox would push it. */
async function template(): Promise<Fixture> {
  const creator = newIdentity();
  const content = sampleContent({ tools: [] });
  const t = await signedTemplate(stack.templatesClient, creator, content);
  const releases = createServiceClient(TemplateReleaseService, stack.templates.url, stack.creds.claims);
  try {
    const { release: held } = await releases.client.getTemplateRelease({ templateId: t.id });
    await syncClient.pushTemplateVersion({ template: held });
  } finally {
    releases.close();
  }
  return { creator, id: t.id, version: t.contentVersion, content };
}

async function claimN(t: Fixture, n: number): Promise<Agent[]> {
  await stack.seedIdle(n);
  const out: Agent[] = [];
  for (let i = 0; i < n; i++) {
    const owner = newIdentity();
    const res = await client.claim(
      {
        requester: owner.inboxId,
        templateId: t.id,
        conversationInvite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
      },
      as(owner),
    );
    const { rows } = await sql.query<{ conversation_id: string }>(
      `select conversation_id from instances where id = $1`,
      [res.instanceId],
    );
    out.push({ id: res.instanceId, owner, conversationId: rows[0]!.conversation_id });
  }
  return out;
}

function release(t: Fixture, version: bigint, over: Partial<TemplateContentJson> = {}): Promise<SignedTemplate> {
  return signUpdateRelease(t.creator.account, {
    templateId: t.id,
    creatorId: t.creator.inboxId,
    creationNonce: creationNonceOf(t.id),
    version,
    content: { ...t.content, ...over },
  });
}

/** The bounds' hash the templates service computes; the claims service only passes it to the signature check. */
const BOUNDS_HASH = `0x${createHash("sha256").update("the rollout's bounds").digest("hex")}`;

interface Step {
  rolloutId: string;
  action: RolloutAction;
  share: number;
  step: number;
  paused?: boolean;
  /** Who signs it; default the creator. */
  signer?: TestIdentity;
  /** The share pushed, when it is not the one signed (a tampered push). */
  pushedShare?: number;
}

/** A push of `candidate` with a rollout step, signed as the creator's client signs a RolloutStep. */
async function pushStep(t: Fixture, candidate: SignedTemplate, s: Step) {
  const stepSignature = await signOperation((s.signer ?? t.creator).account, "RolloutStep", {
    inboxId: t.creator.inboxId,
    templateId: t.id,
    version: candidate.version,
    action: s.action,
    shareBasisPoints: s.share,
    boundsHash: BOUNDS_HASH,
  });
  return syncClient.pushTemplateVersion({
    template: candidate,
    rollout: {
      rolloutId: s.rolloutId,
      baselineVersion: t.version,
      shareBasisPoints: s.pushedShare ?? s.share,
      paused: s.paused ?? s.action === RolloutAction.PAUSE,
      step: s.step,
      stepSignature,
      action: s.action,
      boundsHash: BOUNDS_HASH,
    },
  });
}

const onHost = (a: Agent) => host.instances.get(a.id)?.appliedVersion;
const until = (what: string, check: () => boolean | Promise<boolean>) => waitFor(what, check, 20_000, 25);

/** Waits for the fan-out to be done: every due delivery made. */
async function settled(): Promise<void> {
  await claims.sync.settled();
  await until("no delivery due", async () => {
    const { rows } = await sql.query<{ n: number }>(
      `select count(*)::int as n from instances where sync_next_at is not null and state = 'claimed' and not pinned`,
    );
    return rows[0]!.n === 0;
  });
}

async function syncOf(a: Agent): Promise<InstanceSync> {
  return (await client.getInstance({ instanceId: a.id }, as(a.owner))).instance!.sync!;
}

async function rolloutRow(templateId: string) {
  const { rows } = await sql.query<{ share_basis_points: number; step: string; paused: boolean; version: number }>(
    `select share_basis_points, step, paused, version from template_rollouts where template_id = $1`,
    [templateId],
  );
  return rows[0];
}

describe("a rollout's place in SQL", () => {
  it("gives every conversation the same place as the kit's rolloutBucket (200 pairs, one query)", async () => {
    const pairs = Array.from({ length: 200 }, (_, i) => ({
      rollout: i % 7 === 0 ? "roll_same" : `roll_${randomBytes(6).toString("hex")}`,
      conversation: i % 11 === 0 ? `conv-é-${i}` : randomBytes(16).toString("hex"),
    }));
    const { rows } = await sql.query<{ bucket: string }>(
      `select ${rolloutBucketSql("u.r", "u.c")} as bucket
       from unnest($1::text[], $2::text[]) with ordinality as u (r, c, n) order by u.n`,
      [pairs.map((p) => p.rollout), pairs.map((p) => p.conversation)],
    );
    expect(rows.map((r) => Number(r.bucket))).toEqual(pairs.map((p) => rolloutBucket(p.rollout, p.conversation)));
  });
});

describe("a staged rollout", () => {
  it("moves exactly the conversations in its share, widens keeping them, ignores a late step, pauses, and ends on a promotion", async () => {
    const t = await template();
    const agents = await claimN(t, 24);
    const rolloutId = `roll_${randomBytes(8).toString("hex")}`;
    const inAt = (share: number) => (a: Agent) => inRollout(rolloutId, a.conversationId, share);
    // Pinned agents stay where they are: one in the first share, one outside every share before promotion.
    const pinned = [agents.find(inAt(3000)), agents.find((a) => !inAt(6000)(a))].filter((a) => a !== undefined);
    expect(pinned).toHaveLength(2);
    for (const p of pinned) await client.setInstancePin({ instanceId: p.id, pinned: true }, as(p.owner));
    const unpinned = agents.filter((a) => !pinned.includes(a));
    const v = t.version;
    const candidate = await release(t, v + 1n, { instructions: "Plan trips to Japan only." });

    // 30%: the unpinned conversations in it, and no others.
    const in30 = unpinned.filter(inAt(3000));
    expect(in30.length).toBeGreaterThan(0);
    const started = await pushStep(t, candidate, { rolloutId, action: RolloutAction.START, share: 3000, step: 1 });
    expect(started).toMatchObject({ version: v + 1n, instances: in30.length });
    await settled();
    for (const a of agents) expect([a.id, onHost(a)]).toEqual([a.id, Number(in30.includes(a) ? v + 1n : v)]);
    const [inside, outside] = [in30[0]!, unpinned.find((a) => !inAt(3000)(a))!];
    expect(await syncOf(inside)).toMatchObject({
      state: SyncState.CURRENT,
      appliedVersion: v + 1n,
      inRollout: true,
      rolloutVersion: v + 1n,
    });
    expect(await syncOf(outside)).toMatchObject({ state: SyncState.CURRENT, appliedVersion: v, inRollout: false });
    // The pinned one in the share: shown in it, held where it is, the new version pending.
    expect(await syncOf(pinned[0]!)).toMatchObject({
      state: SyncState.PINNED,
      appliedVersion: v,
      pendingVersion: v + 1n,
      inRollout: true,
    });

    // A claim during the rollout ends on the version of its conversation's place.
    const during = await claimN(t, 4);
    await settled();
    for (const a of during) expect(onHost(a)).toBe(Number(inAt(3000)(a) ? v + 1n : v));
    const all = [...unpinned, ...during];

    // Widened to 60%: everyone who was in stays in, and more come.
    const in60 = all.filter(inAt(6000));
    expect(in60.length).toBeGreaterThan(all.filter(inAt(3000)).length);
    await pushStep(t, candidate, { rolloutId, action: RolloutAction.WIDEN, share: 6000, step: 2 });
    await settled();
    for (const a of all) expect([a.id, onHost(a)]).toEqual([a.id, Number(in60.includes(a) ? v + 1n : v)]);

    // The first step again, late: it changes nothing.
    const late = await pushStep(t, candidate, { rolloutId, action: RolloutAction.START, share: 3000, step: 1 });
    expect(late.instances).toBe(0);
    expect(await rolloutRow(t.id)).toMatchObject({ share_basis_points: 6000, step: "2", paused: false });
    await settled();
    for (const a of all) expect(onHost(a)).toBe(Number(in60.includes(a) ? v + 1n : v));

    // The creator's dashboard: each live agent counted against the release it follows.
    const reach = (await client.listTemplateInstances({ templateId: t.id }, as(t.creator))).reach!;
    expect(reach).toMatchObject({
      releaseVersion: v,
      liveCount: BigInt(agents.length + during.length),
      currentCount: BigInt(all.length),
      pinnedCount: 2n,
      pendingCount: 0n,
    });
    // What they run: the share on the new version, the rest (the pinned included) on the release.
    const running = new Map(reach.running.map((r) => [r.version, r.count]));
    expect(running.get(v + 1n)).toBe(BigInt(in60.length));
    expect([...running.values()].reduce((a, b) => a + b, 0n)).toBe(reach.liveCount);

    // Paused: those on the new version stay; a new claim in the share is not moved.
    await pushStep(t, candidate, { rolloutId, action: RolloutAction.PAUSE, share: 6000, step: 3 });
    const whilePaused = await claimN(t, 6);
    const pausedIn = whilePaused.filter(inAt(6000));
    await settled();
    for (const a of whilePaused) expect(onHost(a)).toBe(Number(v));
    for (const a of in60) expect(onHost(a)).toBe(Number(v + 1n));
    const { rows: due } = await sql.query(`select id from instances where id = any($1) and sync_next_at is not null`, [
      whilePaused.map((a) => a.id),
    ]);
    expect(due).toEqual([]);
    if (pausedIn[0]) {
      expect(await syncOf(pausedIn[0])).toMatchObject({ state: SyncState.CURRENT, appliedVersion: v, inRollout: true });
    }
    expect(await syncOf(inside)).toMatchObject({ state: SyncState.CURRENT, appliedVersion: v + 1n, inRollout: true });

    // Resumed: the share's agents not yet moved follow.
    await pushStep(t, candidate, { rolloutId, action: RolloutAction.RESUME, share: 6000, step: 4 });
    await settled();
    for (const a of whilePaused) expect(onHost(a)).toBe(Number(pausedIn.includes(a) ? v + 1n : v));

    // Promoted (no rollout): every unpinned agent follows, and the rollout is gone.
    const promoted = await syncClient.pushTemplateVersion({ template: candidate });
    expect(promoted.version).toBe(v + 1n);
    expect(await rolloutRow(t.id)).toBeUndefined();
    await settled();
    for (const a of [...all, ...whilePaused]) expect([a.id, onHost(a)]).toEqual([a.id, Number(v + 1n)]);
    for (const p of pinned) expect(onHost(p)).toBe(Number(v));
    expect(await syncOf(inside)).toMatchObject({ state: SyncState.CURRENT, inRollout: false, rolloutVersion: 0n });
    expect(await syncOf(pinned[1]!)).toMatchObject({
      state: SyncState.PINNED,
      pendingVersion: v + 1n,
      inRollout: false,
    });
  });

  it("rolls back: the fallback version, pushed without a rollout, moves every agent, those on the new version too", async () => {
    const t = await template();
    const agents = await claimN(t, 10);
    const rolloutId = `roll_${randomBytes(8).toString("hex")}`;
    const v = t.version;
    const candidate = await release(t, v + 1n, { instructions: "Answer in French only." });
    await pushStep(t, candidate, { rolloutId, action: RolloutAction.START, share: 5000, step: 1 });
    await settled();
    const moved = agents.filter((a) => inRollout(rolloutId, a.conversationId, 5000));
    expect(moved.length).toBeGreaterThan(0);
    for (const a of moved) expect(onHost(a)).toBe(Number(v + 1n));

    // The fallback: the current content again, as the next version.
    const fallback = await release(t, v + 2n);
    expect((await syncClient.pushTemplateVersion({ template: fallback })).instances).toBe(agents.length);
    expect(await rolloutRow(t.id)).toBeUndefined();
    await settled();
    for (const a of agents) expect([a.id, onHost(a)]).toEqual([a.id, Number(v + 2n)]);
    // The candidate's push arriving late after the roll back changes nothing.
    const late = await pushStep(t, candidate, { rolloutId, action: RolloutAction.WIDEN, share: 9000, step: 2 });
    expect(late).toMatchObject({ version: v + 2n, instances: 0 });
    expect(await rolloutRow(t.id)).toBeUndefined();
  });

  it("refuses a step the creator did not sign, and writes nothing", async () => {
    const t = await template();
    const agents = await claimN(t, 4);
    const candidate = await release(t, t.version + 1n);
    const rolloutId = `roll_${randomBytes(8).toString("hex")}`;
    const start = { rolloutId, action: RolloutAction.START, share: 10_000, step: 1 };
    await expectCode(pushStep(t, candidate, { ...start, signer: newIdentity() }), Code.PermissionDenied);
    // Signed for 10%, pushed for all.
    await expectCode(pushStep(t, candidate, { ...start, share: 1000, pushedShare: 10_000 }), Code.PermissionDenied);
    // A pause the push does not apply.
    await expectCode(
      pushStep(t, candidate, { ...start, action: RolloutAction.PAUSE, paused: false, step: 2 }),
      Code.InvalidArgument,
    );
    expect(await rolloutRow(t.id)).toBeUndefined();
    const { rows } = await sql.query(`select id from instances where id = any($1) and sync_next_at is not null`, [
      agents.map((a) => a.id),
    ]);
    expect(rows).toEqual([]);
    await settled();
    for (const a of agents) expect(onHost(a)).toBe(Number(t.version));
  });
});

describe("an agent in several conversations", () => {
  /** The agent is in `conversationId` too, or leaves it. */
  const join = (a: Agent, conversationId: string) =>
    sql.query(
      `insert into agent_conversations (instance_id, add_id, conversation_id, conversation_key, state, joined_at)
       values ($1, $2, $2, $2, 'joined', now())`,
      [a.id, conversationId],
    );
  const leave = (a: Agent, conversationId: string) =>
    sql.query(
      `update agent_conversations set state = 'left', left_at = now() where instance_id = $1 and conversation_id = $2`,
      [a.id, conversationId],
    );

  /** A rollout id whose half takes the homes of at least three of `agents`, and those agents. */
  function rolloutTaking(agents: Agent[]): { rolloutId: string; homeIn: Agent[] } {
    for (;;) {
      const rolloutId = `roll_${randomBytes(8).toString("hex")}`;
      const homeIn = agents.filter((a) => inRollout(rolloutId, a.conversationId, 5000));
      if (homeIn.length >= 3) return { rolloutId, homeIn };
    }
  }

  /** A conversation in the rollout's half, or out of every share up to 70%. */
  function conversation(rolloutId: string, inside: boolean): string {
    for (;;) {
      const id = randomBytes(16).toString("hex");
      const bucket = rolloutBucket(rolloutId, id);
      if (inside ? bucket < 5000 : bucket >= 7000) return id;
    }
  }

  /** The release the instance follows now (db/targets.ts), as instruction sync reads it. */
  const targetOfAgent = async (a: Agent) =>
    (await sql.query<{ key: number[] }>(`select ${targetOf("i")} as key from instances i where i.id = $1`, [a.id]))
      .rows[0]!.key;

  it("an agent with one conversation outside the share stays on the current version; with both inside, or once out of that one, it moves", async () => {
    const t = await template();
    const agents = await claimN(t, 12);
    const { rolloutId, homeIn } = rolloutTaking(agents);
    const [outsideToo, insideToo] = homeIn as [Agent, Agent];
    const outside = conversation(rolloutId, false);
    await join(outsideToo, outside);
    await join(insideToo, conversation(rolloutId, true));
    const v = t.version;
    const candidate = await release(t, v + 1n, { instructions: "Plan trips to Japan only." });

    const started = await pushStep(t, candidate, { rolloutId, action: RolloutAction.START, share: 5000, step: 1 });
    expect(started.instances).toBe(homeIn.length - 1);
    await settled();
    for (const a of agents) {
      const moves = homeIn.includes(a) && a !== outsideToo;
      expect([a.id, onHost(a)]).toEqual([a.id, Number(moves ? v + 1n : v)]);
    }

    // Out of the conversation outside the share, it follows the others in.
    await leave(outsideToo, outside);
    await settled();
    expect(onHost(outsideToo)).toBe(Number(v + 1n));
  });

  it("an agent on the candidate added to a conversation outside the share keeps following the candidate, through a widening", async () => {
    const t = await template();
    const agents = await claimN(t, 12);
    const { rolloutId, homeIn } = rolloutTaking(agents);
    const moved = homeIn[0]!;
    const v = t.version;
    const candidate = await release(t, v + 1n, { instructions: "Answer in French only." });
    await pushStep(t, candidate, { rolloutId, action: RolloutAction.START, share: 5000, step: 1 });
    await settled();
    expect(onHost(moved)).toBe(Number(v + 1n));

    await join(moved, conversation(rolloutId, false));
    await pushStep(t, candidate, { rolloutId, action: RolloutAction.WIDEN, share: 6000, step: 2 });
    await settled();
    expect(onHost(moved)).toBe(Number(v + 1n));
    // Not sent back, and its target still the candidate (a newer base of it would reach it too).
    expect(await targetOfAgent(moved)).toEqual([Number(v + 1n)]);
    expect(await syncOf(moved)).toMatchObject({ state: SyncState.CURRENT, appliedVersion: v + 1n });
  });
});
