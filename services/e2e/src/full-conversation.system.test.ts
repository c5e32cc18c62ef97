// A full conversation, end to end (docs/claims.md, "A full conversation"):
// XMTP holds a group to 250 members, and a Convos creator's client that
// cannot add one more says nothing to whoever asked. Saul's Convos CLI
// serves the conversation; his agent and Ana (a person, as the Convos apps
// join) are in it, and Ana adds silent members until it has 249. Then one
// more agent joins as the 250th; a claim past that is refused at once with
// FAILED_PRECONDITION naming conversation_invite, taking no agent (so no
// join request goes out); once someone leaves, a claim goes in again. Real:
// PostgreSQL, the XMTP node, the instance host, the claims and template
// services, the Convos CLI.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createXmtpClient } from "@convos-pool/convos";
import type { Person } from "@convos-pool/convos/person";
import { as } from "@convos-pool/claims/testing";
import { fieldViolations } from "@convos-pool/kit";
import { PeopleStack } from "./people-stack.js";

const LIMIT = 250;

const people = new PeopleStack({
  stack: {
    name: "full_conversation",
    conversationName: "Town hall",
    host: { joinTimeoutMs: 60_000 },
    claims: { pool: { target: 2 } },
  },
  template: { agent_name: "Clerk" },
  people: ["Ana"],
});
const stack = people.stack;
let ana: Person;
/** The silent members Ana added, by inbox id. */
let fillers: string[] = [];

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
  await ana.group.sync();
  return (await ana.group.members()).length;
};

const claim = () =>
  stack.claimsSc!.client.claim(
    { requester: people.owner.inboxId, templateId: people.template.id, conversationInvite: stack.ready.inviteUrl },
    as(people.owner),
  );

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
  // Saul, his agent and Ana: fill to one short of the limit, in one commit of Ana's (Convos lets every member add).
  fillers = await inboxes(LIMIT - 1 - (await members()));
  await ana.group.addMembers(fillers);
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
    const err = await claim().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["conversation_invite"]);
    expect((err as ConnectError).rawMessage).toContain(`${LIMIT} members`);
    // No agent taken (so no host asked to join, no join request sent), none rolled back, no one added.
    expect(await states()).toEqual(before);
    expect(stack.cli!.events.slice(asked).filter((e) => e.event === "member_joined")).toEqual([]);
    expect(await members()).toBe(LIMIT);
  });

  it("takes an agent again once someone has left", { timeout: 180_000 }, async () => {
    await ana.group.removeMembers([fillers[0]!]);
    expect(await members()).toBe(LIMIT - 1);
    await stack.idleAgents(1);
    const { instanceId } = await claim();
    const [row] = await stack.rows<{ state: string }>(`select state from instances where id = $1`, [instanceId]);
    expect(row?.state).toBe("claimed");
    expect(await members()).toBe(LIMIT);
  });
});
