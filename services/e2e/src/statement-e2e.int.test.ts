// What an agent may do here, end to end (docs/statement.md): Saul (a real
// Convos CLI serving the conversation) claims an agent; the claims service
// signs a statement of what it may do with the attestation key and the
// agent posts it into the conversation as the pool's statement message:
// the signed statement in its content, the words members read in its
// fallback. Ana, a person who joined by the invite as the apps do, reads the
// words (no signature in them; Saul named by his Convos name; the template
// by its version as the store writes it) and checks the signed statement
// against the gateway's JWKS, in her own code and with `pool
// verify-statement`. Saul raises the trust level: the next statement names
// the one before by its hash and says what changed; so does the creator's
// next version, which adds a mailbox. "What can you do here?" is answered
// with the current one's words, from the pool's code.
// Real: PostgreSQL, the XMTP node, the instance host, the claims and
// template services, the gateway, the Convos CLI, the local SMS and mail
// providers, the `pool` CLI (in this process). Nothing stands in. The first
// statement, posted at the claim before Ana joined, is not hers to read
// (MLS: a member reads what was sent after they joined).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { run as pool } from "@convos-pool/cli";
import { createLogger } from "@convos-pool/kit/server";
import { contentToJson, STATEMENT_CONTENT_TYPE, type StatementContent } from "@convos-pool/kit/content";
import {
  checkStatement,
  followsStatement,
  signOperation,
  type AttestationJwks,
  type StatementCheck,
} from "@convos-pool/kit/signing";
import { signedContentUpdate, tool } from "@convos-pool/kit/testing";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
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
/** The statement Ana read after the trust was raised. */
let second: { jws: string; check: Extract<StatementCheck, { valid: true }> };

/** The statement numbered `n` that Ana's client has from the agent, once it came. */
async function statementNumber(n: number, ms: number): Promise<StatementContent & { id: string; fallback: string }> {
  const agent = people.agent;
  const find = async () =>
    (await ana.statements(agent.inboxId)).find((s) => s.text.startsWith(`What I may do here (statement ${n},`));
  await waitFor(`statement ${n} in Ana's conversation`, async () => (await find()) !== undefined, ms, 200);
  return (await find())!;
}

/** `pool verify-statement` in this process, with Ana's messages as a file; its exit code and printed report. */
async function verifyStatement(messages: unknown[]) {
  const file = join(stack.dir, `messages-${Date.now()}.json`);
  await writeFile(file, JSON.stringify(messages));
  const out: string[] = [];
  const code = await pool(
    ["--json", "verify-statement", people.agent.inboxId, "--messages", file, "--url", gateway.url],
    {
      env: {},
      cwd: stack.dir,
      stdout: (t) => out.push(t),
      stderr: () => {},
    },
  );
  return { code, report: JSON.parse(out.join("")) as Record<string, unknown> };
}

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
  it("the owner raises trust to L4: Ana reads the next statement in words, Saul named, and its signed statement checks against the JWKS", {
    timeout: 60_000,
  }, async () => {
    const agent = people.agent;
    const owner = people.owner;
    await ana.send("hello all");
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
    const s = await statementNumber(2, 45_000);
    // What an app that does not know the type shows is the words, and they carry no signature.
    expect(s.fallback).toBe(s.text);
    expect(s.text).not.toContain(s.jws.split(".")[2]);
    expect(s.text).not.toMatch(/Signed by|eyJ/);
    expect(s.text).toContain("- Owner: Saul\n");
    expect(s.text).toContain(`- Template: Trip Planner v${people.template.contentVersion}\n`);
    expect(s.text).toContain("- Trust: L4");
    expect(s.text).toMatch(/- Tools: phone number \+1555074000\d/);
    expect(s.text).toContain("- Phone connections: Calendar (read): To plan around your week");
    expect(s.text).toContain(
      "Changed: the owner raised trust from L2 to L4; the owner set a daily spending limit of 0.1 ETH.",
    );
    // Nothing the agent said as text carries it either.
    expect((await ana.texts()).filter((t) => t.senderInboxId === agent.inboxId && /eyJ/.test(t.text))).toEqual([]);
    const check = checkStatement(s.jws, jwks, { inboxId: agent.inboxId });
    if (!check.valid) throw new Error(check.reason);
    expect(check.statement).toMatchObject({ sequence: 2, instanceId: people.agentId, ownerId: owner.inboxId });
    expect(check.statement.previous).toMatch(/^[0-9a-f]{64}$/);
    expect(check.statement.changes).toEqual([
      "the owner raised trust from L2 to L4",
      "the owner set a daily spending limit of 0.1 ETH",
    ]);
    second = { jws: s.jws, check };
    // Tampered (trust L4 said as L2): refused.
    expect(
      checkStatement(
        s.jws.replace(/\.[^.]+\./, (p) => `${p.slice(0, -3)}x${p.slice(-2)}`),
        jwks,
        { inboxId: agent.inboxId },
      ).valid,
    ).toBe(false);
  });

  it("pool verify-statement checks the statement in Ana's messages against the gateway's JWKS, and refuses words that say more", {
    timeout: 30_000,
  }, async () => {
    const s = await statementNumber(2, 5_000);
    const message = {
      id: s.id,
      senderInboxId: people.agent.inboxId,
      contentType: STATEMENT_CONTENT_TYPE,
      content: { jws: s.jws, text: s.text },
      fallback: s.fallback,
    };
    const ok = await verifyStatement([message]);
    expect(ok.code).toBe(0);
    expect(ok.report).toMatchObject({ valid: true, owner: "Saul", statement: { sequence: 2, trustLevel: 4 } });
    const lying = { ...message, content: { jws: s.jws, text: s.text.replace("- Trust: L4", "- Trust: L1") } };
    const refused = await verifyStatement([lying]);
    expect(refused.code).toBe(1);
    expect(refused.report.problems).toEqual([expect.stringMatching(/words differ/)]);
  });

  it("the creator's next version adds a mailbox: the next statement says so, as the version's, and follows the one before", {
    timeout: 90_000,
  }, async () => {
    const agent = people.agent;
    const content = contentToJson(people.template.content!);
    const updated = await signedContentUpdate(stack.templatesSc!.client, people.creator, people.template, {
      ...content,
      tools: [...content.tools, tool("email", "pool")],
    });
    const v = Number(updated.contentVersion);
    const s = await statementNumber(3, 60_000);
    expect(s.text).toContain(`- Template: Trip Planner v${v}\n`);
    expect(s.text).toMatch(new RegExp(`Changed: version ${v} adds a mailbox \\([^)]+@[^)]+\\)\\.`));
    // The template's connections are stated again with the version, unchanged.
    expect(s.text).toContain("- Phone connections: Calendar (read): To plan around your week");
    const check = checkStatement(s.jws, jwks, { inboxId: agent.inboxId });
    if (!check.valid) throw new Error(check.reason);
    expect(check.statement.tools.map((t) => t.kind)).toEqual(["mailbox", "phone"]);
    expect(followsStatement(second.jws, second.check.statement, check.statement)).toBe(true);
  });

  it('"what can you do here?" is answered with the current statement\'s words, word for word', {
    timeout: 60_000,
  }, async () => {
    const agent = people.agent;
    const asked = await ana.send("@Trip Planner what can you do here?");
    const answer = await ana.heard(agent.inboxId, asked, /^What I may do here/, 30_000);
    const current = await statementNumber(3, 5_000);
    expect(answer.text).toBe(current.text);
  });
});
