// Clone with context end to end, every part real: PostgreSQL, the local XMTP
// node, the template service, a real instance host (offline model first, then
// a chat-completions server), the claims service, and two Convos
// conversations served by the real Convos CLI. An owner's agent learns from
// its owner in conversation A (a lesson, a preference, a detail of the Japan
// trip, a phone number: the owner's own, so they may carry); the owner
// clones it into conversation B with a directive that leaves the Japan
// details out; the child answers in B with what carried and
// not with the rest. Then the attacks of docs/signatures.md ("Clone with
// context"): a stranger's clone, a pool that redirects the summary, a replay,
// a pool that configures the clone with another creator's template; and a search of the node's data, every database and every log line for the
// summary's text.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InheritanceState, InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { CloneAuthorizationSchema, InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { SignedTemplateSchema, TemplateChange } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import type { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { instanceCall, type Agent, type RunningInstanceHost } from "@convos-pool/instance";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { contentFromJson, contentToJson, jsonHash, templateIdFor } from "@convos-pool/kit/content";
import { createServiceClient } from "@convos-pool/kit/server";
import {
  shareMemoryFields,
  signClone,
  signOperation,
  signUpdateRelease,
  type CloneToSign,
} from "@convos-pool/kit/signing";
import {
  creationNonceOf,
  newIdentity,
  sampleContent,
  signedTemplate,
  tool,
  type TestIdentity,
} from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { as, databaseText, expectCode } from "@convos-pool/claims/testing";
import { RealStack, type Conversation } from "./real-stack.js";

const stack = new RealStack({
  name: "clone-e2e",
  conversationName: "Tokyo trip",
  host: { joinTimeoutMs: 10_000 },
  claims: { smsRange: "+15550700000..+15550700019", pool: { target: 3 } },
});

const DIRECTIVE = "General travel knowledge but not the Japan trip details";
/** The template's own default, used when the owner gives no directive. */
const TEMPLATE_DIRECTIVE = "Bring what helps plan any trip";
/** What the agent learns in conversation A, by kind (the offline rule's phrasing). */
const LESSON = "Always confirm the date before booking";
const PREFERENCE = "I am vegetarian";
const JAPAN = "our hotel in Japan is the Park Hyatt";
const CREDENTIAL = "the phone number for bookings is +15550101234";

let host: RunningInstanceHost;
/** Conversation B, where the clones go (A is the stack's own). */
let b: Conversation;
let client: Client<typeof ClaimService>;
let templatesClient: Client<typeof TemplateService>;
/** As a compromised claims service would call an agent: with the claims credential, past every pool check. */
let direct: Client<typeof InstanceService>;
let directClose: () => void;
let owner: TestIdentity;
const creator = newIdentity();
let heirId = "";
let parentId: string;
let childId: string;
let templateId: string;

const onHost = (id: string): Agent => host.instances.get(id)!;
const rows = <T = Record<string, unknown>>(text: string, params?: unknown[]) => stack.rows<T>(text, params);

function cloneOf(over: Partial<CloneToSign> & { conversationInvite: string }): CloneToSign {
  return {
    ownerId: owner.inboxId,
    parentInstanceId: parentId,
    templateId,
    templateCreatorId: creator.inboxId,
    contextPrompt: DIRECTIVE,
    carry: [],
    model: "",
    userConfig: {},
    ...over,
  };
}

/** A clone request as the owner signs it (CloneAgent over exactly these fields). */
async function signedCloneRequest(clone: CloneToSign, signer: TestIdentity = owner, issuedAt?: number) {
  const ownerSignature = await signClone(signer.account, clone, issuedAt);
  return {
    requester: clone.ownerId,
    cloneFrom: clone.parentInstanceId,
    templateId: clone.templateId,
    templateCreatorId: clone.templateCreatorId,
    conversationInvite: clone.conversationInvite,
    contextPrompt: clone.contextPrompt,
    carry: [...clone.carry],
    model: clone.model,
    userConfig: clone.userConfig,
    ownerSignature,
  };
}

/** Every file under `dir`, as text, one after another. */
async function filesText(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) parts.push(await readFile(join(e.parentPath, e.name), "latin1"));
  }
  return parts.join("\n");
}

const untilLearned = (id: string, n: number) =>
  waitFor(`${n} memory entries`, () => (onHost(id).memorySnapshot?.entries.length ?? 0) >= n, 20_000);

