/**
 * TEST HARNESS. The core walk-through of a deployed pool, shared by the tests
 * that bring the pool up in containers (stack.test.ts: compose.yaml;
 * kube.test.ts: k8s/pool.yaml played by podman): a creator publishes, a
 * Convos CLI conversation gets an agent by claim through the gateway, the
 * agent answers, the creator's update reaches it, the owner clones it into a
 * second conversation, and the checker (e2e/src/invariants.ts) finds nothing
 * wrong. Real: the pool's containers, the XMTP node, the Convos CLI. A
 * stand-in: the model (testing/chat-server.ts), reached from the containers
 * through a port of the host, so that the checker sees every turn.
 */
import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import pg from "pg";
import { expect } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { EXTRACTION_PROMPT, SUMMARY_PROMPT } from "@convos-pool/instance";
import { callerHeaders, createServiceClient, type Principal, type ServiceCredentials } from "@convos-pool/kit/server";
import { signClaim, signClone } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate, signedUpdate, tool } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { ConvosCli } from "@convos-pool/testing/convos-cli";
import type { startCreator } from "@convos-pool/convos/testing";
import { invariantsHold, type World } from "@convos-pool/e2e/invariants";

/** What the walk-through needs of a deployed pool. */
export interface DeployedPool {
  creds: Record<Principal, ServiceCredentials>;
  /** The local XMTP node's port on the host. */
  xmtp: { port: number };
  url(service: "templates" | "claims" | "gateway"): string;
}

export type Creator = Awaited<ReturnType<typeof startCreator>>;

/** The model stand-in, and a port on every address of the host through which containers reach it. */
export interface Model {
  llm: ChatServer;
  /** LLM_BASE_URL as a container gives it. */
  baseUrl: string;
  close(): Promise<void>;
}

