// An owner's step confirmed in Convos, as the agent asks and applies it,
// fast: the real handlers over an in-memory Connect transport, the real
// confirmations, a real toolbox on a workspace on disk whose questions are
// recorded instead of sent (`say` returns the message's id), and the
// conversation's real arrival policy (agent/conversation/plan.ts
// `planArrival`) for who may answer; no XMTP. The whole way, with the Convos
// CLI as the owner's app: services/e2e/src/confirmations-e2e.int.test.ts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { bytesToHex } from "viem";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  ConfirmationState,
  ConfirmationStepSchema,
  type ConfirmationStep,
} from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { Grant } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceConfirmationService } from "@convos-pool/gen/convos/pool/v1/instance_confirmation_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { openSealed, sealTo, x25519KeyPair } from "@convos-pool/kit/signing";
import { createLogger } from "@convos-pool/kit/server";
import { waitFor } from "@convos-pool/testing";
import { planArrival, type Arriving } from "../../agent/conversation/plan.js";
import { Workspace } from "../../platform/workspace.js";
import { AgentToolbox } from "../toolbox/toolbox.js";
import { applyStep, Confirmations } from "./confirmations.js";
import { confirmationCode, stepDigest } from "./policy.js";
import { createInstanceConfirmationService } from "./service.js";

const OWNER = "a".repeat(64);
const MEMBER = "b".repeat(64);
const SELF = "c".repeat(64);
let dir: string;
let ws: Workspace;
let toolbox: AgentToolbox;
let client: Client<typeof InstanceConfirmationService>;
let said: string[];
let owner: string;
let templateMax: TrustLevel;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "confirmation-service-"));
  ws = new Workspace(dir, "inst_confirmations");
  await ws.create();
  said = [];
  owner = OWNER;
  templateMax = TrustLevel.AUTONOMOUS;
  const log = createLogger("confirmation-service-test", { level: "silent" });
  toolbox = new AgentToolbox({
    ws,
    log,
    approvalTimeoutMs: 60_000,
    say: async (text) => {
      said.push(text);
      return `question-${said.length}`;
    },
    paid: async () => undefined,
    ownerName: () => "Saul",
    betweenTurns: (job) => job(),
  });
  await toolbox.begin(templateMax);
  // Wired as the agent wires them (agent/face/owner.ts confirmationCall).
  const confirmations = new Confirmations({
    instanceId: ws.instanceId,
    ownerId: () => owner,
    ask: (statement) => toolbox.askPrivately(statement),
    apply: (step) =>
      applyStep(step, {
        answerSigned: (id, a) => toolbox.answerSigned(id, a),
        setLevel: (...a) => toolbox.setLevel(...a),
        setPermissions: (p) => toolbox.setPermissions(p),
        templateMax: () => templateMax,
        currentLimitWei: () => toolbox.snapshot?.dailySpendLimitWei ?? "0",
        // A stand-in memory of one entry, sealed as memory/service.ts's listing is.
        listMemory: (key, feedbackOnly) =>
          sealTo(
            key,
            new TextEncoder().encode(JSON.stringify({ entries: [{ text: "Saul likes trains", feedbackOnly }] })),
          ),
      }),
    questionStatement: (id) => toolbox.waitingQuestions().find((q) => q.id === id)?.statement,
    log,
  });
  const access = {
    ownerId: OWNER,
    templateMax: () => templateMax,
    questionWaiting: (id: string) => toolbox.waitingQuestions().some((q) => q.id === id),
    currentLimitWei: () => toolbox.snapshot?.dailySpendLimitWei ?? "0",
    confirmations,
  };
  const transport = createRouterTransport(({ service }) =>
    service(
      InstanceConfirmationService,
      createInstanceConfirmationService(() => ({ confirmationCall: (job) => job(access) })),
    ),
  );
  client = createClient(InstanceConfirmationService, transport);
});
afterEach(async () => {
  toolbox.close();
  await rm(dir, { recursive: true, force: true });
});

