// A good member of a group, end to end: Saul (a real Convos CLI serving the
// conversation) claims an agent while it is just the two of them, Ana joins
// by the invite (a person as the Convos apps show one: an @xmtp/node-sdk
// client that joins without the agent kind) and is later removed. What the
// agent answers as the conversation grows and shrinks, the cooldown running
// out, what its members see of when it speaks (what it says, its Convos
// profile), that nobody but its owner can change that even through a
// compromised pool, and the typing indicator around a text from outside.
// Real: PostgreSQL, the XMTP node, the instance host, the claims and
// template services, the Telnyx stand-in, the Convos CLI. The offline model
// reads each message back ("I read: …").
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceServiceSetParticipationRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { readHome, type Agent } from "@convos-pool/instance";
import { plainMetadata, signOperation, type ProfileMetadata } from "@convos-pool/kit/signing";
import { tool, type TestIdentity } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import type { CliEvent, ConvosCli, MessageEvent } from "@convos-pool/testing/convos-cli";
import type { Person } from "@convos-pool/convos/person";
import { PeopleStack } from "./people-stack.js";
import { as } from "@convos-pool/claims/testing";
import { said, saidMessage } from "@convos-pool/testing/convos-cli";

const people = new PeopleStack({
  stack: {
    name: "member-e2e",
    conversationName: "Weekend",
    host: { joinTimeoutMs: 15_000 },
    claims: { smsRange: "+15550730000..+15550730009", pool: { target: 1 } },
  },
  template: { agent_name: "Concierge", tools: [tool("sms", "pool")] },
});
const stack = people.stack;

const PHONE = "+15550188077";
/** Long enough that a busy machine handles the next message within it. */
const COOLDOWN_SECONDS = 15;
let saulCli: ConvosCli;
let saul: TestIdentity;
let ana: Person;
let agent: Agent;

/** What the agent said after event `from` of a CLI, its texts only. */
const agentSaid = (cli: ConvosCli, from: number) =>
  cli.events
    .slice(from)
    .filter((e) => e.event === "message" && e.senderInboxId === agent.inboxId)
    .map((e) => String(e.content));

/** The agent's next profile update after `from` as `cli` printed it, plain, once it says when it speaks. */
const profileFrom = async (cli: ConvosCli, from: number, match: (m: ProfileMetadata) => boolean) =>
  plainMetadata(
    await cli.waitFor(
      "the agent's profile",
      (e) => e.event === "profile_update" && e.senderInboxId === agent.inboxId && match(plainMetadata(e)),
      { from, ms: 30_000 },
    ),
  );

/** Waits until the agent has read past `at` (XMTP's nanoseconds): its conversation's state.json says so. */
const readPast = (at: bigint) =>
  waitFor(
    "the agent to have handled it",
    async () => BigInt((await readHome(agent.ws))?.lastSeenNs ?? "0") >= at,
    30_000,
  );

/** Waits until the agent has handled Ana's message `id`, as Saul's CLI printed it. */
async function handled(id: string): Promise<void> {
  const m = await saulCli.waitFor<MessageEvent & { sentAt: string }>(
    `message ${id}`,
    (e) => e.event === "message" && e.id === id,
  );
  await readPast(BigInt(Date.parse(m.sentAt)) * 1_000_000n);
}

/** Waits until the agent has handled Saul's message `id`, as Ana's client has it. */
async function handledSaul(id: string): Promise<void> {
  let at: bigint | undefined;
  await waitFor("Ana to have Saul's message", async () => {
    at = (await ana.texts()).find((t) => t.id === id)?.sentAtNs;
    return at !== undefined;
  });
  await readPast(at!);
}

/** The agent's answer to the message `id`: a reply to it (a group of three or more), as `cli` printed it. */
const replyTo = (cli: ConvosCli, id: string) =>
  cli.waitFor<MessageEvent>(
    `the agent's reply to ${id}`,
    (e) => e.event === "message" && e.senderInboxId === agent.inboxId && (e as MessageEvent).replyTo === id,
    { ms: 30_000 },
  );

