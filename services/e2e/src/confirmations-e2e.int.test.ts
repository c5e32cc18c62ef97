// An owner signed in with Convos alone acts from the pool by confirming each
// step in Convos (docs/trust.md, "Confirmations in Convos"), every part
// real: PostgreSQL, the local XMTP node, the template, claims and lineage
// services, an instance host (offline model), the SMS stand-in, and the
// conversation served by the real Convos CLI as Saul's app, with Ana, a
// person who joined by the invite (an SDK client of her own, which taps
// buttons). The page is played by calls to the claims service's
// ConfirmationService with Saul's session (the gateway forwards the same
// service unchanged: services/gateway/src/connect/forward.ts); Saul holds no
// key the pool or the agent is shown.
//
//   1. The page asks to set the agent's trust to L3: the agent asks Saul in
//      his direct conversation with it (a Convos conversation of the two),
//      with the step in full and its code, and tells the group nothing.
//      Ana's reply and tap on the question's id, in the group, change
//      nothing; Saul's reply "yes" sets L3, once.
//   2. The pool asks for a step Saul never chose (L1): he reads it in Convos
//      and declines; his later "yes" on the same question changes nothing.
//   3. Ana asks the agent to text a friend: it asks Saul. The page asks to
//      approve that question; Saul's 👍 on the confirmation approves it, and
//      the text goes out once.
//   4. The page asks to show the agent's memory, sealed to a key it made:
//      Ana's session has nobody asked and reads no confirmation; Saul's yes
//      seals one listing that only that key opens.
//   5. A daily limit confirmed in Convos: Ana's session cannot ask one; one
//      above 0.05 ETH is refused before anyone is asked, naming its field;
//      Saul's yes to 0.01 ETH is recorded as confirmed in Convos, not signed,
//      and its ask's nonce is spent.
// And before: a stranger's session has nobody asked (NOT_FOUND), and a call
// past the pool naming another owner is refused by the agent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  ConfirmationService,
  ConfirmationState,
  ConfirmationStepSchema,
  type ConfirmationStep,
} from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { Code } from "@connectrpc/connect";
import { InstanceConfirmationService } from "@convos-pool/gen/convos/pool/v1/instance_confirmation_service_pb.js";
import { instanceCall, type Agent } from "@convos-pool/instance";
import { createServiceClient } from "@convos-pool/kit/server";
import { openSealed, x25519KeyPair } from "@convos-pool/kit/signing";
import { fieldViolations } from "@convos-pool/kit/content";
import { SpendLimitKind } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { newIdentity, tool } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { saidMessage, type ConvosCli } from "@convos-pool/testing/convos-cli";
import type { Person } from "@convos-pool/convos/person";
import { as, expectCode } from "@convos-pool/claims/testing";
import { PeopleStack } from "./people-stack.js";

const people = new PeopleStack({
  stack: {
    name: "confirmations-e2e",
    conversationName: "Weekend away",
    host: { joinTimeoutMs: 15_000, tools: { approvalTimeoutMs: 90_000 } },
    claims: { smsRange: "+15550770000..+15550770019", pool: { target: 1 } },
  },
  template: { agent_name: "Concierge", tools: [tool("sms", "pool")], max_trust_level: "L3" },
  people: ["Ana"],
});
const stack = people.stack;
const FRIEND = "+15550177041";
let saulCli: ConvosCli;
let ana: Person;
let agent: Agent;
let confirmations: ReturnType<typeof createServiceClient<typeof ConfirmationService>>;
let approvals: ReturnType<typeof createServiceClient<typeof ApprovalService>>;

const trust = (trustLevel: TrustLevel, dailySpendLimitWei = ""): ConfirmationStep =>
  create(ConfirmationStepSchema, { step: { case: "setTrustLevel", value: { trustLevel, dailySpendLimitWei } } });

/** A message as `convos conversation messages --json` lists it. */
interface Listed {
  id: string;
  senderInboxId: string;
  content: string;
}
/** A conversation as `convos conversations list --json` lists it. */
interface ListedConversation {
  conversationId: string;
  name: string;
  memberCount: number;
}

/** The agent's message in Saul's direct conversation with it that contains `code`, once it came. */
async function inSaulsDirect(code: string): Promise<{ dm: string; question: Listed }> {
  let found: { dm: string; question: Listed } | undefined;
  await waitFor(
    `the agent asking Saul directly (code ${code})`,
    async () => {
      const listed = await saulCli.run<ListedConversation[]>(["conversations", "list", "--sync"]);
      const direct = listed.find((c) => c.conversationId !== stack.ready.conversationId);
      if (!direct) return false;
      expect(direct).toMatchObject({ name: "Concierge · approvals", memberCount: 2 });
      const messages = await saulCli.run<Listed[]>(["conversation", "messages", direct.conversationId, "--sync"]);
      // The question itself, not its buttons (whose description says the same).
      const question = messages.find(
        (m) =>
          m.senderInboxId === agent.inboxId &&
          typeof m.content === "string" &&
          m.content.startsWith("Saul, may I do this") &&
          m.content.includes(code),
      );
      if (question) found = { dm: direct.conversationId, question };
      return found !== undefined;
    },
    60_000,
    1_000,
  );
  return found!;
}