const trustStep = (trustLevel: TrustLevel, dailySpendLimitWei = ""): ConfirmationStep =>
  create(ConfirmationStepSchema, { step: { case: "setTrustLevel", value: { trustLevel, dailySpendLimitWei } } });

/** A message in the conversation, handed on as the conversation hands it (listening.ts: planArrival, then the toolbox). */
function arrives(m: Arriving): boolean {
  const plan = planArrival(m, { self: SELF, ownerId: OWNER, mayAnswer: true });
  return plan.kind === "offer" && toolbox.answer(plan.answer);
}

/** A tap on the Approve or Decline button of the question `id`, by `sender`. */
function tap(id: string, approve: boolean, sender = OWNER): boolean {
  return arrives({ senderInboxId: sender, tap: { buttons: id, action: `${approve ? "approve" : "decline"}:${id}` } });
}

async function ask(step: ConfirmationStep) {
  const before = said.length;
  const { confirmation } = await client.askConfirmation({ ownerId: OWNER, step });
  await waitFor("the question said", () => said.length > before);
  // Said: its id known a moment later, once the send returned (a tap before that is kept until it has).
  await new Promise((r) => setImmediate(r));
  return { confirmation: confirmation!, question: `question-${said.length}` };
}

async function stateOf(id: string): Promise<ConfirmationState | undefined> {
  return (await client.getConfirmation({ ownerId: OWNER, id })).confirmation?.state;
}

async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  return p.then(
    () => undefined,
    (err: unknown) => ConnectError.from(err).code,
  );
}