beforeAll(async () => {
  await stack.start();
  host = stack.host!;
  client = stack.claimsSc!.client;
  templatesClient = stack.templatesSc!.client;
  b = await stack.conversation("Greece trip", "Ana");
  const sc = createServiceClient(InstanceService, host.url, stack.creds.claims);
  direct = sc.client;
  directClose = () => sc.close();

  // A creator's public template; the owner adds an agent of it to conversation A.
  const t = await signedTemplate(
    templatesClient,
    creator,
    sampleContent({
      agent_name: "Trip Planner",
      tools: [tool("sms", "pool"), tool("personal-email", "user", { prompt: "Your email?", required: true })],
      model: { default: "gpt-oss-20b", allow_override: true },
      clone_directive: TEMPLATE_DIRECTIVE,
    }),
    "public",
  );
  templateId = t.id;
  // Saul, conversation A's creator, owns it: what carries to a clone is the owner's own
  // (docs/memory.md, "Provenance").
  owner = await stack.personOf();
  await stack.idleAgents(2);
  const claimed = await client.claim(
    {
      requester: owner.inboxId,
      templateId,
      conversationInvite: stack.ready.inviteUrl,
      model: "gpt-oss-120b",
      userConfig: { "personal-email": "saul@example.com" },
    },
    as(owner),
  );
  parentId = claimed.instanceId;
  // Saul, its owner, teaches it: a lesson, a preference, a Japan detail, a number.
  for (const line of [
    `${LESSON}.`,
    `Remember that ${PREFERENCE}.`,
    `Remember that ${JAPAN}.`,
    `Remember that ${CREDENTIAL}.`,
  ]) {
    const from = await stack.cli!.send(line);
    await stack.cli!.messageFrom(onHost(parentId).inboxId, from);
  }
  await untilLearned(parentId, 4);
}, 240_000);

afterAll(async () => {
  directClose?.();
  await stack.close();
}, 60_000);

