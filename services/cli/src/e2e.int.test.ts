// The CLI's command functions against a real gateway, templates service and
// claims service on test databases; the claims service's instance host is its
// tests' stand-in (services/claims/test/stand-in-host.ts). Run with
// `scripts/with-postgres.sh npx vitest run services/cli/src`.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApprovalPlace, Grant, OutsiderReply, ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { NO_LIMITS, generateServiceCredentials, createLogger } from "@convos-pool/kit/server";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPEN_BUDGET, SecretBox } from "@convos-pool/claims";
import { startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import * as agentCommands from "./commands/agents/commands.js";
import * as agentSettings from "./commands/agents/settings.js";
import * as keyCommands from "./commands/keys/commands.js";
import * as templateCommands from "./commands/templates/commands.js";
import * as conversations from "./commands/conversations/commands.js";
import * as curation from "./commands/curation/commands.js";
import { HttpError } from "./core/errors.js";
import type { Context } from "./core/http.js";
import { inviteUrl } from "@convos-pool/convos/testing/invite";

interface Template {
  id: string;
  version: number;
  visibility: string;
  status: string;
  agent_name: string;
  instructions: string;
  description: string;
  tags: string[];
  tools: unknown[];
  model: unknown;
}

const silent = (name: string) => createLogger(name, { level: "silent" });

let dir: string;
let templates: RunningTemplateService;
let gateway: RunningGateway;
let host: StandInHost;
let claims: RunningClaimsService;
let lineage: RunningLineageService;
let ctx: Context;
/** An operator of the pool (POOL_OPERATORS): its key is made before the templates service starts. */
let operator: Context;
/** The claims service's template cache, shorter here than its default: a delisting shows once it has passed. */
const TEMPLATE_CACHE_MS = 200;

beforeAll(async () => {
  const creds = generateServiceCredentials();
  dir = await mkdtemp(join(tmpdir(), "pool-cli-e2e-"));
  operator = { url: "", keyFile: join(dir, "operator/key.json"), cwd: dir };
  const op = await keyCommands.keygen(operator);
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("cli_templates"),
    port: 0,
    host: "127.0.0.1",
    credentials: creds.templates,
    operators: [op.inbox_id],
    log: silent("templates"),
  });
  host = await StandInHost.start(creds["instance-host"]);
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("cli_lineage"),
    credentials: creds.lineage,
    templatesUrl: templates.url,
    log: silent("lineage"),
  });
  claims = await startClaimsService({
    // Numbers and mailboxes without an operator's grant: this measures something else (docs/limits.md).
    budget: OPEN_BUDGET,
    databaseUrl: await createTestDatabase("cli_claims"),
    credentials: creds.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir: join(dir, "claims"),
    smsRange: "+15550900000..+15550900009",
    pool: { hostUrls: [host.url], target: 2, intervalMs: 3_600_000 },
    lineageUrl: lineage.url,
    limits: NO_LIMITS,
    templateCacheMs: TEMPLATE_CACHE_MS,
    log: silent("claims"),
  });
  gateway = await startGateway({
    port: 0,
    host: "127.0.0.1",
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    lineageUrl: lineage.url,
    credentials: creds.gateway,
    databaseUrl: await createTestDatabase("cli_gateway"),
    log: silent("gateway"),
  });
  ctx = { url: gateway.url.replace(/\/+$/, ""), keyFile: join(dir, ".data/cli/key.json"), cwd: dir };
  operator.url = ctx.url;
});

