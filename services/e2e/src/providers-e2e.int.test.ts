// The production providers end to end: the claims service buys the agent's
// number from Telnyx and makes its mailbox at AgentMail (both the stand-ins
// of those services, which we cannot reach from here), and the agent texts
// and mails through them exactly as through the local ones. Every other part
// is real: PostgreSQL, the local XMTP node, the template service, the
// instance host, the claims service, the local chain, and a Convos
// conversation served by the real Convos CLI. Removing the agent gives the
// number and the inbox back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { Agent } from "@convos-pool/instance";
import { tool, type TestIdentity } from "@convos-pool/kit/testing";
import { signOperation } from "@convos-pool/kit/signing";
import { waitFor } from "@convos-pool/testing";
import { as } from "@convos-pool/claims/testing";
import { ask, said } from "@convos-pool/testing/convos-cli";
import { PeopleStack } from "./people-stack.js";

const people = new PeopleStack({
  stack: {
    name: "providers-e2e",
    conversationName: "Errands",
    host: { joinTimeoutMs: 15_000 },
    claims: { pool: { target: 1 } },
    productionProviders: true,
  },
  template: { agent_name: "Runner", tools: [tool("sms", "pool"), tool("email", "pool")], max_trust_level: "L3" },
  trust: { level: TrustLevel.OPERATOR },
});
const stack = people.stack;
const { handle } = people;

const PHONE = "+15550188010";
let saul: TestIdentity;
let agent: Agent;

/** What the Telnyx stand-in says the account owns under `number`. */
async function owned(number: string): Promise<unknown[]> {
  const res = await fetch(
    `${stack.sms!.url}/v2/phone_numbers?${new URLSearchParams({ "filter[phone_number]": number }).toString()}`,
    {
      headers: { authorization: `Bearer ${stack.sms!.apiKey}` },
    },
  );
  return ((await res.json()) as { data: unknown[] }).data;
}

beforeAll(async () => {
  ({ owner: saul, agent } = await people.start());
}, 240_000);

afterAll(() => people.close(), 60_000);

describe("an agent whose number is bought from Telnyx and whose mailbox is at AgentMail", () => {
  it("holds a number ordered under its own id and an AgentMail inbox, with only that inbox's key", async () => {
    const number = handle("sms");
    expect(number).toMatch(/^\+1555011\d{4}$/); // the stand-in's inventory, not the local range
    expect(await owned(number)).toEqual([
      expect.objectContaining({ phone_number: number, customer_reference: agent.id }),
    ]);
    expect(handle("email")).toMatch(/@agentmail\.localhost$/);
    const secrets = (await agent.credentials())!;
    expect(Object.keys(secrets.email!)).toEqual(["api_key"]);
    expect(secrets.email!.api_key).not.toBe(stack.agentmail!.apiKey);
    expect(secrets.sms ?? {}).toEqual({});
  });

  it("texts from its number and relays a text to it into the conversation", { timeout: 60_000 }, async () => {
    const phone = stack.sms!.phone(PHONE);
    expect(await ask(stack.cli!, agent, `text ${PHONE}: on my way`, /Done|could not/)).toMatch(/Done: texted/);
    expect(await phone.waitForMessage((m) => m.text === "on my way")).toMatchObject({ from: handle("sms") });
    const from = stack.cli!.events.length;
    await phone.send(handle("sms"), "Milk too?");
    // The text came through Telnyx's webhook; its sender is an outsider, whom the agent does not answer by default.
    expect(await said(stack.cli!, agent, from, /A text came/)).toMatch(
      new RegExp(
        `^\\[offline model\\] A text came to \\${handle("sms")} from \\${PHONE}: "Milk too\\?"\\. My owner has me pass on texts from outside, not answer them\\.$`,
      ),
    );
  });

  it("mails through AgentMail, notices the answer and reads it", { timeout: 60_000 }, async () => {
    expect(
      await ask(stack.cli!, agent, "email saul@example.com about Groceries: milk and eggs?", /Done|could not/),
    ).toMatch(/Done: mailed saul@example\.com/);
    const sent = await stack.agentmail!.waitForMail("saul@example.com", (m) => m.subject === "Groceries");
    expect(sent).toMatchObject({ from: expect.stringContaining(handle("email")), text: "milk and eggs?" });
    const from = stack.cli!.events.length;
    stack.agentmail!.deliver(handle("email"), {
      from: "saul@example.com",
      subject: "Re: Groceries",
      text: "Eggs, and oat milk.",
    });
    const notice = await said(stack.cli!, agent, from, /^New mail from saul@example\.com/);
    const id = /\(id ([^)]+)\)/.exec(notice)![1]!;
    expect(await ask(stack.cli!, agent, `read mail ${id}`, /Done|could not/)).toContain("Eggs, and oat milk.");
  });

  it("gives its number back to Telnyx and deletes its inbox when it is removed", { timeout: 60_000 }, async () => {
    const [number, inbox] = [handle("sms"), handle("email")];
    const ownerSignature = await signOperation(saul.account, "RemoveAgent", {
      inboxId: saul.inboxId,
      instanceId: agent.id,
    });
    await stack.claimsSc!.client.removeAgent({ instanceId: agent.id, ownerSignature }, as(saul));
    await waitFor("the number given back to Telnyx", async () => (await owned(number)).length === 0, 30_000, 200);
    expect(await owned(number)).toEqual([]);
    const res = await fetch(`${stack.agentmail!.url}/v0/inboxes/${encodeURIComponent(inbox)}`, {
      headers: { authorization: `Bearer ${stack.agentmail!.apiKey}` },
    });
    expect(res.status).toBe(404);
    const everything = stack.logs.join("\n");
    for (const secret of [stack.sms!.apiKey, stack.agentmail!.apiKey]) expect(everything).not.toContain(secret);
  });
});