const participation = (mode: ParticipationMode, cooldownSeconds = 0) => ({ mode, cooldownSeconds });

/** The owner's SetParticipation as `who` signs it: through the pool (`request`) or straight to the agent. */
const signed = (who: TestIdentity, p: ReturnType<typeof participation>, inboxId = who.inboxId) =>
  signOperation(who.account, "SetParticipation", { inboxId, instanceId: agent.id, ...p });

const setMode = async (who: TestIdentity, mode: ParticipationMode, cooldownSeconds = 0) => {
  const p = participation(mode, cooldownSeconds);
  return stack.claimsSc!.client.setParticipation(
    { instanceId: agent.id, participation: p, ownerSignature: await signed(who, p) },
    as(who),
  );
};

beforeAll(async () => {
  ({ ownerCli: saulCli, owner: saul, agent } = await people.start());
}, 240_000);

afterAll(() => people.close(), 60_000);

describe("a good member of a group", () => {
  it("alone with its owner it answers what he says unasked, and its profile says it speaks by the conversation's size", {
    timeout: 60_000,
  }, async () => {
    // The pool's attestation comes after the claim: the profile that carries it says when it speaks too.
    const profile = await profileFrom(saulCli, 0, (m) => !!m.attestation);
    expect(profile).toMatchObject({ participation: "auto", cooldown_seconds: 0 });
    const answer = await saidMessage(saulCli, agent, await saulCli.send("what a day"), /I read: "what a day"/);
    // With one person, its answer is a message of its own, not a reply; its thinking stops naming it.
    expect(answer.replyTo).toBeUndefined();
    await saulCli.thinkingFrom(agent.inboxId, 0, (e) => e.state === "stop" && e.resultMessageId === answer.id);
  });

  it("a text to its number from outside: typing while the turn runs, no thinking (no message of the conversation to anchor to)", {
    timeout: 60_000,
  }, async () => {
    const from = saulCli.events.length;
    const number = agent.configSnapshot!.tools.find((t) => t.toolId === "sms")!.handle;
    await stack.sms!.phone(PHONE).send(number, "Is the cabin still free?");
    const relayed = await saidMessage(saulCli, agent, from, /A text came/);
    const typing = (isTyping: boolean) =>
      saulCli.waitFor(
        `typing ${isTyping}`,
        (e) => e.event === "typing" && e.senderInboxId === agent.inboxId && e.isTyping === isTyping,
        { from },
      );
    const [on, off] = [await typing(true), await typing(false)];
    const at = (e: CliEvent) => saulCli.events.indexOf(e);
    expect(at(on)).toBeLessThan(at(relayed));
    expect(at(off)).toBeGreaterThan(at(relayed));
    expect(
      saulCli.events.slice(from).filter((e) => e.event === "thinking" && e.senderInboxId === agent.inboxId),
    ).toEqual([]);
  });

  it("once a third person joins it waits to be named or replied to, and answers with a reply; her reply to its answer counts", {
    timeout: 90_000,
  }, async () => {
    ana = await people.join("Ana");
    const from = saulCli.events.length;
    const unasked = await saulCli.sendMessage("the weather is fine");
    const asked = await saulCli.sendMessage("Concierge, hello from the three of us");
    // Ana sees its answer, a reply to Saul's message.
    const answer = await ana.heard(agent.inboxId, undefined, /hello from the three of us/);
    expect(answer.replyTo).toBe(asked.id);
    await handledSaul(unasked.id);
    // Her reply to its answer is said to it.
    const replied = await ana.reply(answer.id, "go on, tell me more about it");
    expect((await replyTo(saulCli, replied.id)).content).toMatch(/I read: "go on, tell me more about it"/);
    expect(agentSaid(saulCli, from).filter((t) => t.includes("the weather is fine"))).toEqual([]);
  });

  it("only its owner's signature changes when it speaks, even handed to it by a compromised pool; a signature is good once", {
    timeout: 60_000,
  }, async () => {
    const speak = participation(ParticipationMode.SPEAK);
    const direct = (ownerId: string, signature: Awaited<ReturnType<typeof signed>>) =>
      agent.setParticipation(
        create(InstanceServiceSetParticipationRequestSchema, { ownerId, participation: speak, signature }),
      );
    // Ana as the owner; Ana's signature under Saul's name; Saul's signature over other values.
    await expect(direct(ana.inboxId, await signed(ana, speak))).rejects.toThrow(/not this agent's owner/);
    await expect(direct(saul.inboxId, await signed(ana, speak, saul.inboxId))).rejects.toThrow(/signature/);
    await expect(direct(saul.inboxId, await signed(saul, participation(ParticipationMode.PAUSED)))).rejects.toThrow(
      /signature/,
    );
    expect(agent.participationSnapshot).toEqual(participation(ParticipationMode.UNSPECIFIED));
    // Saul's own, once; the same again is refused.
    const mention = participation(ParticipationMode.MENTION);
    const once = await signed(saul, mention);
    const request = create(InstanceServiceSetParticipationRequestSchema, {
      ownerId: saul.inboxId,
      participation: mention,
      signature: once,
    });
    await agent.setParticipation(request);
    await expect(agent.setParticipation(request)).rejects.toThrow(/nonce|used/);
    expect(agent.participationSnapshot).toEqual(mention);
  });

  it(`in speak mode with a ${COOLDOWN_SECONDS} s cooldown it joins in unasked only once the cooldown has run out; members are told and its profile shows it`, {
    timeout: 120_000,
  }, async () => {
    let from = saulCli.events.length;
    const before = (await ana.texts()).at(-1);
    await setMode(saul, ParticipationMode.SPEAK, COOLDOWN_SECONDS);
    // Ana sees the change said, and the agent's profile says it, its badge kept.
    // This change's notice: the last test's own may reach Ana only now, on a loaded machine.
    expect(
      (await ana.heard(agent.inboxId, before, /^My owner changed when I speak here\. I answer what people say here/))
        .text,
    ).toBe(
      `My owner changed when I speak here. I answer what people say here. After an answer, I wait ${COOLDOWN_SECONDS} seconds before I join in unasked.`,
    );
    const profile = await profileFrom(saulCli, from, (m) => m.participation === "speak");
    expect(profile).toMatchObject({ cooldown_seconds: COOLDOWN_SECONDS, owner: saul.inboxId });
    expect(profile.attestation).toBeTruthy();

    from = saulCli.events.length;
    await said(saulCli, agent, await saulCli.send("Concierge, plan dinner"), /I read: "Concierge, plan dinner"/);
    const answeredAt = Date.now();
    const early = await ana.send("sounds fun to me");
    await handled(early.id);
    expect(Date.now() - answeredAt, "handled within the cooldown").toBeLessThan(COOLDOWN_SECONDS * 1000);
    // The cooldown counts from the answer's turn, which began before Saul saw the answer.
    await new Promise((r) => setTimeout(r, answeredAt + COOLDOWN_SECONDS * 1000 + 500 - Date.now()));
    from = saulCli.events.length;
    await ana.send("I will bring wine");
    await said(saulCli, agent, from, /I read: "I will bring wine"/);
    expect(agentSaid(saulCli, from).filter((t) => t.includes("sounds fun"))).toEqual([]);

    from = saulCli.events.length;
    await setMode(saul, ParticipationMode.PAUSED);
    expect(await profileFrom(saulCli, from, (m) => m.participation === "paused")).toMatchObject({
      cooldown_seconds: 0,
    });
  });

  it("by default, once Ana is removed, it answers what Saul says unasked again", { timeout: 90_000 }, async () => {
    await setMode(saul, ParticipationMode.UNSPECIFIED);
    // Three members: not named, not answered.
    const from = saulCli.events.length;
    const unasked = await saulCli.sendMessage("nothing for you here");
    await handledSaul(unasked.id);
    await saulCli.run(["conversation", "remove-members", stack.ready.conversationId, ana.inboxId]);
    await said(saulCli, agent, await saulCli.send("just us two again"), /I read: "just us two again"/);
    expect(agentSaid(saulCli, from).filter((t) => t.includes("nothing for you here"))).toEqual([]);
  });
});