afterAll(async () => {
  // Each part in turn; one that takes long says which (a slow close once hung this hook).
  const parts: [string, (() => Promise<unknown>) | undefined][] = [
    ["gateway", gateway && (() => gateway.close())],
    ["claims", claims && (() => claims.close())],
    ["lineage", lineage && (() => lineage.close())],
    ["host", host && (() => host.kill())],
    ["templates", templates && (() => templates.close())],
  ];
  for (const [name, close] of parts) {
    const started = Date.now();
    const slow = setTimeout(() => console.warn(`closing ${name} takes more than 5 s`), 5_000);
    await close?.();
    clearTimeout(slow);
    if (Date.now() - started > 5_000) console.warn(`closing ${name} took ${Date.now() - started} ms`);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * A Convos invite as a creator's app makes one (a signed payload naming the
 * creator's inbox and the conversation's tag): what the claims service reads
 * to know an added conversation. Nobody is behind it; the stand-in host joins nothing.
 */
async function convosInvite(): Promise<string> {
  return inviteUrl({
    creatorInboxId: randomBytes(32).toString("hex"),
    tag: `tag${randomBytes(4).toString("hex")}`,
    name: "Dinner club",
  });
}

async function expectHttpError(p: Promise<unknown>, status: number, type: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  expect((err as HttpError).status).toBe(status);
  expect((err as HttpError).body).toMatchObject({ error: { type } });
}

describe("pool against a real gateway", () => {
  it("keygen, create, publish, browse, stale update, patch, rollback, versions, mine, delete", async () => {
    const me = await keyCommands.keygen(ctx);
    const word = `kyoto${randomBytes(3).toString("hex")}`;

    // A content file with the optional fields left out (tool fields too).
    await writeFile(
      join(dir, "trip.json"),
      JSON.stringify({
        agent_name: "Trip Planner",
        instructions: "You are a travel planning assistant.",
        tools: [
          { id: "sms", provisioning: "pool" },
          { id: "personal-email", provisioning: "user", prompt: "Your email?" },
        ],
        description: `Plans group trips to ${word}`,
        category: "travel",
        tags: ["travel"],
      }),
    );
    const created = (await templateCommands.createTemplate(ctx, "trip.json")) as Template & { creator_id: string };
    expect(created).toMatchObject({ version: 1, visibility: "private", status: "active", creator_id: me.inbox_id });
    expect(created.model).toEqual({ default: "gpt-oss-20b", allow_override: true });
    const id = created.id;

    // Private: only the creator (signed in automatically) sees it.
    expect(((await templateCommands.getTemplate(ctx, id)) as Template).version).toBe(1);

    const published = (await templateCommands.publishTemplate(ctx, id)) as Template;
    expect(published).toMatchObject({ version: 2, visibility: "public" });

    const store = (await templateCommands.browse(ctx, { q: word, sort: "relevance", limit: 10 })) as {
      templates: Template[];
    };
    expect(store.templates.map((t) => t.id)).toEqual([id]);
    expect(store.templates[0]?.instructions).toBe(""); // listings leave instructions out

    await writeFile(
      join(dir, "trip2.json"),
      JSON.stringify({ agent_name: "Trip Planner", instructions: "Plan trips to Japan." }),
    );
    await expectHttpError(templateCommands.updateTemplate(ctx, id, "trip2.json", 1), 409, "conflict");
    const updated = (await templateCommands.updateTemplate(ctx, id, "trip2.json")) as Template;
    expect(updated).toMatchObject({ version: 3, instructions: "Plan trips to Japan.", tags: [], tools: [] });

    await writeFile(
      join(dir, "patch.json"),
      JSON.stringify({ description: "Patched", tags: ["japan"], model: { default: "gpt-oss-120b" } }),
    );
    // Signed over version 2's content patched (from the history): valid, but stale.
    await expectHttpError(templateCommands.patchTemplate(ctx, id, "patch.json", 2), 409, "conflict");
    const patched = (await templateCommands.patchTemplate(ctx, id, "patch.json", 3)) as Template;
    expect(patched).toMatchObject({
      version: 4,
      description: "Patched",
      tags: ["japan"],
      instructions: "Plan trips to Japan.",
    });
    expect(patched.model).toEqual({ default: "gpt-oss-120b", allow_override: true });

    const rolledBack = (await templateCommands.rollbackTemplate(ctx, id, 1)) as Template;
    expect(rolledBack).toMatchObject({
      version: 5,
      visibility: "public",
      instructions: created.instructions,
      description: created.description,
      tags: created.tags,
    });
    expect(rolledBack.tools).toEqual(created.tools);
    // The restored content is looked up before signing: a version that does not exist is a local error.
    await expect(templateCommands.rollbackTemplate(ctx, id, 9)).rejects.toThrow(`template ${id} has no version 9`);

    const history = (await templateCommands.listVersions(ctx, id)) as {
      versions: Array<{ version: number; change_summary: string }>;
    };
    expect(history.versions.map((v) => v.version)).toEqual([5, 4, 3, 2, 1]);
    expect(history.versions[0]?.change_summary).toBe("rollback to v1");

    const mine = (await templateCommands.mine(ctx)) as { templates: Template[] };
    expect(mine.templates.map((t) => t.id)).toContain(id);

    const archived = (await templateCommands.archiveTemplate(ctx, id)) as Template;
    expect(archived).toMatchObject({ version: 6, status: "archived" });
    expect(((await templateCommands.mine(ctx)) as { templates: Template[] }).templates.map((t) => t.id)).not.toContain(
      id,
    );
    expect(
      ((await templateCommands.mine(ctx, { archived: true })) as { templates: Template[] }).templates.map((t) => t.id),
    ).toContain(id);

    expect(await templateCommands.deleteTemplate(ctx, id)).toEqual({ id, deleted: true });
    await expectHttpError(templateCommands.getTemplate(ctx, id), 404, "not_found");
  });

  it("a content file's phone connections: created, printed by get, replaced by a patch; a bad one refused naming the field", async () => {
    const me: Context = { ...ctx, keyFile: join(dir, "connections/key.json") };
    await keyCommands.keygen(me);
    const file = (name: string, body: unknown) => writeFile(join(dir, name), JSON.stringify(body));
    const calendar = { kind: "calendar", capabilities: ["read", "write_create"], reason: "to plan around your week" };
    await file("phone.json", { agent_name: "Planner", instructions: "You plan.", connections: [calendar] });
    const { id } = (await templateCommands.createTemplate(me, "phone.json")) as Template;
    expect(((await templateCommands.getTemplate(me, id)) as { connections?: unknown }).connections).toEqual([calendar]);

    const location = { kind: "location", capabilities: ["read"], reason: "to suggest places nearby" };
    await file("phone-patch.json", { connections: [location] });
    const patched = (await templateCommands.patchTemplate(me, id, "phone-patch.json")) as Template & {
      connections?: unknown;
    };
    expect(patched).toMatchObject({ version: 2, connections: [location] });

    await file("phone-bad.json", {
      agent_name: "Planner",
      instructions: "You plan.",
      connections: [{ kind: "calendar", capabilities: ["read", "write_everything"], reason: "to plan" }],
    });
    const err = await templateCommands.updateTemplate(me, id, "phone-bad.json").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).body).toMatchObject({
      error: { code: "invalid_argument", field: "connections[0].capabilities[1]" },
    });
    expect(((await templateCommands.getTemplate(me, id)) as Template).version).toBe(2);
  });

  it("update, patch and rollback that take the pool's wallet away: refused naming the field, published with --acknowledge-wallet-removal (signed)", async () => {
    // A creator of its own, so that this test stands alone.
    const me: Context = { ...ctx, keyFile: join(dir, "payer/key.json") };
    await keyCommands.keygen(me);
    const file = (name: string, body: unknown) => writeFile(join(dir, name), JSON.stringify(body));
    await file("plain.json", {
      agent_name: "Payer",
      instructions: "You pay.",
      tools: [{ id: "sms", provisioning: "pool" }],
    });
    await file("wallet.json", {
      agent_name: "Payer",
      instructions: "You pay.",
      tools: [
        { id: "sms", provisioning: "pool" },
        { id: "crypto", provisioning: "pool" },
      ],
    });
    await file("no-wallet.json", { agent_name: "Payer", instructions: "You no longer pay." });
    await file("drop.json", { tools: [{ id: "sms", provisioning: "pool" }] });
    const { id } = (await templateCommands.createTemplate(me, "plain.json")) as Template;
    await templateCommands.updateTemplate(me, id, "wallet.json");

    const refused = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).status).toBe(422);
      expect((err as HttpError).body).toMatchObject({
        error: {
          type: "unprocessable_entity",
          field: "acknowledge_wallet_removal",
          message: expect.stringContaining("their balances go back to their owners") as unknown,
        },
      });
    };
    await refused(templateCommands.updateTemplate(me, id, "no-wallet.json"));
    await refused(templateCommands.patchTemplate(me, id, "drop.json"));
    await refused(templateCommands.rollbackTemplate(me, id, 1));
    expect(await templateCommands.patchTemplate(me, id, "drop.json", undefined, undefined, true)).toMatchObject({
      version: 3,
    });
    await templateCommands.updateTemplate(me, id, "wallet.json");
    expect(await templateCommands.rollbackTemplate(me, id, 1, undefined, undefined, true)).toMatchObject({
      version: 5,
    });
    await templateCommands.updateTemplate(me, id, "wallet.json");
    expect(await templateCommands.updateTemplate(me, id, "no-wallet.json", undefined, undefined, true)).toMatchObject({
      version: 7,
      tools: [],
    });
  });
});