describe("a step confirmed by the owner in Convos", () => {
  it("asks the owner the step in full with its code, and applies it once on the owner's tap on Approve", async () => {
    // The owner signed L3 with 0.02 ETH a day before; the page lowers it to 0.01.
    await toolbox.setLevel(TrustLevel.OPERATOR, "20000000000000000", "signed", true);
    await toolbox.setLevel(TrustLevel.OBSERVER, "0", "signed", true);
    await toolbox.setLevel(TrustLevel.ADVISOR, "20000000000000000", "signed", true);
    const { confirmation, question } = await ask(trustStep(TrustLevel.OPERATOR, "10000000000000000"));
    expect(confirmation.id).toMatch(/^[0-9a-f]{32}$/);
    const step = { kind: "set_trust_level", trustLevel: TrustLevel.OPERATOR, dailySpendLimitWei: "10000000000000000" };
    expect(confirmation.digest).toBe(stepDigest(ws.instanceId, step as never));
    expect(confirmation.code).toBe(confirmationCode(confirmation.digest));
    expect(confirmation.state).toBe(ConfirmationState.WAITING);
    expect(said[0]).toContain(`code ${confirmation.code}`);
    expect(said[0]).toContain("Set my trust level to L3, up to 0.01 ETH a day.");
    expect(toolbox.level).toBe(TrustLevel.ADVISOR);
    expect(tap(question, true)).toBe(true);
    await waitFor("applied", async () => (await stateOf(confirmation.id)) === ConfirmationState.APPLIED);
    expect(toolbox.level).toBe(TrustLevel.OPERATOR);
  });

  it("raises a limit up to the cap on the owner's yes: an agent with no limit signed may pay 0.05 ETH a day", async () => {
    expect(toolbox.snapshot?.dailySpendLimitWei ?? "0").toBe("0");
    const { confirmation, question } = await ask(trustStep(TrustLevel.OPERATOR, "50000000000000000"));
    expect(said[0]).toContain("Set my trust level to L3, up to 0.05 ETH a day.");
    expect(tap(question, true)).toBe(true);
    await waitFor("applied", async () => (await stateOf(confirmation.id)) === ConfirmationState.APPLIED);
    expect(toolbox.snapshot?.dailySpendLimitWei).toBe("50000000000000000");
  });

  it("applies nothing on another member's tap, reply or reaction on the question: only the owner's answer reaches it", async () => {
    const { confirmation, question } = await ask(trustStep(TrustLevel.OPERATOR));
    expect(tap(question, true, MEMBER)).toBe(false);
    expect(arrives({ senderInboxId: MEMBER, reply: { to: question, text: "yes" } })).toBe(false);
    expect(arrives({ senderInboxId: MEMBER, reaction: { to: question, emoji: "👍" } })).toBe(false);
    expect(await stateOf(confirmation.id)).toBe(ConfirmationState.WAITING);
    expect(toolbox.level).toBe(TrustLevel.OBSERVER);
  });

  it("applies nothing when an answered confirmation's buttons are tapped again: its nonce is spent with its question", async () => {
    const first = await ask(trustStep(TrustLevel.OPERATOR));
    expect(tap(first.question, false)).toBe(true);
    await waitFor("declined", async () => (await stateOf(first.confirmation.id)) === ConfirmationState.DECLINED);
    // The old buttons again, now saying yes: no question waits under them.
    expect(tap(first.question, true)).toBe(false);
    expect(await stateOf(first.confirmation.id)).toBe(ConfirmationState.DECLINED);
    expect(toolbox.level).toBe(TrustLevel.OBSERVER);
  });

  it("applies the step as it was asked: a later request for another step is a new question, and the first's yes sets only its own", async () => {
    await toolbox.setLevel(TrustLevel.OBSERVER, "0", "signed", true);
    const first = await ask(trustStep(TrustLevel.OPERATOR));
    const second = await ask(trustStep(TrustLevel.ADVISOR));
    expect(second.confirmation.id).not.toBe(first.confirmation.id);
    expect(second.confirmation.code).not.toBe(first.confirmation.code);
    expect(said[1]).toContain("L2, no spending");
    expect(tap(first.question, true)).toBe(true);
    await waitFor("applied", async () => (await stateOf(first.confirmation.id)) === ConfirmationState.APPLIED);
    expect(toolbox.level).toBe(TrustLevel.OPERATOR);
    expect(await stateOf(second.confirmation.id)).toBe(ConfirmationState.WAITING);
  });

  it("puts to the owner the step the pool asked for, not the one the page showed: its words and code are the owner's to refuse", async () => {
    // The owner signed L2 with 5 ETH a day; the page showed L1; a pool in the middle asks for L3 with 5 ETH instead.
    await toolbox.setLevel(TrustLevel.ADVISOR, "5000000000000000000", "signed", true);
    const shown = { kind: "set_trust_level", trustLevel: TrustLevel.OBSERVER, dailySpendLimitWei: "0" } as const;
    const { confirmation, question } = await ask(trustStep(TrustLevel.OPERATOR, "5000000000000000000"));
    expect(said[0]).toContain("L3, up to 5 ETH a day");
    expect(said[0]).not.toContain(confirmationCode(stepDigest(ws.instanceId, shown)));
    // The owner sees what they never asked for and declines: nothing is set.
    expect(tap(question, false)).toBe(true);
    await waitFor("declined", async () => (await stateOf(confirmation.id)) === ConfirmationState.DECLINED);
    expect(toolbox.level).toBe(TrustLevel.ADVISOR);
  });

  it("applies nothing on a yes once the agent has another owner than the one asked", async () => {
    const { confirmation, question } = await ask(trustStep(TrustLevel.OPERATOR));
    owner = MEMBER;
    expect(tap(question, true)).toBe(true);
    await waitFor("failed", async () => (await stateOf(confirmation.id)) === ConfirmationState.FAILED);
    expect(toolbox.level).toBe(TrustLevel.OBSERVER);
  });

  it("answers a waiting approval question on the owner's yes to the confirmation, and fails if it was answered meanwhile", async () => {
    const pay = toolbox.ask("Pay 0.001 ETH to Bob");
    await waitFor("asked", () => said.length === 1);
    const approve = create(ConfirmationStepSchema, {
      step: { case: "answerApproval", value: { questionId: "question-1", approve: true } },
    });
    const { confirmation, question } = await ask(approve);
    expect(said[1]).toContain("Approve what I asked you: Pay 0.001 ETH to Bob");
    expect(tap(question, true)).toBe(true);
    await expect(pay).resolves.toBe("yes");
    await waitFor("applied", async () => (await stateOf(confirmation.id)) === ConfirmationState.APPLIED);

    const text = toolbox.ask("Text Mom");
    await waitFor("asked", () => said.length === 3);
    const decline = create(ConfirmationStepSchema, {
      step: { case: "answerApproval", value: { questionId: "question-3", approve: false } },
    });
    const late = await ask(decline);
    // Answered in the chat before the confirmation came.
    expect(arrives({ senderInboxId: OWNER, reply: { to: "question-3", text: "yes" } })).toBe(true);
    await expect(text).resolves.toBe("yes");
    expect(tap(late.question, true)).toBe(true);
    await waitFor("failed", async () => (await stateOf(late.confirmation.id)) === ConfirmationState.FAILED);
  });

  it("is not listed among the questions answered from outside, so no confirmation can answer another", async () => {
    const { question } = await ask(trustStep(TrustLevel.OPERATOR));
    expect(toolbox.waitingQuestions()).toEqual([]);
    const nested = create(ConfirmationStepSchema, {
      step: { case: "answerApproval", value: { questionId: question, approve: true } },
    });
    expect(await codeOf(client.askConfirmation({ ownerId: OWNER, step: nested }))).toBe(Code.FailedPrecondition);
  });

  it("sets permissions with the defaults filled in", async () => {
    const step = create(ConfirmationStepSchema, {
      step: { case: "setPermissions", value: { permissions: { memberCrypto: Grant.REFUSE } } },
    });
    const { confirmation, question } = await ask(step);
    const p = confirmation.step?.step;
    expect(p?.case === "setPermissions" && p.value.permissions?.memberSms).toBe(Grant.ASK);
    expect(tap(question, true)).toBe(true);
    await waitFor("applied", async () => (await stateOf(confirmation.id)) === ConfirmationState.APPLIED);
    expect(toolbox.grants.memberCrypto).toBe(Grant.REFUSE);
  });
});

