// What an agent may do here, end to end (docs/statement.md): Saul (a real
// Convos CLI serving the conversation) claims an agent; the claims service
// signs a statement of what it may do with the attestation key and the
// agent posts it into the conversation, which Saul's CLI prints as a text.
// Ana, a person who joined by the invite, checks it against the gateway's
// JWKS. Saul raises the trust level: the next statement names the one
// before by its hash and says what changed; so does the creator's next
// version, which adds a mailbox. "What can you do here?" is answered with
// the current one, from the pool's code.
// Real: PostgreSQL, the XMTP node, the instance host, the claims and
// template services, the gateway, the Convos CLI, the local SMS and mail providers.
// Nothing stands in.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { createLogger } from "@convos-pool/kit/server";
import { contentToJson, statementJwsIn } from "@convos-pool/kit/content";
import {
  checkStatement,
  followsStatement,
  signOperation,
  type AttestationJwks,
  type StatementCheck,
} from "@convos-pool/kit/signing";
import { signedContentUpdate, tool } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import type { CliEvent } from "@convos-pool/testing/convos-cli";
import type { Person } from "@convos-pool/convos/person";
import { as } from "@convos-pool/claims/testing";
import { PeopleStack } from "./people-stack.js";

const people = new PeopleStack({
  stack: {
    name: "statement-e2e",
    conversationName: "Lisbon trip",
    // New versions relayed to the claims service as they are published.
    templatesSync: { intervalMs: 200, backoff: { initialMs: 200, maxMs: 1_000 } },
    host: { joinTimeoutMs: 15_000 },
    claims: {
      smsRange: "+15550740000..+15550740009",
      pool: { target: 1 },
      attestation: { scanIntervalMs: 300, statements: true },
    },
  },
  template: {
    agent_name: "Trip Planner",
    tools: [tool("sms", "pool")],
    max_trust_level: "L4",
    connections: [{ kind: "calendar", capabilities: ["read"], reason: "To plan around your week" }],
  },
  people: ["Ana"],
});
const stack = people.stack;

let gateway: RunningGateway;
let jwks: AttestationJwks;
let ana: Person;
/** The first statement as Saul's CLI printed it. */
let first: { jws: string; check: Extract<StatementCheck, { valid: true }> };

const statementText = (e: CliEvent) => {
  const content = (e as { content?: unknown }).content;
  return typeof content === "string" ? content : "";
};

beforeAll(async () => {
  await people.start();
  ana = people.person("Ana");
  gateway = await startGateway({
    templatesUrl: stack.templates!.url,
    claimsUrl: stack.claims!.url,
    credentials: stack.creds.gateway,
    databaseUrl: await createTestDatabase("statement_e2e_gateway"),
    log: createLogger("gateway", { level: "silent" }),
  });
  jwks = (await (await fetch(`${gateway.url}/.well-known/agents.json`)).json()) as AttestationJwks;
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await people.close();
});

describe("what an agent may do here", () => {
  it("the agent posts the pool's signed statement at its claim; Saul's Convos CLI prints it and it checks against the JWKS", {
    timeout: 60_000,
  }, async () => {
    const agent = people.agent;
    const e = await people.ownerCli.waitFor<CliEvent>(
      "the agent's statement",
      (ev) =>
        ev.event === "message" && ev.senderInboxId === agent.inboxId && /^What I may do here/.test(statementText(ev)),
      { ms: 45_000 },
    );
    const text = statementText(e);
    expect(text).toContain("(statement 1,");
    expect(text).toContain(`- Owner: ${people.owner.inboxId}`);
    expect(text).toContain(`- Template: Trip Planner (${people.template.id}), version 1`);
    expect(text).toMatch(/- Tools: phone number \+1555074000\d/);
    expect(text).toContain("- Phone connections: Calendar (read): To plan around your week");
    const jws = statementJwsIn(text)!;
    const check = checkStatement(jws, jwks, { inboxId: agent.inboxId });
    if (!check.valid) throw new Error(check.reason);
    expect(check.statement).toMatchObject({ sequence: 1, previous: "", instanceId: people.agentId, trustLevel: 2 });
    first = { jws, check };
    // Tampered (trust L2 said as L4): refused.
    expect(
      checkStatement(
        jws.replace(/\.[^.]+\./, (p) => `${p.slice(0, -3)}x${p.slice(-2)}`),
        jwks,
      ).valid,
    ).toBe(false);
  });

  it("the owner raises trust to L4: the next statement names the one before and says what changed; Ana checks it", {
    timeout: 60_000,
  }, async () => {
    const agent = people.agent;
    const owner = people.owner;
    const before = await ana.send("hello all");
    const dailySpendLimitWei = 10n ** 17n;
    const ownerSignature = await signOperation(owner.account, "SetTrustLevel", {
      inboxId: owner.inboxId,
      instanceId: people.agentId,
      trustLevel: TrustLevel.AUTONOMOUS,
      dailySpendLimitWei,
    });
    await stack.claimsSc!.client.setTrustLevel(
      {
        instanceId: people.agentId,
        trustLevel: TrustLevel.AUTONOMOUS,
        ownerSignature,
        dailySpendLimitWei: dailySpendLimitWei.toString(),
      },
      as(owner),
    );
    const heard = await ana.heard(agent.inboxId, before, /^What I may do here \(statement 2/, 45_000);
    expect(heard.text).toContain("- Trust: L4");
    expect(heard.text).toContain(
      "Changed: the owner raised trust from L2 to L4; the owner set a daily spending limit of 0.1 ETH.",
    );
    const jws = statementJwsIn(heard.text)!;
    const check = checkStatement(jws, jwks, { inboxId: agent.inboxId });
    if (!check.valid) throw new Error(check.reason);
    expect(followsStatement(first.jws, first.check.statement, check.statement)).toBe(true);
    expect(check.statement.changes).toEqual([
      "the owner raised trust from L2 to L4",
      "the owner set a daily spending limit of 0.1 ETH",
    ]);
  });

  it("the creator's next version adds a mailbox: the next statement says so, as the version's", {
    timeout: 90_000,
  }, async () => {
    const agent = people.agent;
    const before = await ana.send("any news?");
    const content = contentToJson(people.template.content!);
    const updated = await signedContentUpdate(stack.templatesSc!.client, people.creator, people.template, {
      ...content,
      tools: [...content.tools, tool("email", "pool")],
    });
    const v = Number(updated.contentVersion);
    const heard = await ana.heard(agent.inboxId, before, /^What I may do here \(statement 3/, 60_000);
    expect(heard.text).toContain(`- Template: Trip Planner (${people.template.id}), version ${v}`);
    expect(heard.text).toMatch(new RegExp(`Changed: version ${v} adds a mailbox \\([^)]+@[^)]+\\)\\.`));
    // The template's connections are stated again with the version, unchanged.
    expect(heard.text).toContain("- Phone connections: Calendar (read): To plan around your week");
    const check = checkStatement(statementJwsIn(heard.text)!, jwks, { inboxId: agent.inboxId });
    expect(check.valid && check.statement.tools.map((t) => t.kind)).toEqual(["mailbox", "phone"]);
  });

  it('"what can you do here?" is answered with the current statement, word for word', { timeout: 60_000 }, async () => {
    const agent = people.agent;
    const asked = await ana.send("@Trip Planner what can you do here?");
    const answer = await ana.heard(agent.inboxId, asked, /^What I may do here/, 30_000);
    expect(answer.text).toContain("(statement 3,");
    expect(checkStatement(statementJwsIn(answer.text)!, jwks, { inboxId: agent.inboxId }).valid).toBe(true);
  });
});