describe("pool for an agent's owner", () => {
  it("a template on another creator's base: the file names the base by id, get --resolve shows what its agents run on", async () => {
    const acme: Context = { url: ctx.url, keyFile: join(dir, "acme/key.json"), cwd: dir };
    const kim: Context = { url: ctx.url, keyFile: join(dir, "kim/key.json"), cwd: dir };
    const acmeKey = await keyCommands.keygen(acme);
    await keyCommands.keygen(kim);
    await writeFile(
      join(dir, "acme-base.json"),
      JSON.stringify({
        agent_name: "Acme base",
        instructions: "Never share internal data.",
        model: { default: "gpt-oss-120b" },
      }),
    );
    const base = (await templateCommands.createTemplate(acme, "acme-base.json")) as Template;
    await templateCommands.publishTemplate(acme, base.id);
    await writeFile(
      join(dir, "kim-desk.json"),
      JSON.stringify({ agent_name: "Kim's desk", instructions: "You are Kim's.", base: { template_id: base.id } }),
    );
    const derived = (await templateCommands.createTemplate(kim, "kim-desk.json")) as Template & { base: unknown };
    expect(derived.base).toEqual({ template_id: base.id, creator_id: acmeKey.inbox_id });
    const shown = (await templateCommands.getTemplate(kim, derived.id, true)) as Template & {
      resolved: Template & { layers: { template_id: string }[] };
    };
    expect(shown.resolved).toMatchObject({
      instructions: "Never share internal data.\n\nYou are Kim's.",
      model: { default: "gpt-oss-120b", allow_override: true },
    });
    expect(shown.resolved.layers.map((l) => l.template_id)).toEqual([derived.id, base.id]);
    expect(((await templateCommands.getTemplate(kim, derived.id)) as { resolved?: unknown }).resolved).toBeUndefined();
    // Its creator cannot delete a base others build on.
    await expectHttpError(templateCommands.deleteTemplate(acme, base.id), 422, "unprocessable_entity");
  });

  it("claim (signed, no session), agents, agent, pin, unpin, trust, permissions, participation, activity, remove; someone else cannot; logout ends the session", async () => {
    // A creator publishes a template with a pool tool and a required user tool.
    const creator: Context = { ...ctx, keyFile: join(dir, "creator/key.json") };
    await keyCommands.keygen(creator);
    await writeFile(
      join(dir, "agent.json"),
      JSON.stringify({
        agent_name: "Concierge",
        instructions: "Help.",
        tools: [
          { id: "sms", name: "SMS", provisioning: "pool" },
          { id: "personal-email", name: "Email", provisioning: "user", prompt: "Your email?", required: true },
        ],
      }),
    );
    const t = (await templateCommands.createTemplate(creator, "agent.json")) as Template;
    await templateCommands.publishTemplate(creator, t.id);
    await claims.pool!.reconcile();

    const owner: Context = { ...ctx, keyFile: join(dir, "owner/key.json") };
    const me = await keyCommands.keygen(owner);
    const invite = `https://dev.convos.org/v2?i=cli-${randomBytes(4).toString("hex")}`;
    await expectHttpError(agentCommands.claim(owner, t.id, invite), 400, "invalid_request");
    const { instance_id: instanceId } = (await agentCommands.claim(owner, t.id, invite, {
      config: { "personal-email": "saul@example.com" },
    })) as { instance_id: string };
    expect(instanceId).toMatch(/^inst_/);
    expect(host.instances.get(instanceId)?.configured?.ownerId).toBe(me.inbox_id);

    const mine = (await agentCommands.agents(owner)) as { agents: { id: string; template_id: string }[] };
    expect(mine.agents.map((a) => [a.id, a.template_id])).toEqual([[instanceId, t.id]]);
    expect(((await agentCommands.agent(owner, instanceId)) as { sync: { state: string } }).sync.state).toBe(
      "SYNC_STATE_CURRENT",
    );
    expect(((await agentCommands.pinAgent(owner, instanceId, true)) as { sync: { state: string } }).sync.state).toBe(
      "SYNC_STATE_PINNED",
    );
    expect(((await agentCommands.pinAgent(owner, instanceId, false)) as { sync: { state: string } }).sync.state).toBe(
      "SYNC_STATE_CURRENT",
    );

    // Its trust level: L2 to start with, the highest its template allows (it names none); the change is in its log.
    expect(await agentCommands.agent(owner, instanceId)).toMatchObject({ trust_level: "L2" });
    expect(await agentCommands.activity(owner, instanceId)).toBe("No activity yet.");
    expect(await agentSettings.setTrust(owner, instanceId, "L1")).toMatchObject({ id: instanceId, trust_level: "L1" });
    await expectHttpError(agentSettings.setTrust(owner, instanceId, "L3"), 400, "invalid_request");
    expect(
      ((await agentCommands.agents(owner)) as { agents: { trust_level: string }[] }).agents.map((a) => a.trust_level),
    ).toEqual(["L1"]);
    const log = (await agentCommands.activity(owner, instanceId, { limit: 5 })).split("\n");
    expect(log).toHaveLength(2);
    expect(log[1]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+trust\s+set_trust_level\s+done\s+L2 → L1, set by the owner\s+L1\s+no$/,
    );

    // Whose requests it acts on: the defaults to start with; each change keeps what it did not name.
    expect(((await agentCommands.agent(owner, instanceId)) as { permissions: unknown }).permissions).toEqual({
      member_sms: "ask",
      member_email: "ask",
      member_crypto: "ask",
      outsider_reply: "none",
      approvals: "conversation",
    });
    expect(
      await agentSettings.setPermissions(owner, instanceId, {
        member_crypto: "refuse",
        outsider_reply: "answer",
        approvals: "direct",
      }),
    ).toMatchObject({
      id: instanceId,
      permissions: {
        member_sms: "ask",
        member_email: "ask",
        member_crypto: "refuse",
        outsider_reply: "answer",
        approvals: "direct",
      },
    });
    expect(await agentSettings.setPermissions(owner, instanceId, { member_sms: "allow" })).toMatchObject({
      permissions: {
        member_sms: "allow",
        member_email: "ask",
        member_crypto: "refuse",
        outsider_reply: "answer",
        approvals: "direct",
      },
    });
    expect(host.instances.get(instanceId)?.permissions).toEqual({
      memberSms: Grant.ALLOW,
      memberEmail: Grant.ASK,
      memberCrypto: Grant.REFUSE,
      outsiderReply: OutsiderReply.ANSWER,
      approvals: ApprovalPlace.DIRECT,
    });

    // When it speaks: by its conversation's size to start with; each change keeps what it did not name.
    expect(((await agentCommands.agent(owner, instanceId)) as { participation: unknown }).participation).toEqual({
      mode: "auto",
      cooldown_seconds: 0,
    });
    expect(
      await agentSettings.setParticipation(owner, instanceId, { mode: "mention", cooldown_seconds: 60 }),
    ).toMatchObject({
      id: instanceId,
      participation: { mode: "mention", cooldown_seconds: 60 },
    });
    expect(await agentSettings.setParticipation(owner, instanceId, { mode: "paused" })).toMatchObject({
      participation: { mode: "paused", cooldown_seconds: 60 },
    });
    expect(host.instances.get(instanceId)?.participation).toEqual({
      mode: ParticipationMode.PAUSED,
      cooldownSeconds: 60,
    });

    // The creator is not the owner: told the agent does not exist.
    await expectHttpError(agentCommands.pinAgent(creator, instanceId, true), 404, "not_found");
    await expectHttpError(agentCommands.removeAgent(creator, instanceId), 404, "not_found");
    await expectHttpError(agentSettings.setTrust(creator, instanceId, "L1"), 404, "not_found");
    const everything = {
      member_sms: "refuse",
      member_email: "refuse",
      member_crypto: "refuse",
      outsider_reply: "none",
      approvals: "conversation",
    } as const;
    await expectHttpError(agentSettings.setPermissions(creator, instanceId, everything), 404, "not_found");
    await expectHttpError(agentSettings.setParticipation(creator, instanceId, { mode: "speak" }), 404, "not_found");
    await expectHttpError(agentCommands.activity(creator, instanceId), 404, "not_found");

    expect(await agentCommands.removeAgent(owner, instanceId)).toEqual({ id: instanceId, removed: true });
    expect(((await agentCommands.agent(owner, instanceId)) as { state: string }).state).toBe("INSTANCE_STATE_DEAD");
    expect(((await agentCommands.agents(owner)) as { agents: unknown[] }).agents).toEqual([]);

    // Signing out ends the session on the server too: the token no longer opens anything.
    const { token } = JSON.parse(await readFile(join(dir, "owner/key.session.json"), "utf8")) as { token: string };
    expect(await keyCommands.logout(owner)).toMatchObject({ signed_out: true, inbox_id: me.inbox_id });
    const refused = await fetch(`${ctx.url}/api/pool/agents?owner=${me.inbox_id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(401);
    expect(await keyCommands.logout(owner)).toMatchObject({ signed_out: false });
  });

  it("clone (signed as the owner), transfer and accept, lineage, dashboard and family", async () => {
    const owner: Context = { ...ctx, keyFile: join(dir, "cloner/key.json") };
    const me = await keyCommands.keygen(owner);
    await writeFile(
      join(dir, "plain.json"),
      JSON.stringify({ agent_name: "Planner", instructions: "Plan.", clone_directive: "Only the lessons" }),
    );
    const t = (await templateCommands.createTemplate(owner, "plain.json")) as Template & { clone_directive?: string };
    expect(t.clone_directive).toBe("Only the lessons");
    await claims.pool!.reconcile();
    const invite = () => `https://dev.convos.org/v2?i=cli-${randomBytes(4).toString("hex")}`;
    const { instance_id: parent } = (await agentCommands.claim(owner, t.id, invite())) as { instance_id: string };
    await claims.pool!.reconcile();

    // The pool checks the CloneAgent signature the CLI made over exactly this clone; the stand-in host
    // sends no summary, so the clone works without one and says why.
    const cloned = (await agentCommands.clone(owner, parent, invite(), {
      directive: "no Japan",
      carry: ["training", "credentials"],
    })) as {
      instance_id: string;
      inheritance: { state: string; carry: string[]; error: string };
    };
    expect(cloned.inheritance).toMatchObject({ state: "INHERITANCE_STATE_FAILED", carry: ["training", "credentials"] });
    expect(cloned.inheritance.error).toContain("parent agent refused");
    expect(host.instances.get(cloned.instance_id)?.configured?.parent?.instanceId).toBe(parent);
    // Someone else's agent: as if it did not exist.
    const stranger: Context = { ...ctx, keyFile: join(dir, "stranger/key.json") };
    const them = await keyCommands.keygen(stranger);
    await expectHttpError(agentCommands.clone(stranger, parent, invite()), 404, "not_found");

    // Ownership: offered, then accepted by the other inbox.
    expect(await agentCommands.transferAgent(owner, cloned.instance_id, them.inbox_id)).toMatchObject({
      pending_owner_id: them.inbox_id,
    });
    // The owner is not the one it is offered to: the CLI says so before asking.
    await expect(agentCommands.acceptAgent(owner, cloned.instance_id)).rejects.toThrow(/not offered to you/);
    expect(await agentCommands.acceptAgent(stranger, cloned.instance_id)).toMatchObject({
      owner_id: them.inbox_id,
      pending_owner_id: "",
    });

    await claims.lineage!.drained();
    const tree = (await agentCommands.lineage(owner, parent)) as {
      instance: { instance_id: string };
      children: { instance_id: string; owner_id: string }[];
    };
    expect(tree.children.map((c) => [c.instance_id, c.owner_id])).toEqual([[cloned.instance_id, them.inbox_id]]);
    expect(await agentCommands.dashboard(owner, t.id)).toMatchObject({ live_count: 2, clone_count: 1, max_depth: 1 });
    const mine = (await agentCommands.family(owner)) as { agents: { instance_id: string; children_count: number }[] };
    expect(mine.agents).toMatchObject([{ instance_id: parent, children_count: 1 }]);
    const theirs = (await agentCommands.family(stranger)) as {
      agents: { instance_id: string; parent_instance_id: string; carry: string[] }[];
    };
    expect(theirs.agents).toMatchObject([
      { instance_id: cloned.instance_id, parent_instance_id: parent, carry: ["training", "credentials"] },
    ]);
    expect(me.inbox_id).not.toBe(them.inbox_id);
  });

  it("conversations lists a freshly claimed agent's home: its id, marked, joined, speaking by the conversation's size, its tools shared", async () => {
    const owner: Context = { ...ctx, keyFile: join(dir, "homeowner/key.json") };
    await keyCommands.keygen(owner);
    await writeFile(join(dir, "home.json"), JSON.stringify({ agent_name: "Host", instructions: "Greet." }));
    const t = (await templateCommands.createTemplate(owner, "home.json")) as Template;
    await claims.pool!.reconcile();
    const invite = `https://dev.convos.org/v2?i=cli-${randomBytes(4).toString("hex")}`;
    const { instance_id: id } = (await agentCommands.claim(owner, t.id, invite)) as { instance_id: string };

    // The claims service fills the agent's conversations (Instance.conversations): one, its home, the one it was claimed into.
    const agent = (await agentCommands.agent(owner, id)) as { conversation_id: string; conversations: unknown[] };
    expect(agent.conversation_id).not.toBe("");
    expect(agent.conversations).toMatchObject([
      {
        id: agent.conversation_id,
        home: true,
        state: "joined",
        participation: { mode: "auto", cooldown_seconds: 0 },
        tools: "shared",
      },
    ]);
    const lines = (await conversations.conversations(owner, id)).split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${agent.conversation_id}\t.+ \\(home\\)\tjoined\tauto\ttools shared$`));
  });

  it("add-to (signed as the owner) puts the agent in a second conversation, conversations lists both, participation --conversation sets when it speaks there, leave takes it out of one; someone else cannot", async () => {
    const owner: Context = { ...ctx, keyFile: join(dir, "twoconversations/key.json") };
    await keyCommands.keygen(owner);
    await writeFile(join(dir, "two.json"), JSON.stringify({ agent_name: "Twice", instructions: "Help." }));
    const t = (await templateCommands.createTemplate(owner, "two.json")) as Template;
    await claims.pool!.reconcile();
    const { instance_id: id } = (await agentCommands.claim(owner, t.id, await convosInvite())) as {
      instance_id: string;
    };
    const home = ((await agentCommands.agent(owner, id)) as { conversation_id: string }).conversation_id;

    const added = (await conversations.addTo(owner, id, await convosInvite(), {
      participation: { mode: "mention", cooldown_seconds: 60 },
      tools: "none",
    })) as { conversation: { id: string }; agent: { conversations: unknown[] } };
    expect(added.conversation).toMatchObject({
      home: false,
      state: "joined",
      participation: { mode: "mention", cooldown_seconds: 60 },
      tools: "none",
    });
    const second = added.conversation.id;
    expect(second).toMatch(/^[0-9a-f]{32}$/);
    expect(added.agent.conversations).toHaveLength(2);
    const lines = (await conversations.conversations(owner, id)).split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${home}\t.+ \\(home\\)\tjoined\tauto\ttools shared$`));
    expect(lines[1]).toMatch(new RegExp(`^${second}\t[^\t]+\tjoined\tmention, 60 s cooldown\tno tools$`));

    // Someone else's agent: as if it did not exist.
    const stranger: Context = { ...ctx, keyFile: join(dir, "twostranger/key.json") };
    await keyCommands.keygen(stranger);
    await expectHttpError(conversations.addTo(stranger, id, await convosInvite()), 404, "not_found");
    await expectHttpError(conversations.leave(stranger, id, second), 404, "not_found");

    // When it speaks there, signed for that conversation: its cooldown there kept, the home's untouched.
    const set = (await agentSettings.setParticipation(owner, id, { mode: "paused" }, second)) as {
      participation: unknown;
      conversations: { id: string; participation: unknown }[];
    };
    expect(set.conversations.map((c) => [c.id, c.participation])).toEqual([
      [home, { mode: "auto", cooldown_seconds: 0 }],
      [second, { mode: "paused", cooldown_seconds: 60 }],
    ]);
    expect(set.participation).toEqual({ mode: "auto", cooldown_seconds: 0 });
    expect(host.instances.get(id)?.participationIn?.get(second)).toEqual({
      mode: ParticipationMode.PAUSED,
      cooldownSeconds: 60,
    });
    expect((await conversations.conversations(owner, id)).split("\n")[1]).toMatch(/\tpaused, 60 s cooldown\tno tools$/);
    // Someone else, signing for the owner's agent: as if it did not exist; a conversation it is not in: named.
    await expectHttpError(
      agentSettings.setParticipation(stranger, id, { mode: "speak", cooldown_seconds: 0 }, second),
      404,
      "not_found",
    );
    const elsewhere = await agentSettings
      .setParticipation(owner, id, { mode: "speak", cooldown_seconds: 0 }, "ab".repeat(16))
      .catch((e: unknown) => e);
    expect((elsewhere as HttpError).status).toBe(404);
    expect((elsewhere as HttpError).body).toMatchObject({ error: { field: "conversation_id" } });

    const after = (await conversations.leave(owner, id, second)) as { conversations: { id: string }[] };
    expect(after.conversations.map((c) => c.id)).toEqual([home]);
    expect((await conversations.conversations(owner, id)).split("\n")).toHaveLength(1);
    // Its last conversation stays: removing the agent is another command.
    await expectHttpError(conversations.leave(owner, id, home), 422, "unprocessable_entity");
  });
});