describe("its memory shown on the page, confirmed in Convos", () => {
  const listStep = (recipientKey: Uint8Array, feedbackOnly = false): ConfirmationStep =>
    create(ConfirmationStepSchema, { step: { case: "listMemory", value: { recipientKey, feedbackOnly } } });

  it("seals one listing to the page's key on the owner's yes, which only that key's holder opens", async () => {
    const page = x25519KeyPair();
    const { confirmation, question } = await ask(listStep(page.publicKey));
    expect(said[0]).toContain("Show everything I know, and who taught it, on the pool's web page, once.");
    expect(said[0]).toContain(`code ${confirmation.code}`);
    const shown = { kind: "list_memory", recipientKey: bytesToHex(page.publicKey), feedbackOnly: false } as const;
    expect(confirmation.digest).toBe(stepDigest(ws.instanceId, shown));
    expect(confirmation.sealed).toBeUndefined();
    expect(tap(question, true)).toBe(true);
    await waitFor("applied", async () => (await stateOf(confirmation.id)) === ConfirmationState.APPLIED);
    const { confirmation: done } = await client.getConfirmation({ ownerId: OWNER, id: confirmation.id });
    const opened = new TextDecoder().decode(await openSealed(page.privateKey, done!.sealed!));
    expect(JSON.parse(opened)).toEqual({ entries: [{ text: "Saul likes trains", feedbackOnly: false }] });
    // Another key (the pool's, say) opens nothing.
    await expect(openSealed(x25519KeyPair().privateKey, done!.sealed!)).rejects.toThrow();
  });

  it("seals to the key of the step confirmed only: another listing asked meanwhile waits, and a second tap seals nothing again", async () => {
    const first = x25519KeyPair();
    const second = x25519KeyPair();
    const a = await ask(listStep(first.publicKey));
    const b = await ask(listStep(second.publicKey));
    expect(b.confirmation.code).not.toBe(a.confirmation.code);
    expect(tap(a.question, true)).toBe(true);
    await waitFor("applied", async () => (await stateOf(a.confirmation.id)) === ConfirmationState.APPLIED);
    const sealed = (await client.getConfirmation({ ownerId: OWNER, id: a.confirmation.id })).confirmation!.sealed!;
    await expect(openSealed(second.privateKey, sealed)).rejects.toThrow();
    const waiting = (await client.getConfirmation({ ownerId: OWNER, id: b.confirmation.id })).confirmation!;
    expect(waiting.state).toBe(ConfirmationState.WAITING);
    expect(waiting.sealed).toBeUndefined();
    // The first question's buttons again: its nonce is spent, and the box is the one sealed before.
    expect(tap(a.question, true)).toBe(false);
    const again = (await client.getConfirmation({ ownerId: OWNER, id: a.confirmation.id })).confirmation!.sealed!;
    expect(again.ciphertext).toEqual(sealed.ciphertext);
  });

  it("seals nothing on a no, nor on another member's tap", async () => {
    const { confirmation, question } = await ask(listStep(x25519KeyPair().publicKey));
    expect(tap(question, true, MEMBER)).toBe(false);
    expect(tap(question, false)).toBe(true);
    await waitFor("declined", async () => (await stateOf(confirmation.id)) === ConfirmationState.DECLINED);
    const { confirmation: after } = await client.getConfirmation({ ownerId: OWNER, id: confirmation.id });
    expect(after!.sealed).toBeUndefined();
  });

  it("refuses a key that is not 32 bytes, naming the field, and asks nothing", async () => {
    const bad = await client
      .askConfirmation({ ownerId: OWNER, step: listStep(new Uint8Array(31)) })
      .catch((e: unknown) => ConnectError.from(e));
    expect(fieldViolations(bad)[0]?.field).toBe("step.list_memory.recipient_key");
    expect(said).toEqual([]);
  });
});

