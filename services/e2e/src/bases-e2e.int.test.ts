// Base templates end to end with every part real (the harness of
// sync-e2e.int.test.ts): a creator's public base followed by two derived
// templates of two other creators, and one that stays on the base's first
// version. An agent of each answers in a Convos conversation; the base's
// update reaches the agents of both followers and not the one that stays;
// a base layer forged by the pool is refused by the agent itself.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { SyncState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateReleaseService, type TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { ConvosCli, ReadyEvent } from "@convos-pool/testing/convos-cli";
import type { RunningInstanceHost } from "@convos-pool/instance";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { createServiceClient, type ServiceClient } from "@convos-pool/kit/server";
import { signUpdateRelease } from "@convos-pool/kit/signing";
import type { BaseJson, TemplateContentJson } from "@convos-pool/kit/content";
import { newIdentity, sampleContent, signedTemplate, signedUpdate, type TestIdentity } from "@convos-pool/kit/testing";
import { as } from "@convos-pool/claims/testing";
import { RealStack } from "./real-stack.js";

// Every answer names the policy (the base's layer) and the role (the derived one's) in the instructions it ran on.
const policy = (mark: string) => `Policy ${mark}: never share the group's plans.`;
const role = (mark: string) => `Role ${mark}: you plan trips.`;
const answerOf = (system: string) =>
  `${/Policy (\w+)/.exec(system)?.[1] ?? "NONE"}/${/Role (\w+)/.exec(system)?.[1] ?? "NONE"}`;

const logs: string[] = [];
let stack: RealStack | undefined;
let chat: ChatServer | undefined;
let host: RunningInstanceHost | undefined;
let cli: ConvosCli | undefined;
let ready: ReadyEvent;
let templatesSc: ServiceClient<typeof TemplateService> | undefined;
let claimsSc: ServiceClient<typeof ClaimService> | undefined;
let instanceSc: ServiceClient<typeof InstanceService> | undefined;
let releasesSc: ServiceClient<typeof TemplateReleaseService> | undefined;

beforeAll(async () => {
  chat = await startChatServer((req) => {
    if (req.body.temperature === 0) return '{"entries":[]}';
    return answerOf(String(req.body.messages.find((m) => m.role === "system")?.content ?? ""));
  });
  stack = new RealStack({
    name: "bases-e2e",
    lockTimeoutMs: 120_000,
    conversationName: "Lisbon trip",
    logs: { templates: (l) => logs.push(l), host: (l) => logs.push(l), claims: (l) => logs.push(l) },
    templatesSync: { intervalMs: 200, backoff: { initialMs: 200, maxMs: 1_000 } },
    host: { llm: { baseUrl: chat.baseUrl, apiKey: "sk-local-test" } },
    claims: { pool: { target: 3, intervalMs: 200 }, sync: { scanIntervalMs: 200 } },
  });
  await stack.start();
  ({ host, cli, ready, templatesSc, claimsSc } = stack);
  instanceSc = createServiceClient(InstanceService, host!.url, stack.creds.claims);
  releasesSc = createServiceClient(TemplateReleaseService, stack.templates!.url, stack.creds.claims);
}, 150_000);

afterAll(async () => {
  if (process.env.BASES_E2E_LOGS) console.log(logs.filter((l) => /"level":"(warn|error)"/.test(l)).join("\n"));
  instanceSc?.close();
  releasesSc?.close();
  await stack?.close();
  await chat?.close();
}, 60_000);

const acme = newIdentity();
const saul = newIdentity();
const kim = newIdentity();
let base: Template;
const derivedOf = (b: Template, mark: string, version?: number): TemplateContentJson => {
  const { model: _fromBase, ...c } = sampleContent({
    agent_name: `Planner ${mark}`,
    instructions: role(mark),
    tools: [],
  });
  const ref: BaseJson = { template_id: b.id, creator_id: b.creatorId, ...(version ? { version } : {}) };
  return { ...c, base: ref };
};

interface Agent {
  id: string;
  inboxId: string;
}
const agents: Record<"saul" | "kim" | "steady", Agent> = {} as never;

async function claim(template: Template): Promise<Agent> {
  const { instanceId } = await claimsSc!.client.claim(
    { requester: ready.inboxId, templateId: template.id, conversationInvite: ready.inviteUrl },
    as(ready.inboxId),
  );
  return { id: instanceId, inboxId: host!.instances.get(instanceId)!.inboxId };
}

