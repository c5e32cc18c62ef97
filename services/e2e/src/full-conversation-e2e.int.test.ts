// A full conversation, end to end (docs/claims.md, "A full conversation"):
// XMTP allows a group 250 members, yet a Convos creator's client adds a
// joiner by inbox id, which libxmtp does not check against that limit.
// Saul's Convos CLI serves the conversation; his agent, Ana and Bob (people,
// as the Convos apps join) are in it, and Ana adds silent members until it
// has 249. Then one more agent joins as the 250th; a claim past that is
// refused at once with FAILED_PRECONDITION naming conversation_invite,
// taking no agent (so no join request goes out). With no agent of the pool
// left inside to count, an agent the creator lets in as the 251st says so
// and leaves, the claim refused the same way and nothing claimed. Once Ana
// leaves, a claim goes in again. Real: PostgreSQL, the XMTP node, the
// instance host, the claims and template services, the Convos CLI.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createXmtpClient } from "@convos-pool/convos";
import type { Person } from "@convos-pool/convos/person";
import { as } from "@convos-pool/claims/testing";
import { fieldViolations } from "@convos-pool/kit/content";
import { signOperation } from "@convos-pool/kit/signing";
import { waitFor } from "@convos-pool/testing";
import { PeopleStack } from "./people-stack.js";

const LIMIT = 250;

const people = new PeopleStack({
  stack: {
    name: "full_conversation",
    conversationName: "Town hall",
    host: { joinTimeoutMs: 60_000 },
    claims: { pool: { target: 2 } },
  },
  template: { agent_name: "Clerk", tools: [] },
  people: ["Ana", "Bob"],
});
const stack = people.stack;
let ana: Person;
/** Who counts the members: Bob, who stays. */
let bob: Person;

/** Inboxes registered on the node, each with one installation, their clients closed: members enough for a group. */
async function inboxes(n: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        next++;
        const client = await createXmtpClient(privateKeyToAccount(generatePrivateKey()), {
          apiUrl: stack.node!.url,
          dbPath: join(stack.dir, `filler-${randomBytes(6).toString("hex")}.db3`),
          dbEncryptionKey: randomBytes(32),
        });
        ids.push(client.inboxId);
        await client.close();
      }
    }),
  );
  return ids;
}

const members = async () => {
  await bob.group.sync();
  return (await bob.group.members()).length;
};

const claim = () =>
  stack.claimsSc!.client.claim(
    // Agents of one template filling one conversation, on purpose: confirmed (docs/claims.md).
    {
      requester: people.owner.inboxId,
      templateId: people.template.id,
      conversationInvite: stack.ready.inviteUrl,
      confirmSecondAgent: true,
    },
    as(people.owner),
  );

/** A claim refused with FAILED_PRECONDITION on conversation_invite, saying the conversation has `members`. */
async function refusedAsFull(members: number): Promise<void> {
  const err = await claim().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
  expect(fieldViolations(err).map((v) => v.field)).toEqual(["conversation_invite"]);
  expect((err as ConnectError).rawMessage).toContain(`${members} members`);
}

const states = async () =>
  Object.fromEntries(
    (await stack.rows<{ id: string; state: string }>(`select id, state from instances order by id`)).map((r) => [
      r.id,
      r.state,
    ]),
  );

beforeAll(async () => {
  await people.start();
  ana = people.person("Ana");
  bob = people.person("Bob");
  // Saul, his agent, Ana and Bob: fill to one short of the limit, in one commit of Ana's (Convos lets every member add).
  await ana.group.addMembers(await inboxes(LIMIT - 1 - (await members())));
}, 600_000);

afterAll(() => people.close(), 60_000);

describe("a conversation at XMTP's group limit", () => {
  it("takes one more agent as its 250th member", { timeout: 180_000 }, async () => {
    expect(await members()).toBe(LIMIT - 1);
    await stack.idleAgents(1);
    const { instanceId } = await claim();
    const [row] = await stack.rows<{ state: string; conversation_id: string }>(
      `select state, conversation_id from instances where id = $1`,
      [instanceId],
    );
    expect(row?.state).toBe("claimed");
    expect(row?.conversation_id).toBe(ana.group.id);
    expect(await members()).toBe(LIMIT);
  });

  it("refuses a claim past it at once, naming conversation_invite, with nothing taken", {
    timeout: 180_000,
  }, async () => {
    await stack.idleAgents(1);
    const before = await states();
    const asked = stack.cli!.events.length;
    await refusedAsFull(LIMIT);
    // No agent taken (so no host asked to join, no join request sent), none rolled back, no one added.
    expect(await states()).toEqual(before);
    // (The 250th agent's own member_joined may come late: only an idle agent's would be this claim's.)
    const idle = new Set(
      (await stack.rows<{ inbox_id: string }>(`select inbox_id from instances where state = 'idle'`)).map(
        (r) => r.inbox_id,
      ),
    );
    const joined = stack.cli!.events.slice(asked).filter((e) => e.event === "member_joined");
    expect(joined.filter((e) => idle.has(String((e as { inboxId?: unknown }).inboxId)))).toEqual([]);
    expect(await members()).toBe(LIMIT);
  });

  it("an agent let in past it by the creator says so and leaves, and nothing is claimed", {
    timeout: 180_000,
  }, async () => {
    // Saul removes both his agents (no agent of the pool is left inside to count), and Ana fills it to 250 again.
    const agents = await stack.rows<{ id: string }>(`select id from instances where state = 'claimed'`);
    expect(agents).toHaveLength(2);
    // One at a time: Saul's client takes out one leaver per pass.
    for (const [k, { id }] of agents.entries()) {
      const ownerSignature = await signOperation(people.owner.account, "RemoveAgent", {
        inboxId: people.owner.inboxId,
        instanceId: id,
      });
      await stack.claimsSc!.client.removeAgent({ instanceId: id, ownerSignature }, as(people.owner));
      await waitFor("the removed agent out of the group", async () => (await members()) === LIMIT - 1 - k, 60_000, 500);
    }
    await ana.group.addMembers(await inboxes(2));
    expect(await members()).toBe(LIMIT);

    await stack.idleAgents(1);
    const before = await states();
    await refusedAsFull(LIMIT + 1);
    // The agent was let in, said nothing there, and left; it is idle again, and no one owns it.
    await waitFor("the agent out of the group again", async () => (await members()) === LIMIT, 60_000, 500);
    const idleBefore = Object.keys(before).filter((id) => before[id] === "idle");
    await waitFor("the agent idle again", async () => {
      const now = await states();
      return idleBefore.every((id) => now[id] === "idle");
    });
    expect(await stack.rows(`select id from instances where state = 'claimed'`)).toEqual([]);
  });

  it("takes an agent again once someone has left", { timeout: 180_000 }, async () => {
    // Ana leaves; Saul's Convos CLI, the group's admin, takes her out.
    await ana.group.requestRemoval();
    await waitFor("Ana out of the group", async () => (await members()) === LIMIT - 1, 60_000, 500);
    await stack.idleAgents(1);
    const { instanceId } = await claim();
    const [row] = await stack.rows<{ state: string }>(`select state from instances where id = $1`, [instanceId]);
    expect(row?.state).toBe("claimed");
    expect(await members()).toBe(LIMIT);
  });
});