export async function startModel(): Promise<Model> {
  const llm = await startChatServer(async (req) => {
    if (req.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT)) return '{"entries":[]}';
    if (req.body.messages.some((m) => m.content?.startsWith(SUMMARY_PROMPT))) return '{"entries":[]}';
    return `Noted (${(req.body.messages.at(-1)?.content ?? "").length} chars).`;
  });
  // The stand-in listens on 127.0.0.1; containers reach the host on its other addresses.
  // Its connections are ended by hand at close: one from a container that was killed or removed never
  // sees its end (the container's network is gone), and `server.close` would wait for it for good.
  const open = new Set<Socket>();
  const bridge: Server = createServer((socket) => {
    const upstream = tcpConnect(Number(new URL(llm.baseUrl).port), "127.0.0.1");
    for (const s of [socket, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise<void>((r) => bridge.listen(0, "0.0.0.0", r));
  return {
    llm,
    baseUrl: `http://host.containers.internal:${(bridge.address() as { port: number }).port}/v1`,
    async close() {
      const closed = new Promise((r) => bridge.close(r));
      for (const s of open) s.destroy();
      await closed;
      await llm.close();
    },
  };
}

/** A client of a database, quiet when the server goes away (a container killed). */
export async function connectDb(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

/** What the invariants checker reads of a pool in containers: its databases, its instance hosts, the creator's conversations, the model's requests. */
export async function checkerWorld(
  pool: DeployedPool & { databaseUrl(name: "claims" | "templates"): string },
  hostUrl: string[],
  creator: Creator,
  model: Model,
): Promise<World> {
  return {
    claimsDb: await connectDb(pool.databaseUrl("claims")),
    templatesDb: await connectDb(pool.databaseUrl("templates")),
    hostUrl,
    hostCreds: pool.creds.claims,
    creator,
    llmRequests: model.llm.requests,
    asked: new Map(),
  };
}

export const inboxOf = async (world: World, instanceId: string) =>
  (await world.claimsDb.query(`select inbox_id from instances where id = $1`, [instanceId])).rows[0]!
    .inbox_id as string;

/** The hosts the keys service released an agent's key to, from its log lines ("agent key released"). */
export function keyReleases(lines: string[], instanceId: string): string[] {
  const hosts: string[] = [];
  for (const line of lines) {
    let entry: { msg?: string; instanceId?: string; host?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.msg === "agent key released" && entry.instanceId === instanceId && entry.host) hosts.push(entry.host);
  }
  return hosts;
}

export async function waitIdle(world: World, n: number): Promise<void> {
  await waitFor(
    `${n} idle agents`,
    async () => ((await world.claimsDb.query(`select 1 from instances where state = 'idle'`)).rowCount ?? 0) >= n,
    120_000,
    250,
  );
}

export async function ask(world: World, creator: Creator, groupId: string, text: string): Promise<void> {
  world.asked.set(groupId, [...(world.asked.get(groupId) ?? []), text]);
  await creator.send(groupId, text);
}

export interface WalkedThrough {
  /** The Convos CLI's conversation (`agent serve`), still running: the caller stops it. */
  cli: ConvosCli;
  /** The agent claimed into it. */
  agent: { id: string; inbox: string };
  /** The template at its last version. */
  template: Template;
}

/**
 * The core walk-through against a deployed pool; `dir` holds the Convos CLI's
 * files. Each step says what it did through `say`.
 */
export async function walkThrough(
  pool: DeployedPool,
  world: World,
  dir: string,
  say: (line: string) => void,
): Promise<WalkedThrough> {
  const creator = world.creator;
  const author = newIdentity();
  const owner = newIdentity();
  const templates = () => createServiceClient(TemplateService, pool.url("templates"), pool.creds.gateway);
  const t = templates();
  let template: Template;
  try {
    template = await signedTemplate(t.client, author, sampleContent({ tools: [tool("sms", "pool")] }), "public");
  } finally {
    t.close();
  }
  say(`the creator published ${template.id}`);
  const cli = await ConvosCli.start(
    ["agent", "serve", "--name", "Deployed", "--profile-name", "Saul"],
    join(dir, "cli"),
    {
      xmtpPort: pool.xmtp.port,
    },
  );
  const ready = await cli.ready(60_000);
  await waitIdle(world, 1);
  // The owner's signed claim, through the gateway's front door.
  const claim = {
    requester: owner.inboxId,
    templateId: template.id,
    conversationInvite: ready.inviteUrl,
    model: "",
    userConfig: {},
  };
  const sig = await signClaim(owner.account, claim);
  const res = await fetch(`${pool.url("gateway")}/api/pool/claim`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      requester: claim.requester,
      template_id: claim.templateId,
      conversation_invite: claim.conversationInvite,
      model: "",
      user_config: {},
      signature: { signature: sig.signature, issued_at: Number(sig.issuedAt), nonce: sig.nonce },
    }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const parentId = JSON.parse(text).instance_id as string;
  const inbox = await inboxOf(world, parentId);
  await cli.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === inbox, { ms: 60_000 });
  say(`the agent ${parentId} joined the Convos conversation`);
  const from = await cli.send("Hello from the deployed pool");
  const answer = await cli.messageFrom(inbox, from, 60_000);
  say(`the agent answered: ${String(answer.content).slice(0, 60)}`);

  const u = templates();
  try {
    template = await signedUpdate(u.client, author, template, "You help with trips. Revision two.");
  } finally {
    u.close();
  }
  const version = Number(template.version);
  await waitFor(
    "the update on the agent",
    async () =>
      Number(
        (await world.claimsDb.query(`select template_version from instances where id = $1`, [parentId])).rows[0]!
          .template_version,
      ) === version,
    90_000,
    500,
  );
  say(`the creator's update (version ${template.version}) reached the agent`);

  // The owner clones it into a second conversation (the creator's), as the gateway forwards it.
  const second = await creator.conversation("Second trip");
  await waitIdle(world, 1);
  const clone = {
    ownerId: owner.inboxId,
    parentInstanceId: parentId,
    templateId: template.id,
    templateCreatorId: author.inboxId,
    conversationInvite: second.invite,
    contextPrompt: "Carry on with the trip in this conversation.",
    carry: [] as string[],
    model: "",
    userConfig: {},
  };
  const c = createServiceClient(ClaimService, pool.url("claims"), pool.creds.gateway);
  try {
    const cloned = await c.client.claim(
      {
        requester: owner.inboxId,
        cloneFrom: parentId,
        templateId: template.id,
        templateCreatorId: author.inboxId,
        conversationInvite: second.invite,
        contextPrompt: clone.contextPrompt,
        carry: [],
        model: "",
        userConfig: {},
        ownerSignature: await signClone(owner.account, clone),
      },
      { headers: callerHeaders(owner.inboxId), timeoutMs: 90_000 },
    );
    expect(cloned.instanceId).not.toBe(parentId);
    say(`the owner cloned it into a second conversation: ${cloned.instanceId}`);
    await ask(world, creator, second.groupId, "Are you the clone?");
  } finally {
    c.close();
  }
  await invariantsHold(world, 90_000);
  return { cli, agent: { id: parentId, inbox }, template };
}