describe("what the agent refuses to ask", () => {
  it("another inbox's request, a step its signed call would refuse, and a question that is not waiting", async () => {
    expect(await codeOf(client.askConfirmation({ ownerId: MEMBER, step: trustStep(TrustLevel.OPERATOR) }))).toBe(
      Code.PermissionDenied,
    );
    // A daily limit above the cap a confirmation may set (0.05 ETH): above it, the owner signs.
    const raise = await client
      .askConfirmation({ ownerId: OWNER, step: trustStep(TrustLevel.OPERATOR, "50000000000000001") })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(raise?.code).toBe(Code.InvalidArgument);
    expect(fieldViolations(raise)[0]?.field).toBe("step.set_trust_level.daily_spend_limit_wei");
    // L4 without a daily limit.
    const l4 = await client
      .askConfirmation({ ownerId: OWNER, step: trustStep(TrustLevel.AUTONOMOUS) })
      .catch((e: unknown) => ConnectError.from(e));
    expect(fieldViolations(l4)[0]?.field).toBe("daily_spend_limit_wei");
    const none = create(ConfirmationStepSchema, {
      step: { case: "answerApproval", value: { questionId: "question-9", approve: true } },
    });
    expect(await codeOf(client.askConfirmation({ ownerId: OWNER, step: none }))).toBe(Code.FailedPrecondition);
    expect(await codeOf(client.askConfirmation({ ownerId: OWNER }))).toBe(Code.InvalidArgument);
    expect(said).toEqual([]);
  });

  it("more than three at once, and tells no one else's confirmation", async () => {
    for (const level of [TrustLevel.OBSERVER, TrustLevel.ADVISOR, TrustLevel.OPERATOR])
      await client.askConfirmation({ ownerId: OWNER, step: trustStep(level) });
    expect(await codeOf(client.askConfirmation({ ownerId: OWNER, step: trustStep(TrustLevel.OPERATOR) }))).toBe(
      Code.ResourceExhausted,
    );
    expect(await codeOf(client.getConfirmation({ ownerId: OWNER, id: "f".repeat(32) }))).toBe(Code.NotFound);
    expect(await codeOf(client.getConfirmation({ ownerId: OWNER, id: "../x" }))).toBe(Code.InvalidArgument);
  });
});