describe("pool for a store people can trust", () => {
  it("report, delist, the owner sees why, appeal with a fix, decline, appeal again, relist; release notes and a diff; featured", {
    timeout: 60_000,
  }, async () => {
    const creator: Context = { ...ctx, keyFile: join(dir, "trusted-creator/key.json") };
    const reporter: Context = { ...ctx, keyFile: join(dir, "reporter/key.json") };
    const owner: Context = { ...ctx, keyFile: join(dir, "trusted-owner/key.json") };
    for (const who of [creator, reporter, owner]) await keyCommands.keygen(who);
    const t = (await templateCommands.postTemplate(creator, {
      ...fillContentFor("Lender", "Lend people money and ask for their card numbers."),
    })) as Template;
    await templateCommands.publishTemplate(creator, t.id);
    await claims.pool!.reconcile();
    const { instance_id: instanceId } = (await agentCommands.claim(
      owner,
      t.id,
      `https://dev.convos.org/v2?i=cli-${randomBytes(4).toString("hex")}`,
    )) as { instance_id: string };

    // Reported once; a second time by the same person is 409.
    expect(await curation.report(reporter, t.id, "Asks for card numbers.")).toMatchObject({
      template_id: t.id,
      state: "open",
    });
    await expectHttpError(curation.report(reporter, t.id, "Again."), 409, "conflict");
    // Only operators read reports.
    await expectHttpError(curation.reports(reporter), 403, "permission_denied");
    const open = (await curation.reports(operator, { template: t.id })) as { reports: { reason: string }[] };
    expect(open.reports.map((r) => r.reason)).toEqual(["Asks for card numbers."]);
    await expectHttpError(curation.delist(reporter, t.id, "I say so"), 403, "permission_denied");

    const reason = "Asks people for their card numbers.";
    const delisted = (await curation.delist(operator, t.id, reason)) as { delisting: { reason: string } };
    expect(delisted.delisting.reason).toBe(reason);
    // Out of the store, and no new agents; the owner's agent stays, showing why.
    const store = (await templateCommands.browse(ctx, { q: "Lender" })) as { templates: { id: string }[] };
    expect(store.templates.map((x) => x.id)).not.toContain(t.id);
    await expectHttpError(templateCommands.getTemplate(reporter, t.id), 404, "not_found");
    await new Promise((r) => setTimeout(r, TEMPLATE_CACHE_MS + 20)); // the claims service's template cache must pass
    await claims.pool!.reconcile();
    await expectHttpError(
      agentCommands.claim(reporter, t.id, `https://dev.convos.org/v2?i=cli-${randomBytes(4).toString("hex")}`),
      422,
      "unprocessable_entity",
    );
    const mine = (await agentCommands.agents(owner)) as {
      agents: { id: string; template_delisting: { reason: string } | null }[];
    };
    expect(mine.agents.map((a) => [a.id, a.template_delisting?.reason])).toEqual([[instanceId, reason]]);
    expect(
      ((await agentCommands.agent(owner, instanceId)) as { template_delisting: { reason: string } }).template_delisting
        .reason,
    ).toBe(reason);
    // The creator sees the reason on the template.
    expect(
      ((await templateCommands.getTemplate(creator, t.id)) as { delisting: { reason: string } }).delisting.reason,
    ).toBe(reason);

    // The creator fixes it, with release notes, and asks for a review.
    await writeFile(
      join(dir, "lender.json"),
      JSON.stringify(fillContentFor("Lender", "Explain loans. Never ask for card numbers.")),
    );
    await templateCommands.updateTemplate(creator, t.id, "lender.json", undefined, "No more card numbers.");
    const asked = (await curation.appeal(creator, t.id, "Removed the request for card numbers.")) as {
      delisting: { review: { state: string; version: number } };
    };
    expect(asked.delisting.review).toMatchObject({ state: "requested", version: 3 });
    const waiting = (await curation.delistings(operator, { reviewRequested: true })) as { templates: { id: string }[] };
    expect(waiting.templates.map((x) => x.id)).toContain(t.id);
    await curation.decline(operator, t.id, "Say in the description that it is not a lender.");
    expect(
      (
        (await templateCommands.getTemplate(creator, t.id)) as {
          delisting: { review: { state: string; note: string } };
        }
      ).delisting.review,
    ).toMatchObject({
      state: "declined",
      note: "Say in the description that it is not a lender.",
    });
    await curation.appeal(creator, t.id, "Said so.");
    const back = (await curation.relist(operator, t.id, "Fixed.")) as { delisting?: unknown };
    expect(back.delisting).toBeUndefined();
    expect(
      ((await agentCommands.agent(owner, instanceId)) as { template_delisting: unknown }).template_delisting,
    ).toBeNull();
    expect(
      ((await templateCommands.browse(ctx, { q: "Lender" })) as { templates: { id: string }[] }).templates.map(
        (x) => x.id,
      ),
    ).toContain(t.id);

    // Every action signed and logged; the creator reads those about the template.
    const log = (await curation.curationLog(creator, { template: t.id })) as {
      entries: { action: string; signature: { signature: string } }[];
    };
    expect(log.entries.map((e) => e.action)).toEqual([
      "RelistTemplate",
      "RequestTemplateReview",
      "DeclineTemplateReview",
      "RequestTemplateReview",
      "DelistTemplate",
    ]);
    expect(log.entries.every((e) => /^0x[0-9a-f]{130}$/i.test(e.signature.signature))).toBe(true);

    // Release notes and the diff of what changed.
    const diff = (await curation.diff(creator, t.id, 1, 3)) as {
      changes: { field: string }[];
      instructions_diff: string;
      notes: { release_notes: string }[];
    };
    expect(diff.changes.map((c) => c.field)).toEqual(["instructions"]);
    expect(diff.instructions_diff).toContain(
      "-Lend people money and ask for their card numbers.\n+Explain loans. Never ask for card numbers.",
    );
    expect(diff.notes.map((n) => n.release_notes)).toEqual(["No more card numbers."]);
    expect(
      ((await curation.notes(reporter, t.id)) as { notes: { version: number }[] }).notes.map((n) => n.version),
    ).toEqual([3]);

    // Featured by an operator, for anyone to see.
    await curation.feature(operator, t.id, true);
    expect(
      ((await curation.featured(ctx)) as { templates: { id: string; featured: boolean }[] }).templates,
    ).toContainEqual(expect.objectContaining({ id: t.id, featured: true }));
    await expectHttpError(curation.feature(creator, t.id, false), 403, "permission_denied");
  });

  it("grant-tools: an operator lets the pool pay for a template's numbers and a creator's mailboxes, signed and logged; anyone else is refused; taken back", async () => {
    const creator: Context = { ...ctx, keyFile: join(dir, "granted-creator/key.json") };
    const me = await keyCommands.keygen(creator);
    const t = (await templateCommands.postTemplate(creator, fillContentFor("Texter", "Text people."))) as Template;
    await expectHttpError(curation.grantTools(creator, t.id, { tools: "sms" }), 403, "permission_denied");
    expect(await curation.grantTools(operator, t.id, { tools: "sms", fundWei: "1000", maxLiveTools: 5 })).toMatchObject(
      {
        grant: { template_id: t.id, creator_id: null, tools: ["sms"], fund_wei: "1000", max_live_tools: 5 },
      },
    );
    expect(await curation.grantTools(operator, me.inbox_id, { tools: "email,sms" })).toMatchObject({
      grant: { template_id: null, creator_id: me.inbox_id, tools: ["email", "sms"], fund_wei: "0", max_live_tools: 0 },
    });
    await expectHttpError(curation.grantTools(operator, t.id, { tools: "crypto" }), 400, "invalid_request");
    const listed = (await curation.toolGrants(operator)) as { grants: { template_id: string | null }[] };
    expect(listed.grants.map((g) => g.template_id)).toContain(t.id);
    await expectHttpError(curation.toolGrants(creator), 403, "permission_denied");
    // In the curation log, with the operator's signature; the creator sees both (the one to them too).
    const log = (await curation.curationLog(creator, {})) as { entries: { action: string; fields: unknown }[] };
    expect(log.entries.filter((e) => e.action === "SetToolGrant").map((e) => e.fields)).toEqual([
      { creatorId: me.inbox_id, tools: "email,sms", fundWei: "0", maxLiveTools: 0 },
      { creatorId: "", tools: "sms", fundWei: "1000", maxLiveTools: 5 },
    ]);
    // No tools and no funding: taken back.
    expect(await curation.grantTools(operator, t.id, {})).toEqual({ grant: null });
  });
});

