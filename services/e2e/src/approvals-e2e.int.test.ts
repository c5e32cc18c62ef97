// The owner is their Convos self, and answers their agent's questions from
// outside the conversation (docs/trust.md, "Approvals"), every part real:
// PostgreSQL, the local XMTP node, the template, claims and lineage
// services, an instance host (offline model), the Telnyx stand-in, the
// gateway, the pool CLI, and two conversations served by the real Convos
// CLI. Scored on what happened: the texts the stand-in delivered.
//
//   1. Saul takes his Convos identity as his pool key (`keygen
//      --from-convos`), claims an agent into his conversation with the CLI,
//      and the agent knows him there as its owner: it asks him by name about
//      his own request, and `pool approve` with that key answers it.
//   2. Olive claims an agent into Ana's conversation and is no member of it.
//      Ana asks the agent (L2) for a text: it asks its owner. Olive lists the
//      question and approves it over Connect; the text goes out once. A
//      stranger's answer, through the pool and straight to the agent past
//      it, a replayed answer, and an answer once the question is no longer
//      waiting change nothing.
import { join } from "node:path";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { InstanceApprovalService } from "@convos-pool/gen/convos/pool/v1/instance_approval_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { instanceCall, readHome, type Agent } from "@convos-pool/instance";
import { createLogger, createServiceClient } from "@convos-pool/kit/server";
import { signOperation } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate, tool, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { saidMessage } from "@convos-pool/testing/convos-cli";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { run as pool } from "@convos-pool/cli";
import { as, expectCode } from "@convos-pool/claims/testing";
import { RealStack, type Conversation } from "./real-stack.js";

const stack = new RealStack({
  name: "approvals-e2e",
  conversationName: "Dinner plans",
  host: { joinTimeoutMs: 15_000, tools: { approvalTimeoutMs: 90_000 } },
  claims: { smsRange: "+15550730000..+15550730019", pool: { target: 2 } },
});

const SAULS_FRIEND = "+15550188021";
const ANAS_FRIEND = "+15550188022";
const creator = newIdentity();
/** Olive owns the agent in Ana's conversation and is no member of it. */
const olive = newIdentity();
const stranger = newIdentity();
let template: Template;
let gateway: RunningGateway;
let approvals: Client<typeof ApprovalService>;
/** As a compromised claims service would call the agent: with the claims credential, past every pool check. */
let direct: Client<typeof InstanceApprovalService>;
let anas: Conversation;
const closers: (() => void)[] = [];

