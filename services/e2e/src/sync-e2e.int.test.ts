// Instruction sync end to end with every part real: PostgreSQL, the local
// XMTP node (the Convos CLI reaches it through its bridge),
// the template service with its outbox relay, the claims service with its
// warm pool and fan-out, a real instance host whose agents talk to a local
// chat-completions server, and a Convos conversation served by the real
// Convos CLI. Three agents of one template are claimed into it; the creator
// updates the template and the agents' next answers follow, through a host
// that was down during an update, a claims service stopped in the middle of
// two quick updates, a forged update sent straight to an instance, an owner's
// model override and a pinned agent.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { SyncState, type Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplatePatchSchema, type TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { ConvosCli, ReadyEvent } from "@convos-pool/testing/convos-cli";
import type { RunningInstanceHost } from "@convos-pool/instance";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import {
  applyPatch,
  contentFromJson,
  contentToJson,
  jsonHash,
  patchToJson,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { createServiceClient, type ServiceClient } from "@convos-pool/kit/server";
import { signOperation, signUpdateRelease } from "@convos-pool/kit/signing";
import { privateKeyToAccount } from "viem/accounts";
import { convosWalletKey } from "@convos-pool/cli";
import { newIdentity, sampleContent, signedTemplate, tool } from "@convos-pool/kit/testing";
import type { RunningClaimsService } from "@convos-pool/claims";
import { as } from "@convos-pool/claims/testing";
import { RealStack } from "./real-stack.js";

/** Every answer says which instructions and model produced it, so the conversation shows what each agent runs on. */
const instructions = (mark: string) => `You plan trips for the group. Sign every answer with the word ${mark}.`;
const MARK = /Sign every answer with the word (\w+)\./;

let stack: RealStack | undefined;
let chat: ChatServer | undefined;
let host: RunningInstanceHost | undefined;
let claims: RunningClaimsService | undefined;
let cli: ConvosCli | undefined;
let ready: ReadyEvent;
let dir: string;
let templatesSc: ServiceClient<typeof TemplateService> | undefined;
let claimsSc: ServiceClient<typeof ClaimService> | undefined;
let instanceSc: ServiceClient<typeof InstanceService> | undefined;
const logs: string[] = [];

const sink = (l: string) => logs.push(l);

beforeAll(async () => {
  chat = await startChatServer((req) => {
    // The memory extraction after each turn (temperature 0): nothing to learn.
    if (req.body.temperature === 0) return '{"entries":[]}';
    const system = req.body.messages.find((m) => m.role === "system")?.content ?? "";
    return `${MARK.exec(String(system))?.[1] ?? "UNSIGNED"} via ${req.body.model}`;
  });
  stack = new RealStack({
    name: "sync-e2e",
    lockTimeoutMs: 120_000,
    conversationName: "Kyoto trip",
    logs: { templates: sink, host: sink, claims: sink },
    templatesSync: { intervalMs: 200, backoff: { initialMs: 200, maxMs: 1_000 } },
    // The stand-in chat endpoint answers to any model: these are the ones the pool lists (model-b is an owner's choice).
    models: ["model-a", "model-b", "model-c"],
    host: { llm: { baseUrl: chat.baseUrl, apiKey: "sk-local-test" } },
    claims: { pool: { target: 3, intervalMs: 200 }, sync: { scanIntervalMs: 200 } },
  });
  await stack.start();
  ({ host, claims, cli, ready, dir, templatesSc, claimsSc } = stack);
  instanceSc = createServiceClient(InstanceService, host!.url, stack.creds.claims);
}, 150_000);

afterAll(async () => {
  instanceSc?.close();
  await stack?.close();
  await chat?.close();
}, 60_000);

// ---- the creator's side ----

const creator = newIdentity();
let template: Template;

/** A full update (PUT), signed by the creator over the new content. */
async function put(over: Partial<TemplateContentJson>): Promise<Template> {
  const content = { ...contentToJson(template.content!), ...over };
  const signature = await signOperation(creator.account, "UpdateTemplate", {
    inboxId: creator.inboxId,
    templateId: template.id,
    version: template.version,
    contentHash: jsonHash(content),
  });
  const req = {
    templateId: template.id,
    expectedVersion: template.version,
    content: contentFromJson(content),
    signature,
  };
  template = (await templatesSc!.client.updateTemplate(req)).template!;
  return template;
}

/** A PATCH of the instructions, signed over the patch and the content it results in. */
async function patchInstructions(text: string): Promise<Template> {
  const patch = create(TemplatePatchSchema, { instructions: text });
  const signature = await signOperation(creator.account, "PatchTemplate", {
    inboxId: creator.inboxId,
    templateId: template.id,
    version: template.version,
    patchHash: jsonHash(patchToJson(patch)),
    contentHash: jsonHash(applyPatch(contentToJson(template.content!), patchToJson(patch))),
  });
  template = (
    await templatesSc!.client.patchTemplate({
      templateId: template.id,
      expectedVersion: template.version,
      patch,
      signature,
    })
  ).template!;
  return template;
}

// ---- the agents' side ----

interface Agent {
  id: string;
  inboxId: string;
}
const agents: Record<"plain" | "overridden" | "pinned", Agent> = {} as never;

const getAgent = async (a: Agent): Promise<Instance> =>
  (await claimsSc!.client.getInstance({ instanceId: a.id }, as(ready.inboxId))).instance!;

async function untilSync(
  a: Agent,
  expected: { state: SyncState; appliedVersion?: bigint; pendingVersion?: bigint },
  timeout = 20_000,
) {
  await expect
    .poll(
      async () => {
        const s = (await getAgent(a)).sync!;
        return { state: s.state, appliedVersion: s.appliedVersion, pendingVersion: s.pendingVersion };
      },
      { timeout, interval: 100 },
    )
    .toMatchObject(expected);
}

/**
 * The CLI (the conversation's creator) says something; every listed agent's
 * answer, by agent. In a group an agent answers what names it: the three share
 * the template's name, so "Trip Planner, …" is said to all of them.
 */
async function ask(text: string, who: Agent[]): Promise<string[]> {
  const from = await cli!.send(text);
  return Promise.all(who.map(async (a) => (await cli!.messageFrom(a.inboxId, from, 30_000)).content));
}

describe("instruction sync end to end (real templates, claims, instance host, XMTP node and Convos CLI)", () => {
  it("three agents of a published template answer in a Convos conversation with its instructions and their models; one is pinned", {
    timeout: 90_000,
  }, async () => {
    template = await signedTemplate(
      templatesSc!.client,
      creator,
      sampleContent({
        instructions: instructions("ALPHA"),
        model: { default: "model-a", allow_override: true },
        tools: [],
      }),
    );
    // The pool is warm once three instances are idle.
    const claim = async (model = "") => {
      const { instanceId } = await claimsSc!.client.claim(
        // Three of one template in one conversation, on purpose: confirmed (docs/claims.md, "A second agent of a template").
        {
          requester: ready.inboxId,
          templateId: template.id,
          conversationInvite: ready.inviteUrl,
          model,
          confirmSecondAgent: true,
        },
        as(ready.inboxId),
      );
      return { id: instanceId, inboxId: host!.instances.get(instanceId)!.inboxId };
    };
    await expect.poll(async () => host!.instances.size, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(3);
    agents.plain = await claim();
    agents.overridden = await claim("model-b");
    agents.pinned = await claim();
    // An agent runs the content version its creator signed (publishing raised only the template's version).
    for (const a of Object.values(agents))
      await untilSync(a, { state: SyncState.CURRENT, appliedVersion: template.contentVersion });

    expect(await ask("Trip Planner, where should we stay?", [agents.plain, agents.overridden, agents.pinned])).toEqual([
      "ALPHA via model-a",
      "ALPHA via model-b",
      "ALPHA via model-a",
    ]);
    const pinned = await claimsSc!.client.setInstancePin(
      { instanceId: agents.pinned.id, pinned: true },
      as(ready.inboxId),
    );
    expect(pinned.instance!.sync!.state).toBe(SyncState.PINNED);
  });

  it("an update reaches the live agents: new instructions and default model at the next answer, the override kept, a new pool tool provisioned; the pinned agent is left alone", {
    timeout: 60_000,
  }, async () => {
    const before = template.contentVersion;
    const v = (
      await put({
        instructions: instructions("BRAVO"),
        model: { default: "model-c", allow_override: true },
        tools: [tool("email", "pool")],
      })
    ).contentVersion;
    expect(v).toBe(template.version);
    await untilSync(agents.plain, { state: SyncState.CURRENT, appliedVersion: v });
    await untilSync(agents.overridden, { state: SyncState.CURRENT, appliedVersion: v });
    await untilSync(agents.pinned, { state: SyncState.PINNED, appliedVersion: before, pendingVersion: v });

    // On disk, as the instance wrote it after checking the creator's signature.
    expect(await readFile(join(dir, "host", "instances", agents.plain.id, "IDENTITY.md"), "utf8")).toContain(
      instructions("BRAVO"),
    );
    expect(
      await ask("Trip Planner, and what should we eat?", [agents.plain, agents.overridden, agents.pinned]),
    ).toEqual(["BRAVO via model-c", "BRAVO via model-b", "ALPHA via model-a"]);
    // The new pool tool: a mailbox for each updated agent, none for the pinned one.
    expect((await getAgent(agents.plain)).tools.map((t) => t.toolId)).toEqual(["email"]);
    expect((await getAgent(agents.overridden)).tools.map((t) => t.toolId)).toEqual(["email"]);
    expect((await getAgent(agents.pinned)).tools).toEqual([]);
    expect((await getAgent(agents.overridden)).model).toBe("model-b");
    expect((await getAgent(agents.plain)).model).toBe("model-c");

    // The creator's dashboard shows where each instance stands.
    const list = await claimsSc!.client.listTemplateInstances({ templateId: template.id, liveOnly: true }, as(creator));
    const byId = new Map(list.instances.map((i) => [i.id, i.sync!]));
    expect(byId.get(agents.plain.id)).toMatchObject({ state: SyncState.CURRENT, appliedVersion: v });
    expect(byId.get(agents.pinned.id)).toMatchObject({
      state: SyncState.PINNED,
      appliedVersion: before,
      pendingVersion: v,
    });
  });

  it("an update made while the instance host is down is pending, then applied when the host is back", {
    timeout: 90_000,
  }, async () => {
    await host!.close();
    const v = (await patchInstructions(instructions("CHARLIE"))).contentVersion;
    // The claims service cannot deliver: the agents show the version waiting, with the reason once a delivery failed.
    await expect
      .poll(async () => (await getAgent(agents.plain)).sync, { timeout: 15_000, interval: 200 })
      .toMatchObject({ state: SyncState.FAILED, pendingVersion: v });
    expect((await getAgent(agents.plain)).sync!.error).not.toBe("");

    host = await stack!.startHost();
    await untilSync(agents.plain, { state: SyncState.CURRENT, appliedVersion: v }, 30_000);
    await untilSync(agents.overridden, { state: SyncState.CURRENT, appliedVersion: v }, 30_000);
    expect(await ask("Trip Planner, is it going to rain?", [agents.plain, agents.overridden])).toEqual([
      "CHARLIE via model-c",
      "CHARLIE via model-b",
    ]);
  });

  it("two quick updates while the claims service is stopped in the middle: every agent ends on the newest", {
    timeout: 60_000,
  }, async () => {
    await put({ instructions: instructions("DELTA") });
    await claims!.close();
    const newest = (await put({ instructions: instructions("ECHO") })).contentVersion;
    claims = await stack!.startClaims();
    await untilSync(agents.plain, { state: SyncState.CURRENT, appliedVersion: newest }, 30_000);
    await untilSync(agents.overridden, { state: SyncState.CURRENT, appliedVersion: newest }, 30_000);
    expect(await ask("Trip Planner, train or bus?", [agents.plain, agents.overridden])).toEqual([
      "ECHO via model-c",
      "ECHO via model-b",
    ]);
  });

  it("a forged update sent straight to an instance is refused and changes nothing", { timeout: 30_000 }, async () => {
    const call = { headers: { "x-pool-instance": agents.plain.id } };
    const applied = (await instanceSc!.client.health({}, call)).appliedTemplateVersion;
    const content = { ...contentToJson(template.content!), instructions: instructions("FORGED") };
    // By a wallet that is not the creator's, claiming the creator; and by the pool for its own inbox.
    const pool = newIdentity();
    for (const release of [
      await signUpdateRelease(pool.account, {
        templateId: template.id,
        creatorId: creator.inboxId,
        version: applied + 1n,
        content,
      }),
      await signUpdateRelease(pool.account, {
        templateId: template.id,
        creatorId: pool.inboxId,
        version: applied + 1n,
        content,
      }),
    ]) {
      const err = await instanceSc!.client.updateTemplate({ template: release }, call).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectError);
      expect(Code[(err as ConnectError).code]).toBe("PermissionDenied");
    }
    expect((await instanceSc!.client.health({}, call)).appliedTemplateVersion).toBe(applied);
    expect(await ask("Trip Planner, who signs your answers?", [agents.plain])).toEqual(["ECHO via model-c"]);
  });

  it("unpinning brings the pinned agent to the newest version: instructions, default model and tools", {
    timeout: 60_000,
  }, async () => {
    // Unpinning is signed by the owner: here the person in the conversation, whose key the Convos CLI keeps.
    const owner = privateKeyToAccount(await convosWalletKey(join(dir, "cli", "home")));
    const fields = { inboxId: ready.inboxId, instanceId: agents.pinned.id, pinned: false };
    const unpinned = await claimsSc!.client.setInstancePin(
      {
        instanceId: agents.pinned.id,
        pinned: false,
        ownerSignature: await signOperation(owner, "SetInstancePin", fields),
      },
      as(ready.inboxId),
    );
    expect(unpinned.instance!.sync!.state).not.toBe(SyncState.PINNED);
    await untilSync(agents.pinned, { state: SyncState.CURRENT, appliedVersion: template.contentVersion });
    expect((await getAgent(agents.pinned)).tools.map((t) => t.toolId)).toEqual(["email"]);
    expect(await ask("Trip Planner, everyone ready?", [agents.plain, agents.overridden, agents.pinned])).toEqual([
      "ECHO via model-c",
      "ECHO via model-b",
      "ECHO via model-c",
    ]);
  });

  it("no log line holds a service token or a creator's instructions text in full", () => {
    const all = logs.join("\n");
    expect(all).toContain("PushTemplateVersion");
    for (const c of Object.values(stack!.creds)) expect(all).not.toContain(c.token);
    expect(all).not.toContain(instructions("ECHO"));
  });
});