/** The page asks for `step` with Saul's session; the agent's question to him, in his direct conversation with it. */
async function pageAsks(step: ConfirmationStep) {
  const { confirmation } = await confirmations.client.askConfirmation(
    { instanceId: people.agentId, step },
    as(people.owner),
  );
  const { dm, question } = await inSaulsDirect(`(code ${confirmation!.code})`);
  return { confirmation: confirmation!, question, dm };
}

/** Saul answers in his direct conversation: a reply to the question. */
const saulReplies = (dm: string, id: string, text: string) => saulCli.run(["conversation", "send-reply", dm, id, text]);

/** Where the confirmation stands, as the page polls it. */
const stateOf = async (id: string) =>
  (await confirmations.client.getConfirmation({ instanceId: people.agentId, id }, as(people.owner))).confirmation
    ?.state;

beforeAll(async () => {
  ({ ownerCli: saulCli, agent } = await people.start());
  ana = people.person("Ana");
  confirmations = createServiceClient(ConfirmationService, stack.claims!.url, stack.creds.gateway);
  approvals = createServiceClient(ApprovalService, stack.claims!.url, stack.creds.gateway);
}, 300_000);

afterAll(async () => {
  confirmations?.close();
  approvals?.close();
  await people.close();
}, 60_000);

describe("who may have the owner asked", () => {
  it("nobody but the signed-in owner, through the pool; past the pool, the agent asks its own owner only", {
    timeout: 60_000,
  }, async () => {
    const stranger = newIdentity();
    const step = trust(TrustLevel.ADVISOR);
    await expectCode(
      confirmations.client.askConfirmation({ instanceId: people.agentId, step }, as(stranger)),
      Code.NotFound,
    );
    await expectCode(
      confirmations.client.getConfirmation({ instanceId: people.agentId, id: "0".repeat(32) }, as(stranger)),
      Code.NotFound,
    );
    // As a compromised claims service would call the agent: with the claims credential, naming someone else.
    const direct = createServiceClient(InstanceConfirmationService, stack.host!.url, stack.creds.claims);
    try {
      await expectCode(
        direct.client.askConfirmation({ ownerId: stranger.inboxId, step }, instanceCall(people.agentId)),
        Code.PermissionDenied,
      );
    } finally {
      direct.close();
    }
  });
});

describe("an owner confirms in Convos what the page asks", () => {
  it("the agent asks the step in full with its code; a member's reply and tap change nothing; the owner's yes sets it once", {
    timeout: 180_000,
  }, async () => {
    expect(agent.trustSnapshot?.level).not.toBe(TrustLevel.OPERATOR);
    const before = agent.trustSnapshot?.level;
    const from = saulCli.events.length;
    const { confirmation, question, dm } = await pageAsks(trust(TrustLevel.OPERATOR));
    expect(confirmation.state).toBe(ConfirmationState.WAITING);
    expect(question.content).toContain(`(code ${confirmation.code}): Set my trust level to L3, no spending.`);
    // The group is told nothing of it.
    expect(saulCli.events.slice(from).some((e) => e.event === "message" && e.senderInboxId === agent.inboxId)).toBe(
      false,
    );

    // Ana, a member, answers it every way she can: nothing is set.
    await ana.reply(question.id, "yes");
    await ana.group.sendIntent({ id: question.id, actionId: `approve:${question.id}` });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await stateOf(confirmation.id)).toBe(ConfirmationState.WAITING);
    expect(agent.trustSnapshot?.level).toBe(before);

    await saulReplies(dm, question.id, "yes");
    await waitFor("applied", async () => (await stateOf(confirmation.id)) === ConfirmationState.APPLIED, 30_000, 250);
    expect(agent.trustSnapshot?.level).toBe(TrustLevel.OPERATOR);
    // The pool records it as the agent applied it: what the owner's pages show.
    const { instance } = await stack.claimsSc!.client.getInstance({ instanceId: people.agentId }, as(people.owner));
    expect(instance?.trustLevel).toBe(TrustLevel.OPERATOR);
  });

  it("a step the owner never chose is theirs to decline in Convos, and a later yes on its question changes nothing", {
    timeout: 120_000,
  }, async () => {
    const { confirmation, question, dm } = await pageAsks(trust(TrustLevel.OBSERVER));
    expect(question.content).toContain("Set my trust level to L1, no spending.");
    await saulReplies(dm, question.id, "no");
    await waitFor("declined", async () => (await stateOf(confirmation.id)) === ConfirmationState.DECLINED, 30_000, 250);
    await saulCli.run(["conversation", "send-reaction", dm, question.id, "add", "👍"]);
    await saulReplies(dm, question.id, "yes");
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await stateOf(confirmation.id)).toBe(ConfirmationState.DECLINED);
    expect(agent.trustSnapshot?.level).toBe(TrustLevel.OPERATOR);
  });

  it("approves a member's request through a confirmation: the owner's 👍 on it answers the waiting question, and the text goes out once", {
    timeout: 180_000,
  }, async () => {
    const friend = stack.sms!.phone(FRIEND);
    const from = saulCli.events.length;
    await ana.send(`Concierge, text ${FRIEND}: the key is under the mat`);
    const asked = await saidMessage(saulCli, agent, from, /^Saul, may I do this\?\n\nSend a text/, 60_000);
    await waitFor(
      "the question listed",
      async () =>
        (await approvals.client.listApprovals({ instanceId: people.agentId }, as(people.owner))).questions.some(
          (q) => q.id === asked.id,
        ),
      20_000,
    );
    const step = create(ConfirmationStepSchema, {
      step: { case: "answerApproval", value: { questionId: asked.id, approve: true } },
    });
    const { confirmation, question, dm } = await pageAsks(step);
    expect(question.content).toContain("Approve what I asked you: Send a text");
    await saulCli.run(["conversation", "send-reaction", dm, question.id, "add", "👍"]);
    await waitFor("applied", async () => (await stateOf(confirmation.id)) === ConfirmationState.APPLIED, 30_000, 250);
    expect(await friend.waitForMessage((m) => m.text === "the key is under the mat")).toMatchObject({
      from: people.handle("sms"),
    });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(friend.messages()).toHaveLength(1);
  });
});