const out: string[] = [];
const err: string[] = [];
/** The pool CLI against the gateway, with the key file `key` (in the stack's directory). */
function cli(key: string, args: string[]): Promise<number> {
  out.length = 0;
  err.length = 0;
  const io = { env: {}, cwd: stack.dir, stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
  return pool(["--json", "--url", gateway.url, "--key", join(stack.dir, key), ...args], io);
}
const printed = () => JSON.parse(out.join("")) as Record<string, unknown>;

const agentOf = (id: string): Agent => {
  const agent = stack.host!.instances.get(id);
  if (!agent) throw new Error(`agent ${id} is not on the host`);
  return agent;
};
const smsOf = (agent: Agent) => agent.configSnapshot!.tools.find((t) => t.toolId === "sms")!.handle;

function answerSignature(signer: TestIdentity, instanceId: string, questionId: string, approve: boolean) {
  return signOperation(signer.account, "AnswerApproval", {
    inboxId: signer.inboxId,
    instanceId,
    questionId,
    approve,
  });
}

beforeAll(async () => {
  await stack.start();
  anas = await stack.conversation("Ana's errands", "Ana");
  template = await signedTemplate(
    stack.templatesSc!.client,
    creator,
    sampleContent({ agent_name: "Concierge", tools: [tool("sms", "pool")] }),
    "public",
  );
  gateway = await startGateway({
    templatesUrl: stack.templates!.url,
    claimsUrl: stack.claims!.url,
    credentials: stack.creds.gateway,
    databaseUrl: await createTestDatabase("approvals_e2e_gateway"),
    log: createLogger("gateway", { level: "silent" }),
  });
  const sc = createServiceClient(ApprovalService, stack.claims!.url, stack.creds.gateway);
  const hsc = createServiceClient(InstanceApprovalService, stack.host!.url, stack.creds.claims);
  approvals = sc.client;
  direct = hsc.client;
  closers.push(
    () => sc.close(),
    () => hsc.close(),
  );
  await stack.idleAgents(2);
}, 240_000);

afterAll(async () => {
  for (const close of closers) close();
  await gateway?.close();
  await stack.close();
}, 60_000);

describe("the owner is their Convos self", () => {
  it("keygen --from-convos takes the identity of the person in the conversation; the agent they claim asks them by name, and their signed answer from the CLI does the act once", {
    timeout: 180_000,
  }, async () => {
    const saulCli = stack.cli!;
    expect(await cli("saul.json", ["keygen", "--from-convos", join(stack.dir, "cli", "home")]), err.join("")).toBe(0);
    expect(printed().inbox_id).toBe(stack.ready.inboxId);
    expect(await cli("saul.json", ["claim", template.id, stack.ready.inviteUrl]), err.join("")).toBe(0);
    const instanceId = printed().instance_id as string;
    const agent = agentOf(instanceId);
    expect(agent.configSnapshot?.ownerId).toBe(stack.ready.inboxId);

    // At L2 the owner's own request asks too, addressed to them by the name they have in the chat. Their
    // profile reaches the agent as a message of its own: asked before it arrives, the agent says "my owner".
    await waitFor(
      "the agent to know its owner's name",
      async () => (await readHome(agent.ws))?.names[stack.ready.inboxId] === "Saul",
      30_000,
    );
    const from = await saulCli.send(`text ${SAULS_FRIEND}: on my way`);
    const question = await saidMessage(saulCli, agent, from, /may I do this\?/, 60_000);
    expect(question.content).toMatch(/^Saul, may I do this\?\n\nSend a text\nTo: \+15550188021\nText: on my way\n/);
    expect(question.content).not.toContain("(member)");

    expect(await cli("saul.json", ["approvals", instanceId]), err.join("")).toBe(0);
    expect(out.join("")).toContain(question.id);
    expect(out.join("")).toContain("Text: on my way");
    expect(await cli("saul.json", ["approve", instanceId, question.id, "--yes"]), err.join("")).toBe(0);
    const phone = stack.sms!.phone(SAULS_FRIEND);
    expect(await phone.waitForMessage((m) => m.text === "on my way")).toMatchObject({ from: smsOf(agent) });
    expect(phone.messages()).toHaveLength(1);
    // Answered: nothing waits any more, and a second answer is refused with the question named.
    expect(await cli("saul.json", ["approvals", instanceId]), err.join("")).toBe(0);
    expect(out.join("").trim()).toBe("(no question waiting)");
    expect(await cli("saul.json", ["approve", instanceId, question.id, "--no"])).toBe(1);
    expect(err.join("")).toMatch(/question_id/);
    expect(await cli("saul.json", ["approve", instanceId, question.id])).toBe(2);
  });
});

describe("the REST paths", () => {
  it("name a bad field, and want the owner's session to list and a signature to answer", {
    timeout: 30_000,
  }, async () => {
    const path = `${gateway.url}/api/pool/agents/inst_nobody/approvals`;
    const post = (body: unknown) =>
      fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await fetch(path)).status).toBe(401);
    let res = await post({ approve: true });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe("question_id");
    res = await post({ question_id: "q1", approve: "yes" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe("approve");
    res = await post({ question_id: "q1", approve: true, extra: 1 });
    expect(res.status).toBe(400);
    res = await post({ question_id: "q1", approve: true });
    expect(res.status).toBe(401);
  });
});

describe("an owner who is not in the conversation answers from outside it", () => {
  it("a member's request asks the owner; a stranger's and a replayed answer change nothing; the owner's signed yes texts once", {
    timeout: 180_000,
  }, async () => {
    const { instanceId } = await stack.claimsSc!.client.claim(
      { requester: olive.inboxId, templateId: template.id, conversationInvite: anas.ready.inviteUrl },
      as(olive),
    );
    const agent = agentOf(instanceId);
    // Ana's profile reaches the agent as a message of its own: asked before it arrives, the question names a member.
    await waitFor(
      "the agent to know Ana's name",
      async () => (await readHome(agent.ws))?.names[anas.ready.inboxId] === "Ana",
      30_000,
    );
    const from = await anas.cli.send(`text ${ANAS_FRIEND}: the keys are with the neighbour`);
    const asked = await saidMessage(anas.cli, agent, from, /may I do this\?/, 60_000);
    expect(asked.content).toContain("Asked by: Ana (member)");

    // Only the owner lists it; to anyone else the agent does not exist. (Listed once the agent's send of it
    // returned: Ana's CLI may show it a moment before.)
    let questions: Awaited<ReturnType<typeof approvals.listApprovals>>["questions"] = [];
    await waitFor(
      "the question listed",
      async () => {
        questions = (await approvals.listApprovals({ instanceId }, as(olive))).questions;
        return questions.length > 0;
      },
      10_000,
      100,
    );
    expect(questions.map((q) => q.id)).toEqual([asked.id]);
    expect(questions[0]?.statement).toContain(`To: ${ANAS_FRIEND}`);
    await expectCode(approvals.listApprovals({ instanceId }, as(stranger)), Code.NotFound);
    await expectCode(approvals.listApprovals({ instanceId }), Code.Unauthenticated);

    // A stranger's yes: through the pool it is NOT_FOUND; straight to the agent, past the pool, PERMISSION_DENIED.
    const strangers = await answerSignature(stranger, instanceId, asked.id, true);
    await expectCode(
      approvals.answerApproval({ instanceId, questionId: asked.id, approve: true, ownerSignature: strangers }),
      Code.NotFound,
    );
    await expectCode(
      direct.answerApproval(
        { ownerId: olive.inboxId, questionId: asked.id, approve: true, signature: strangers },
        instanceCall(instanceId),
      ),
      Code.PermissionDenied,
    );
    // The owner's no, presented to the agent as a yes (what a pool that wanted the act would send).
    const oliveNo = await answerSignature(olive, instanceId, asked.id, false);
    await expectCode(
      direct.answerApproval(
        { ownerId: olive.inboxId, questionId: asked.id, approve: true, signature: oliveNo },
        instanceCall(instanceId),
      ),
      Code.PermissionDenied,
    );
    const phone = stack.sms!.phone(ANAS_FRIEND);
    expect(phone.messages()).toHaveLength(0);
    expect((await approvals.listApprovals({ instanceId }, as(olive))).questions).toHaveLength(1);

    // Olive's signed yes, with no session at all: the text goes out, once.
    const yes = await answerSignature(olive, instanceId, asked.id, true);
    await approvals.answerApproval({ instanceId, questionId: asked.id, approve: true, ownerSignature: yes });
    expect(await phone.waitForMessage((m) => m.text === "the keys are with the neighbour")).toMatchObject({
      from: smsOf(agent),
    });

    // The same answer again, through the pool and straight to the agent: its nonce is spent in both.
    await expectCode(
      approvals.answerApproval({ instanceId, questionId: asked.id, approve: true, ownerSignature: yes }),
      Code.Unauthenticated,
    );
    await expectCode(
      direct.answerApproval(
        { ownerId: olive.inboxId, questionId: asked.id, approve: true, signature: yes },
        instanceCall(instanceId),
      ),
      Code.Unauthenticated,
    );
    // A fresh answer to a question no longer waiting: FAILED_PRECONDITION naming it.
    await expectCode(
      approvals.answerApproval(
        {
          instanceId,
          questionId: asked.id,
          approve: true,
          ownerSignature: await answerSignature(olive, instanceId, asked.id, true),
        },
        as(olive),
      ),
      Code.FailedPrecondition,
    );
    // Give a second text the time to go out, had anything sent it.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(phone.messages()).toHaveLength(1);
    expect((await approvals.listApprovals({ instanceId }, as(olive))).questions).toEqual([]);
  });
});