/** The CLI says `text`; each listed agent's answer. In a group an agent answers what names it ("Planner SAUL, …"). */
async function ask(text: string, who: Agent[]): Promise<string[]> {
  const from = await cli!.send(text);
  return Promise.all(who.map(async (a) => (await cli!.messageFrom(a.inboxId, from, 30_000)).content));
}

const syncOf = async (a: Agent) =>
  (await claimsSc!.client.getInstance({ instanceId: a.id }, as(ready.inboxId))).instance!.sync!;

describe("base templates end to end (real templates, claims, instance host, XMTP node and Convos CLI)", () => {
  it("agents of two creators' templates on one base answer with the base's instructions first, then their own", {
    timeout: 90_000,
  }, async () => {
    base = await signedTemplate(
      templatesSc!.client,
      acme,
      sampleContent({ agent_name: "Acme trips", instructions: policy("ALPHA"), tools: [] }),
    );
    const bySaul = await signedTemplate(templatesSc!.client, saul, derivedOf(base, "SAUL"));
    const byKim = await signedTemplate(templatesSc!.client, kim, derivedOf(base, "KIM"));
    const steady = await signedTemplate(
      templatesSc!.client,
      kim,
      derivedOf(base, "STEADY", Number(base.contentVersion)),
    );
    await expect.poll(async () => host!.instances.size, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(3);
    agents.saul = await claim(bySaul);
    agents.kim = await claim(byKim);
    agents.steady = await claim(steady);
    expect(
      await ask("Planner SAUL, Planner KIM and Planner STEADY, where to first?", [
        agents.saul,
        agents.kim,
        agents.steady,
      ]),
    ).toEqual(["ALPHA/SAUL", "ALPHA/KIM", "ALPHA/STEADY"]);
  });

  it("the base's update reaches the agents of both templates that follow it; the one that stays on version 1 does not move", {
    timeout: 60_000,
  }, async () => {
    base = await signedUpdate(templatesSc!.client, acme, base, policy("BRAVO"));
    await expect
      .poll(() => ask("Planner SAUL and Planner KIM, anything new?", [agents.saul, agents.kim]), {
        timeout: 30_000,
        interval: 1_000,
      })
      .toEqual(["BRAVO/SAUL", "BRAVO/KIM"]);
    // Their own templates did not change: the same version, current again.
    for (const a of [agents.saul, agents.kim])
      expect(await syncOf(a)).toMatchObject({ state: SyncState.CURRENT, appliedVersion: 1n });
    const call = { headers: { "x-pool-instance": agents.saul.id } };
    expect((await instanceSc!.client.health({}, call)).appliedBaseVersions).toEqual([base.contentVersion]);
    expect(await ask("And Planner STEADY, the steady one?", [agents.steady])).toEqual(["ALPHA/STEADY"]);
    expect((await syncOf(agents.steady)).state).toBe(SyncState.CURRENT);
  });

  it("a base layer the pool forged, or another creator's in its place, is refused by the agent and changes nothing", {
    timeout: 30_000,
  }, async () => {
    const call = { headers: { "x-pool-instance": agents.saul.id } };
    const before = await instanceSc!.client.health({}, call);
    const { templateId } = (await claimsSc!.client.getInstance({ instanceId: agents.saul.id }, as(ready.inboxId)))
      .instance!;
    const current = await releasesSc!.client.getTemplateRelease({ templateId });
    const forger: TestIdentity = newIdentity();
    const forged = sampleContent({ agent_name: "Acme trips", instructions: policy("FORGED"), tools: [] });
    for (const layer of [
      // Signed by the pool's key, claiming to be Acme's.
      await signUpdateRelease(forger.account, {
        templateId: base.id,
        creatorId: acme.inboxId,
        version: base.contentVersion + 1n,
        content: forged,
      }),
      // Signed by the pool for its own inbox: not the creator Saul's template names.
      await signUpdateRelease(forger.account, {
        templateId: base.id,
        creatorId: forger.inboxId,
        version: base.contentVersion + 1n,
        content: forged,
      }),
    ]) {
      const err = await instanceSc!.client.updateTemplate({ template: current.release, bases: [layer] }, call).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectError);
      expect(Code[(err as ConnectError).code]).toBe("PermissionDenied");
    }
    expect(await instanceSc!.client.health({}, call)).toMatchObject({
      appliedTemplateVersion: before.appliedTemplateVersion,
      appliedBaseVersions: before.appliedBaseVersions,
    });
    expect(await ask("Planner SAUL, still the same plans?", [agents.saul])).toEqual(["BRAVO/SAUL"]);
  });
});