describe("its memory, shown on a confirmation", () => {
  it("a member's session has nobody asked and reads no confirmation; the owner's yes seals one listing to the page's key alone", {
    timeout: 120_000,
  }, async () => {
    const page = x25519KeyPair();
    const step = create(ConfirmationStepSchema, {
      step: { case: "listMemory", value: { recipientKey: page.publicKey, feedbackOnly: false } },
    });
    await expectCode(
      confirmations.client.askConfirmation({ instanceId: people.agentId, step }, as(ana.inboxId)),
      Code.NotFound,
    );
    const { confirmation, question, dm } = await pageAsks(step);
    expect(question.content).toContain("Show everything I know, and who taught it, on the pool's web page, once.");
    expect(confirmation.sealed).toBeUndefined();
    await expectCode(
      confirmations.client.getConfirmation({ instanceId: people.agentId, id: confirmation.id }, as(ana.inboxId)),
      Code.NotFound,
    );
    await saulReplies(dm, question.id, "yes");
    await waitFor("applied", async () => (await stateOf(confirmation.id)) === ConfirmationState.APPLIED, 30_000, 250);
    const done = (
      await confirmations.client.getConfirmation({ instanceId: people.agentId, id: confirmation.id }, as(people.owner))
    ).confirmation!;
    const opened = JSON.parse(new TextDecoder().decode(await openSealed(page.privateKey, done.sealed!))) as {
      entries: unknown[];
    };
    expect(Array.isArray(opened.entries)).toBe(true);
    // The pool relays the box; a key other than the page's (the pool's own, say) opens nothing.
    await expect(openSealed(x25519KeyPair().privateKey, done.sealed!)).rejects.toThrow();
  });
});

describe("a daily limit confirmed in Convos", () => {
  it("a member's session cannot ask one; above 0.05 ETH is refused naming its field; the owner's yes records it as confirmed, once", {
    timeout: 120_000,
  }, async () => {
    const cents = "10000000000000000";
    await expectCode(
      confirmations.client.askConfirmation(
        { instanceId: people.agentId, step: trust(TrustLevel.OPERATOR, cents) },
        as(ana.inboxId),
      ),
      Code.NotFound,
    );
    const over = await confirmations.client
      .askConfirmation(
        { instanceId: people.agentId, step: trust(TrustLevel.OPERATOR, "50000000000000001") },
        as(people.owner),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((over as { code?: Code } | undefined)?.code).toBe(Code.InvalidArgument);
    expect(fieldViolations(over).map((v) => v.field)).toEqual(["step.set_trust_level.daily_spend_limit_wei"]);

    const { confirmation, question, dm } = await pageAsks(trust(TrustLevel.OPERATOR, cents));
    expect(question.content).toContain("Set my trust level to L3, up to 0.01 ETH a day.");
    await saulReplies(dm, question.id, "yes");
    await waitFor("applied", async () => (await stateOf(confirmation.id)) === ConfirmationState.APPLIED, 30_000, 250);
    const read = async () =>
      (await stack.claimsSc!.client.getInstance({ instanceId: people.agentId }, as(people.owner))).instance!;
    expect(await read()).toMatchObject({
      dailySpendLimitWei: cents,
      dailySpendLimitKind: SpendLimitKind.CONFIRMED_IN_CONVOS,
    });
    // The nonce is spent: its ask is recorded once.
    const { rows } = await stack.sql.query<{ recorded_at: Date | null }>(
      `select recorded_at from confirmation_asks where id = $1`,
      [confirmation.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.recorded_at).not.toBeNull();
  });
});