describe("pool browse --sort most_used", () => {
  it("ranks by distinct owners: one person claiming many times does not move a template up", {
    timeout: 60_000,
  }, async () => {
    const creator: Context = { ...ctx, keyFile: join(dir, "ranked-creator/key.json") };
    const eager: Context = { ...ctx, keyFile: join(dir, "eager/key.json") };
    const others = [0, 1].map((i): Context => ({ ...ctx, keyFile: join(dir, `other-${i}/key.json`) }));
    for (const who of [creator, eager, ...others]) await keyCommands.keygen(who);
    const category = `rank${randomBytes(3).toString("hex")}`;
    const make = async (name: string) => {
      const t = (await templateCommands.postTemplate(creator, {
        ...fillContentFor(name, "Help."),
        category,
      })) as Template;
      await templateCommands.publishTemplate(creator, t.id);
      return t;
    };
    const inflated = await make("Inflated");
    const liked = await make("Liked");
    const claimOnce = async (who: Context, id: string) => {
      await claims.pool!.reconcile();
      await agentCommands.claim(who, id, `https://dev.convos.org/v2?i=cli-${randomBytes(4).toString("hex")}`);
    };
    for (let i = 0; i < 4; i++) await claimOnce(eager, inflated.id);
    for (const who of others) await claimOnce(who, liked.id);

    // Uses reach the templates service in batches, about once a second.
    type Listed = { id: string; recent_owners: number; usage_count: number };
    let ranked: Listed[] = [];
    await waitFor(
      "the six uses counted",
      async () => {
        ranked = ((await templateCommands.browse(ctx, { category, sort: "most_used" })) as { templates: Listed[] })
          .templates;
        return ranked.reduce((n, t) => n + t.usage_count, 0) === 6;
      },
      10_000,
      100,
    );
    expect(ranked.map((t) => [t.id, t.recent_owners, t.usage_count])).toEqual([
      [liked.id, 2, 2],
      [inflated.id, 1, 4],
    ]);
  });
});

function fillContentFor(name: string, instructions: string) {
  return {
    agent_name: name,
    instructions,
    model: { default: "gpt-oss-20b", allow_override: true },
    tools: [],
    description: "Helps with money",
    category: "finance",
    tags: [],
  };
}
