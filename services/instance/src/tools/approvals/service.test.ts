// The agent's side of its owner's answers from outside the conversation,
// fast: the real handlers over an in-memory Connect transport, a real
// toolbox on a workspace on disk (what it says is recorded instead of sent),
// a real nonce file and signature verifier (inboxes derived offline); no
// XMTP. The same through the claims service, the gateway and the CLI, on the
// real stack: services/e2e/src/approvals-e2e.int.test.ts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InstanceApprovalService } from "@convos-pool/gen/convos/pool/v1/instance_approval_service_pb.js";
import { DerivedInboxResolver, LOCAL_POOL_ID, SignatureVerifier, signOperation } from "@convos-pool/kit/signing";
import { createLogger } from "@convos-pool/kit/server";
import { fieldViolations } from "@convos-pool/kit/content";
import { newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import { SpentNonces } from "../../platform/nonces.js";
import { Workspace } from "../../platform/workspace.js";
import { AgentToolbox } from "../toolbox/toolbox.js";
import { createInstanceApprovalService, type ApprovalAccess } from "./service.js";

const owner = newIdentity();
const stranger = newIdentity();
let dir: string;
let ws: Workspace;
let toolbox: AgentToolbox;
let client: Client<typeof InstanceApprovalService>;
let asked = 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "approval-service-"));
  ws = new Workspace(dir, "inst_approvals");
  await ws.create();
  asked = 0;
  const log = createLogger("approval-service-test", { level: "silent" });
  toolbox = new AgentToolbox({
    ws,
    log,
    approvalTimeoutMs: 60_000,
    say: async () => `question-${++asked}`,
    paid: async () => undefined,
    ownerName: () => "Saul",
    betweenTurns: (job) => job(),
  });
  const nonces = await SpentNonces.open(ws);
  const access: ApprovalAccess = {
    instanceId: ws.instanceId,
    ownerId: owner.inboxId,
    verifier: new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() }),
    spendNonce: (nonce) => nonces.spend(nonce, Date.now() / 1000 + 600),
    waiting: () => toolbox.waitingQuestions(),
    answer: (id, said) => toolbox.answerSigned(id, said),
    log,
  };
  const transport = createRouterTransport(({ service }) =>
    service(
      InstanceApprovalService,
      createInstanceApprovalService(() => ({ approvalCall: (job) => job(access) })),
    ),
  );
  client = createClient(InstanceApprovalService, transport);
});
afterEach(async () => {
  toolbox.close();
  await rm(dir, { recursive: true, force: true });
});

/** `signer`'s AnswerApproval of `questionId` (for `instanceId`, as `approve`). */
function signAnswer(questionId: string, approve: boolean, signer: TestIdentity = owner, instanceId = ws.instanceId) {
  return signOperation(signer.account, "AnswerApproval", { inboxId: signer.inboxId, instanceId, questionId, approve });
}

async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  return p.then(
    () => undefined,
    (err: unknown) => ConnectError.from(err).code,
  );
}

/** A question the agent asks, waiting for its answer. */
async function asking(statement: string): Promise<{ id: string; answer: Promise<string> }> {
  const answer = toolbox.ask(statement);
  await new Promise((r) => setImmediate(r));
  return { id: `question-${asked}`, answer };
}

describe("an owner's answer from outside the conversation, as the agent checks it", () => {
  it("lists the waiting questions, oldest first, with the act in full and until when each waits", async () => {
    expect((await client.listApprovals({ ownerId: owner.inboxId })).questions).toEqual([]);
    await asking("Send a text to +15550100111: “Dinner at 8”. Asked by: Ana (member)");
    await asking("Pay 0.01 ETH to 0x…b0b01. Asked by: Ana (member)");
    const { questions } = await client.listApprovals({ ownerId: owner.inboxId });
    expect(questions.map((q) => q.id)).toEqual(["question-1", "question-2"]);
    expect(questions[0]?.statement).toContain("+15550100111");
    const asked = Number(questions[0]?.askedAt?.seconds);
    expect(Number(questions[0]?.expiresAt?.seconds) - asked).toBe(60);
    // Someone else's listing: the agent answers its own owner's only.
    expect(await codeOf(client.listApprovals({ ownerId: stranger.inboxId }))).toBe(Code.PermissionDenied);
  });

  it("the owner's signed yes answers the question once; a replay, and an answer to a question no longer waiting, change nothing", async () => {
    const q = await asking("Send a text to +15550100111");
    const signature = await signAnswer(q.id, true);
    await client.answerApproval({ ownerId: owner.inboxId, questionId: q.id, approve: true, signature });
    await expect(q.answer).resolves.toBe("yes");
    expect(toolbox.waitingForOwner).toBe(false);
    // The same signature again: its nonce is spent.
    const again = client.answerApproval({ ownerId: owner.inboxId, questionId: q.id, approve: true, signature });
    expect(await codeOf(again)).toBe(Code.Unauthenticated);
    // A fresh signature for a question answered already: nothing is waiting.
    const late = await client
      .answerApproval({
        ownerId: owner.inboxId,
        questionId: q.id,
        approve: false,
        signature: await signAnswer(q.id, false),
      })
      .catch((err: unknown) => ConnectError.from(err));
    expect(late).toBeInstanceOf(ConnectError);
    expect((late as ConnectError).code).toBe(Code.FailedPrecondition);
    expect(fieldViolations(late as ConnectError)[0]?.field).toBe("question_id");
  });

  it("a no declines; the signature must be the owner's, over this question, this answer and this agent", async () => {
    const q = await asking("Pay 0.01 ETH to 0x…b0b01");
    const answer = (approve: boolean, signature: Awaited<ReturnType<typeof signAnswer>>, ownerId = owner.inboxId) =>
      codeOf(client.answerApproval({ ownerId, questionId: q.id, approve, signature }));
    // A stranger naming themself, or naming the owner with their own signature.
    expect(await answer(true, await signAnswer(q.id, true, stranger), stranger.inboxId)).toBe(Code.PermissionDenied);
    expect(await answer(true, await signAnswer(q.id, true, stranger))).toBe(Code.PermissionDenied);
    // The owner's no presented as a yes (what a pool that wanted the act would do), another question's, another agent's.
    expect(await answer(true, await signAnswer(q.id, false))).toBe(Code.PermissionDenied);
    expect(await answer(true, await signAnswer("question-9", true))).toBe(Code.PermissionDenied);
    expect(await answer(true, await signAnswer(q.id, true, owner, "inst_other"))).toBe(Code.PermissionDenied);
    expect(await answer(true, undefined as never)).toBe(Code.Unauthenticated);
    expect(toolbox.waitingQuestions().map((w) => w.id)).toEqual([q.id]);
    expect(await answer(false, await signAnswer(q.id, false))).toBeUndefined();
    await expect(q.answer).resolves.toBe("no");
  });

  it("refuses a question id that is none before it looks at the signature", async () => {
    const bad = await client
      .answerApproval({
        ownerId: owner.inboxId,
        questionId: "../x",
        approve: true,
        signature: await signAnswer("../x", true),
      })
      .catch((err: unknown) => ConnectError.from(err));
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
    expect(fieldViolations(bad as ConnectError)[0]?.field).toBe("question_id");
  });
});