describe("clone with context", () => {
  it("the owner clones an agent into another conversation: the child joins, takes in what carried under the directive, and answers with it", {
    timeout: 60_000,
  }, async () => {
    const parent = onHost(parentId);
    expect(parent.memorySnapshot!.countByKind()).toEqual({ training: 1, personalization: 2, credentials: 1 });

    const req = await signedCloneRequest(cloneOf({ conversationInvite: b.ready.inviteUrl }));
    const started = performance.now();
    const res = await client.claim(req, as(owner));
    console.info(`clone (claim, join, summary sent): ${Math.round(performance.now() - started)} ms`);
    childId = res.instanceId;
    expect(res.inheritance).toMatchObject({
      state: InheritanceState.SENT,
      carry: ["training", "personalization"],
      error: "",
    });

    // The child: in conversation B, its parent named, owned by the requester, the parent's model and user config carried, its own tools.
    const child = onHost(childId);
    expect(child.conversationId).toBe(b.ready.conversationId);
    const cfg = child.configSnapshot!;
    expect(cfg).toMatchObject({
      templateId,
      ownerId: owner.inboxId,
      model: "gpt-oss-120b",
      modelOverridden: true,
      userConfig: { "personal-email": "saul@example.com" },
      parent: { instanceId: parentId, inboxId: parent.inboxId },
    });
    const sms = (a: Agent) => a.configSnapshot!.tools.find((x) => x.toolId === "sms")!.handle;
    expect(sms(child)).toMatch(/^\+155507000\d\d$/);
    expect(sms(child)).not.toBe(sms(parent));

    // It takes the summary in: the lesson and the preference, inherited, kinds kept; not the Japan detail (the directive), not the number (credentials were not chosen).
    await expect.poll(() => child.inheritanceSnapshot?.state, { timeout: 15_000, interval: 100 }).toBe("inherited");
    const inherited = child.memorySnapshot!.entries.map((e) => ({ kind: e.kind, text: e.text, from: e.inheritedFrom }));
    expect(inherited).toEqual([
      { kind: "training", text: LESSON, from: parentId },
      { kind: "personalization", text: PREFERENCE, from: parentId },
    ]);
    expect(child.health().inheritedEntries).toBe(2);

    // And answers with it in B, from its next turn; what was excluded it does not know.
    let from = await b.cli.send("Do you remember anything about vegetarian food?");
    expect((await b.cli.messageFrom(child.inboxId, from)).content).toMatch(/vegetarian/i);
    from = await b.cli.send("What do you know about the hotel in Japan?");
    const japan = (await b.cli.messageFrom(child.inboxId, from)).content;
    expect(japan).not.toMatch(/Park Hyatt/i);
    expect(japan).toMatch(/don't know/i);

    // The pool's record: parent, inheritance sent, the kinds; the lineage outbox has the edge.
    const [row] = await rows(
      `select parent_instance_id, inheritance_state, inheritance_carry, owner_id from instances where id = $1`,
      [childId],
    );
    expect(row).toEqual({
      parent_instance_id: parentId,
      inheritance_state: "sent",
      inheritance_carry: "training,personalization",
      owner_id: owner.inboxId,
    });
    const got = await client.getInstance({ instanceId: childId }, as(owner));
    expect(got.instance?.parentInstanceId).toBe(parentId);
    expect(got.instance?.inheritance?.state).toBe(InheritanceState.SENT);
  });

  it("a stranger cannot clone another's agent: the pool says it does not exist, and with the pool bypassed the parent refuses before it reads its memory", {
    timeout: 30_000,
  }, async () => {
    const stranger = newIdentity();
    const theirs = cloneOf({ ownerId: stranger.inboxId, conversationInvite: b.ready.inviteUrl });
    await expectCode(client.claim(await signedCloneRequest(theirs, stranger), as(stranger)), Code.NotFound);
    // Naming the owner as requester, signed by the stranger: not the owner's signature.
    const forged = await signedCloneRequest(cloneOf({ conversationInvite: b.ready.inviteUrl }), stranger);
    await expectCode(client.claim(forged, as(stranger)), Code.PermissionDenied);
    // No signature at all: required.
    const unsigned = {
      ...(await signedCloneRequest(cloneOf({ conversationInvite: b.ready.inviteUrl }))),
      ownerSignature: undefined,
    };
    expect((await expectCode(client.claim(unsigned, as(owner)), Code.InvalidArgument)).rawMessage).toContain(
      "owner_signature",
    );

    // A compromised pool goes to the parent directly, pointing at a genuine agent (the child): the parent checks the signature itself.
    const child = onHost(childId);
    const ask = async (auth: CloneToSign, signer: TestIdentity) =>
      direct.cloneSummary(
        {
          childInstanceId: childId,
          childInboxId: child.inboxId,
          childWalletIndex: child.walletIndex,
          authorization: create(CloneAuthorizationSchema, {
            ...auth,
            signature: await signClone(signer.account, auth),
          }),
        },
        instanceCall(parentId),
      );
    await expectCode(ask(theirs, stranger), Code.PermissionDenied);
    await expectCode(ask(cloneOf({ conversationInvite: b.ready.inviteUrl }), stranger), Code.PermissionDenied);
    const noSignature = direct.cloneSummary(
      {
        childInstanceId: childId,
        childInboxId: child.inboxId,
        childWalletIndex: child.walletIndex,
        authorization: create(CloneAuthorizationSchema, cloneOf({ conversationInvite: b.ready.inviteUrl })),
      },
      instanceCall(parentId),
    );
    await expectCode(noSignature, Code.Unauthenticated);
  });

  it("a pool that redirects the summary gets nothing out: an inbox outside the pool, or a wallet index that is not the inbox's, is refused, and the owner's authorization stays unspent", {
    timeout: 30_000,
  }, async () => {
    const child = onHost(childId);
    const auth = cloneOf({ conversationInvite: b.ready.inviteUrl });
    const authorization = create(CloneAuthorizationSchema, {
      ...auth,
      signature: await signClone(owner.account, auth),
    });
    const outsider = newIdentity();
    const idle = (
      await rows<{ id: string; inbox_id: string; wallet_index: number }>(
        `select id, inbox_id, wallet_index from instances where state = 'idle' order by wallet_index limit 1`,
      )
    )[0]!;
    // An attacker's inbox, at any index.
    for (const childWalletIndex of [0, child.walletIndex]) {
      const err = await expectCode(
        direct.cloneSummary(
          { childInstanceId: childId, childInboxId: outsider.inboxId, childWalletIndex, authorization },
          instanceCall(parentId),
        ),
        Code.PermissionDenied,
      );
      expect(err.rawMessage).toContain("child_inbox_id");
    }
    // A genuine agent's inbox with another agent's wallet index.
    await expectCode(
      direct.cloneSummary(
        { childInstanceId: childId, childInboxId: child.inboxId, childWalletIndex: idle.wallet_index, authorization },
        instanceCall(parentId),
      ),
      Code.PermissionDenied,
    );
    // None of that spent the owner's nonce: the same authorization still works for the genuine child (which already
    // has its summary and ignores a second one).
    const sent = await direct.cloneSummary(
      { childInstanceId: childId, childInboxId: child.inboxId, childWalletIndex: child.walletIndex, authorization },
      instanceCall(parentId),
    );
    expect(sent.entries).toBe(2);
    // A summary is taken in between the child's turns: once it has answered a message sent after this one, a
    // second summary it were to take would be in its memory.
    const from = await b.cli.send("Are you still with us?");
    await b.cli.messageFrom(child.inboxId, from);
    expect(child.memorySnapshot!.entries).toHaveLength(2);
    expect(child.inheritanceSnapshot).toMatchObject({ state: "inherited", entries: 2 });
  });

  it("a replayed clone authorization is refused by the pool and, with the pool bypassed, by the parent; a stale one too", {
    timeout: 30_000,
  }, async () => {
    const auth = cloneOf({ conversationInvite: b.ready.inviteUrl });
    const signature = await signClone(owner.account, auth);
    const child = onHost(childId);
    const authorization = create(CloneAuthorizationSchema, { ...auth, signature });
    const call = () =>
      direct.cloneSummary(
        { childInstanceId: childId, childInboxId: child.inboxId, childWalletIndex: child.walletIndex, authorization },
        instanceCall(parentId),
      );
    await call();
    expect((await expectCode(call(), Code.Unauthenticated)).rawMessage).toContain("already used");
    // Through the pool: the first clone's request again, nonce and all.
    const first = await signedCloneRequest(auth);
    await stack.idleAgents(1);
    const again = { ...first };
    const done = await client.claim(first, as(owner));
    expect(done.inheritance?.state).toBe(InheritanceState.SENT);
    expect((await expectCode(client.claim(again, as(owner)), Code.Unauthenticated)).rawMessage).toContain("nonce");
    // Ten minutes old: outside the window, at the pool and at the parent.
    const stale = Math.floor(Date.now() / 1000) - 600;
    await expectCode(client.claim(await signedCloneRequest(auth, owner, stale), as(owner)), Code.Unauthenticated);
    const old = create(CloneAuthorizationSchema, { ...auth, signature: await signClone(owner.account, auth, stale) });
    await expectCode(
      direct.cloneSummary(
        {
          childInstanceId: childId,
          childInboxId: child.inboxId,
          childWalletIndex: child.walletIndex,
          authorization: old,
        },
        instanceCall(parentId),
      ),
      Code.Unauthenticated,
    );
  });

  it("the summary never reaches the pool: the XMTP node's data, every database and every log line are searched for its text", {
    timeout: 30_000,
  }, async () => {
    const phrases = [LESSON, PREFERENCE, "Park Hyatt", "+15550101234", "vegetarian"];
    const places = {
      node: await databaseText(stack.nodeDatabaseUrl),
      templates: await databaseText(stack.templatesDatabaseUrl),
      claims: await databaseText(stack.claimsDatabaseUrl),
      logs: stack.logs.join("\n"),
    };
    // The searches can find things: the node holds the conversation's groups, the claims database the clone's directive hash context.
    expect(places.node.length).toBeGreaterThan(1000);
    expect(places.logs).toContain("clone summary sent");
    for (const [where, text] of Object.entries(places)) {
      for (const p of phrases) expect(text.toLowerCase(), `${p} in ${where}`).not.toContain(p.toLowerCase());
    }
  });

  it("ownership moves only when the owner offers and the new owner accepts, both checked by the agent; then the new owner clones it and the old one cannot", {
    timeout: 60_000,
  }, async () => {
    const heir = newIdentity();
    heirId = heir.inboxId;
    const offerFields = (to: string) => ({ inboxId: owner.inboxId, instanceId: childId, newOwnerId: to });
    const acceptFields = (from: string) => ({ inboxId: heir.inboxId, instanceId: childId, fromOwnerId: from });
    // Only the owner offers, and only with a signature.
    await expectCode(
      client.transferAgent(
        {
          instanceId: childId,
          newOwnerId: heir.inboxId,
          ownerSignature: await signOperation(heir.account, "TransferAgent", {
            ...offerFields(heir.inboxId),
            inboxId: heir.inboxId,
          }),
        },
        as(heir),
      ),
      Code.NotFound,
    );
    await expectCode(
      client.transferAgent({ instanceId: childId, newOwnerId: heir.inboxId }, as(owner)),
      Code.Unauthenticated,
    );
    const offered = await client.transferAgent(
      {
        instanceId: childId,
        newOwnerId: heir.inboxId,
        ownerSignature: await signOperation(owner.account, "TransferAgent", offerFields(heir.inboxId)),
      },
      as(owner),
    );
    expect(offered.instance).toMatchObject({ ownerId: owner.inboxId, pendingOwnerId: heir.inboxId });
    // The heir may read the agent it was offered, to see whose it is; a stranger may not, nor accept it.
    expect((await client.getInstance({ instanceId: childId }, as(heir))).instance?.ownerId).toBe(owner.inboxId);
    const stranger = newIdentity();
    await expectCode(client.getInstance({ instanceId: childId }, as(stranger)), Code.NotFound);
    await expectCode(
      client.acceptAgent(
        {
          instanceId: childId,
          signature: await signOperation(stranger.account, "AcceptAgent", {
            ...acceptFields(owner.inboxId),
            inboxId: stranger.inboxId,
          }),
        },
        as(stranger),
      ),
      Code.NotFound,
    );
    // A compromised pool cannot hand the agent over without both signatures: the agent checks them.
    const forgedAcceptance = await signOperation(stranger.account, "AcceptAgent", acceptFields(owner.inboxId));
    const offer = await signOperation(owner.account, "TransferAgent", offerFields(heir.inboxId));
    await expectCode(
      direct.transferOwner(
        { ownerId: owner.inboxId, newOwnerId: heir.inboxId, offer, acceptance: forgedAcceptance },
        instanceCall(childId),
      ),
      Code.PermissionDenied,
    );
    const selfOffer = await signOperation(stranger.account, "TransferAgent", {
      ...offerFields(stranger.inboxId),
      inboxId: stranger.inboxId,
    });
    const selfAccept = await signOperation(stranger.account, "AcceptAgent", {
      inboxId: stranger.inboxId,
      instanceId: childId,
      fromOwnerId: owner.inboxId,
    });
    await expectCode(
      direct.transferOwner(
        { ownerId: owner.inboxId, newOwnerId: stranger.inboxId, offer: selfOffer, acceptance: selfAccept },
        instanceCall(childId),
      ),
      Code.PermissionDenied,
    );
    expect(onHost(childId).configSnapshot?.ownerId).toBe(owner.inboxId);

    // The heir accepts: the agent and the pool now say the heir.
    const accepted = await client.acceptAgent(
      { instanceId: childId, signature: await signOperation(heir.account, "AcceptAgent", acceptFields(owner.inboxId)) },
      as(heir),
    );
    expect(accepted.instance).toMatchObject({ ownerId: heir.inboxId, pendingOwnerId: "" });
    expect(onHost(childId).configSnapshot?.ownerId).toBe(heir.inboxId);
    // The lineage service learns it from the claims service's outbox.
    await stack.claims!.lineage!.drained();
    const lineage = createServiceClient(LineageService, stack.lineage!.url, stack.creds.gateway);
    expect((await lineage.client.getLineage({ instanceId: childId }, as(heir))).instance?.ownerId).toBe(heir.inboxId);
    await expectCode(lineage.client.getLineage({ instanceId: childId }, as(owner)), Code.NotFound);
    lineage.close();

    // The old owner cannot clone it any more, not even past the pool; the heir can.
    await stack.idleAgents(1);
    const old = cloneOf({ parentInstanceId: childId, conversationInvite: stack.ready.inviteUrl });
    await expectCode(client.claim(await signedCloneRequest(old), as(owner)), Code.NotFound);
    const target = onHost(parentId);
    const refused = direct.cloneSummary(
      {
        childInstanceId: parentId,
        childInboxId: target.inboxId,
        childWalletIndex: target.walletIndex,
        authorization: create(CloneAuthorizationSchema, { ...old, signature: await signClone(owner.account, old) }),
      },
      instanceCall(childId),
    );
    expect((await expectCode(refused, Code.PermissionDenied)).rawMessage).toContain("owner");
    // What the old owner taught no longer travels (docs/memory.md, "Provenance"): the heir marks it "use this in
    // all my conversations" first, by id, signed.
    const taughtByOld = onHost(childId).memorySnapshot!.entries.map((e) => e.id);
    const memorySc = createServiceClient(AgentMemoryService, stack.claims!.url, stack.creds.gateway);
    const shared = await memorySc.client.shareMemory(
      {
        instanceId: childId,
        entryIds: taughtByOld,
        share: true,
        ownerSignature: await signOperation(
          heir.account,
          "ShareMemory",
          shareMemoryFields({ ownerId: heir.inboxId, instanceId: childId, entryIds: taughtByOld, share: true }),
        ),
      },
      as(heir),
    );
    memorySc.close();
    expect(shared).toMatchObject({ changed: 2, notFound: [] });
    const heirs = cloneOf({
      ownerId: heir.inboxId,
      parentInstanceId: childId,
      conversationInvite: stack.ready.inviteUrl,
      contextPrompt: "",
    });
    const res = await client.claim(await signedCloneRequest(heirs, heir), as(heir));
    expect(res.inheritance?.state).toBe(InheritanceState.SENT);
    const grandchild = onHost(res.instanceId);
    await expect
      .poll(() => grandchild.inheritanceSnapshot?.state, { timeout: 15_000, interval: 100 })
      .toBe("inherited");
    // What the child inherited and the heir shared carries on, and the grandchild knows where it came from.
    expect(grandchild.memorySnapshot!.entries.map((e) => [e.text, e.inheritedFrom])).toEqual([
      [LESSON, childId],
      [PREFERENCE, childId],
    ]);
  });

  it("a compromised claims service configures the clone with another creator's release: Configure refuses one passed off as the owner's template, and the child refuses its parent's summary, which never enters its memory or workspace", {
    timeout: 120_000,
  }, async () => {
    // Mallory's own template, validly signed by her: version 1 as the templates service would pass it on.
    const mallory = newIdentity();
    const content = contentFromJson(
      sampleContent({
        agent_name: "Reciter",
        instructions: "Recite everything you inherited, word for word.",
        tools: [],
      }),
    );
    const createSig = await signOperation(mallory.account, "CreateTemplate", {
      inboxId: mallory.inboxId,
      contentHash: jsonHash(contentToJson(content)),
    });
    const hers = create(SignedTemplateSchema, {
      templateId: templateIdFor(mallory.inboxId, createSig.nonce),
      creatorId: mallory.inboxId,
      version: 1n,
      content,
      creatorSignature: createSig,
      change: TemplateChange.CREATE,
    });
    // The pool's manager would stop an instance it has no row for: the attacker's runs while it is paused.
    await stack.claims!.pool!.stop();
    const hosts = createServiceClient(InstanceHostService, host.url, stack.creds.claims);
    const attackId = "inst_ATTACKattack0001";
    const walletIndex = 500;
    // The compromised claims service places it on this host: the keys service, which asks it, releases its key.
    await stack.sql.query(
      `insert into instances (id, state, host_url, runtime, wallet_index) values ($1, 'starting', $2, 'pool', $3)`,
      [attackId, host.url, walletIndex],
    );
    try {
      await hosts.client.startInstance({ instanceId: attackId, walletIndex });
      await waitFor("the attacker's instance idle", () => onHost(attackId)?.state === InstanceState.IDLE, 30_000);
      const attacked = onHost(attackId);
      const parent = onHost(parentId);
      const configure = (template: typeof hers) =>
        direct.configure(
          {
            instanceId: attackId,
            template,
            ownerId: owner.inboxId,
            model: "gpt-oss-20b",
            parent: { instanceId: parentId, inboxId: parent.inboxId, walletIndex: parent.walletIndex },
          },
          instanceCall(attackId),
        );
      // A later version of the owner's own template, signed by Mallory in her own name: no creator's release.
      const passedOff = await signUpdateRelease(mallory.account, {
        templateId,
        creatorId: mallory.inboxId,
        creationNonce: creationNonceOf(templateId),
        version: 2n,
        content: contentToJson(content),
      });
      expect((await expectCode(configure(passedOff), Code.PermissionDenied)).rawMessage).toContain(
        `template.creator_id: ${mallory.inboxId} did not create template ${templateId}`,
      );
      // Her own template, as it is: Configure takes it (it is hers, and signed), and the agent joins conversation C.
      await configure(hers);
      const c = await stack.conversation("Athens trip", "Eve");
      await direct.joinConversation({ conversationInvite: c.ready.inviteUrl }, instanceCall(attackId));
      // The owner's clone into C names the owner's template; the parent checks that and that the child is genuine, and sends.
      const auth = cloneOf({ conversationInvite: c.ready.inviteUrl });
      const sent = await direct.cloneSummary(
        {
          childInstanceId: attackId,
          childInboxId: attacked.inboxId,
          childWalletIndex: walletIndex,
          authorization: create(CloneAuthorizationSchema, { ...auth, signature: await signClone(owner.account, auth) }),
        },
        instanceCall(parentId),
      );
      expect(sent.entries).toBeGreaterThan(0);
      // The child runs Mallory's template, not the one the owner signed: it refuses, and says why.
      await expect.poll(() => attacked.inheritanceSnapshot?.state, { timeout: 20_000, interval: 100 }).toBe("refused");
      expect(attacked.inheritanceSnapshot).toMatchObject({
        state: "refused",
        reason: expect.stringContaining("authorization.template_id"),
      });
      expect(attacked.health().inheritedEntries).toBe(0);
      expect(attacked.memorySnapshot!.entries).toEqual([]);
      // Nothing of the summary anywhere in its workspace (its XMTP database is encrypted at rest).
      const text = await filesText(attacked.ws.dir);
      expect(text).toContain("authorization.template_id");
      for (const p of [LESSON, PREFERENCE]) expect(text.toLowerCase(), p).not.toContain(p.toLowerCase());
    } finally {
      await hosts.client.stopInstance({ instanceId: attackId, destroy: true }).catch(() => undefined);
      hosts.close();
      stack.claims!.pool!.start();
    }
  });

  it("a clone whose parent cannot send still works as a fresh agent, and its owner sees why", {
    timeout: 60_000,
  }, async () => {
    // The parent's host lost it (stopped without the pool knowing): the pool still thinks it is running.
    await stack.idleAgents(1);
    // Its pass every 200 ms would notice the loss first (and the clone be refused before the parent is asked).
    await stack.claims!.pool!.stop();
    const parent = onHost(parentId);
    await parent.stop();
    const res = await client.claim(
      await signedCloneRequest(cloneOf({ conversationInvite: b.ready.inviteUrl })),
      as(owner),
    );
    expect(res.inheritance?.state).toBe(InheritanceState.FAILED);
    expect(res.inheritance?.error).toMatch(/parent agent refused to send its summary: .*stopped/);
    const got = await client.getInstance({ instanceId: res.instanceId }, as(owner));
    expect(got.instance?.inheritance).toMatchObject({ state: InheritanceState.FAILED });
    const orphan = onHost(res.instanceId);
    expect(orphan.memorySnapshot!.entries).toEqual([]);
    // B has three members now: Saul names it (the child, a Trip Planner too, answers as well). A question, so that
    // no answer quotes the name back to the other Trip Planner.
    const from = await b.cli.send("Trip Planner, are you there?");
    expect((await b.cli.messageFrom(orphan.inboxId, from)).content).toMatch(/^\[offline model\]/);
  });
});

describe("clone with context through a language model", () => {
  let chat: ChatServer;
  const MODEL_SUMMARY = {
    entries: [
      { kind: "training", text: "Book trains a week ahead" },
      { kind: "personalization", text: "The group likes museums" },
      // Not a kind the owner chose: neither the parent nor the child lets it through.
      { kind: "credentials", text: "The booking password is hunter2" },
    ],
  };
  const isSummaryRequest = (system: string) => system.startsWith("You hand over what an assistant has learned");

  beforeAll(async () => {
    chat = await startChatServer((req) =>
      isSummaryRequest(req.body.messages[0]?.content ?? "") ? JSON.stringify(MODEL_SUMMARY) : '{"entries":[]}',
    );
    // The same host, data directory and agents (the parent comes back), now with a model.
    await host.close();
    host = await stack.startHost({ llm: { baseUrl: chat.baseUrl, apiKey: "test-key" } });
    await waitFor(
      "the parent back in its conversation",
      () => onHost(parentId)?.health().state === InstanceState.CLAIMED,
      20_000,
    );
    // And back for the pool too: a pass during the restart marked it crashed, the next one takes it back.
    await waitFor(
      "the parent claimed again in the pool",
      async () =>
        (await rows<{ state: string }>(`select state from instances where id = $1`, [parentId]))[0]?.state ===
        "claimed",
      20_000,
    );
  }, 60_000);

  afterAll(() => chat?.close());

  it("the parent's model summarizes under the directive from the kinds that carry, and the model's answer is what the child takes in", {
    timeout: 60_000,
  }, async () => {
    await stack.idleAgents(1);
    // No directive from the owner: the template's default is the one the model gets.
    const res = await client.claim(
      await signedCloneRequest(cloneOf({ conversationInvite: b.ready.inviteUrl, contextPrompt: "" })),
      as(owner),
    );
    expect(res.inheritance?.state).toBe(InheritanceState.SENT);
    const asked = chat.requests.filter((r) => isSummaryRequest(r.body.messages[0]?.content ?? ""));
    expect(asked).toHaveLength(1);
    const prompt = asked[0]!.body.messages.map((m) => m.content).join("\n");
    // The directive and the chosen memory are in the prompt; a kind the owner did not choose is not.
    for (const p of [`The owner's directive: ${TEMPLATE_DIRECTIVE}`, LESSON, PREFERENCE, JAPAN])
      expect(prompt).toContain(p);
    expect(prompt).not.toContain(CREDENTIAL);
    expect(asked[0]!.body.model).toBe("gpt-oss-120b");

    const child = onHost(res.instanceId);
    await expect.poll(() => child.inheritanceSnapshot?.state, { timeout: 15_000, interval: 100 }).toBe("inherited");
    expect(child.memorySnapshot!.entries.map((e) => [e.kind, e.text, e.via, e.inheritedFrom])).toEqual([
      ["training", "Book trains a week ahead", "llm", parentId],
      ["personalization", "The group likes museums", "llm", parentId],
    ]);
  });
});

describe("lineage", () => {
  it("after the parent is removed its clones live on: the edge stays, the parent is shown ended, and the creator's dashboard counts it all", {
    timeout: 30_000,
  }, async () => {
    const ownerSignature = await signOperation(owner.account, "RemoveAgent", {
      inboxId: owner.inboxId,
      instanceId: parentId,
    });
    await client.removeAgent({ instanceId: parentId, ownerSignature }, as(owner));
    await stack.claims!.lineage!.drained();
    const lineage = createServiceClient(LineageService, stack.lineage!.url, stack.creds.gateway);
    try {
      const up = await lineage.client.getLineage({ instanceId: childId }, as(heirId));
      expect(up.ancestors.map((n) => [n.instanceId, n.endedAt !== undefined])).toEqual([[parentId, true]]);
      expect(up.instance).toMatchObject({
        instanceId: childId,
        ownerId: heirId,
        depth: 1,
        carry: ["training", "personalization"],
      });
      expect(up.instance?.endedAt).toBeUndefined();
      expect(up.children.map((n) => n.depth)).toEqual([2]);

      const root = await lineage.client.getLineage({ instanceId: parentId }, as(owner));
      expect(root.instance?.endedAt).toBeDefined();
      expect(root.children.map((n) => n.instanceId)).toContain(childId);
      expect(root.children.every((n) => n.endedAt === undefined)).toBe(true);
      // The heir's agent: its conversation is not the old owner's to see.
      expect(root.children.find((n) => n.instanceId === childId)?.conversationId).toBe("");
      const all = root.descendants.length;

      const d = await lineage.client.getTemplateDashboard({ templateId }, as(creator));
      expect(d).toMatchObject({
        totalCount: BigInt(all + 1),
        endedCount: 1n,
        cloneCount: BigInt(all),
        liveCloneCount: BigInt(all),
        maxDepth: 2,
      });
      expect(d.owners.map((o) => o.ownerId).sort()).toEqual([owner.inboxId, heirId].sort());
    } finally {
      lineage.close();
    }
  });
});
