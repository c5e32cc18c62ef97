// End to end through the gateway: real PostgreSQL, the real templates
// service in-process, the real gateway; REST, Connect-Web (what a browser
// does), and a plain @grpc/grpc-js client.

import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService, TemplateUsageService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { generateServiceCredentials, NO_LIMITS, createLogger } from "@convos-pool/kit/server";
import {
  CALLER_HEADER,
  SERVICE_TOKEN_HEADER,
  contentFromJson,
  applyPatch,
  jsonHash,
  type ConnectionJson,
  type SoulJson,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import {
  signOperation,
  type OperationFields,
  type SignedOperation,
  signInJson,
  signSignIn,
} from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, type TestIdentity } from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { startGateway, type RunningGateway } from "./server.js";
import { restCall, restSignature, type RestAnswer, type RestCall } from "../test/rest.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });

// Everything the gateway logs, to check that no token or signature leaks.
const gatewayLog: string[] = [];
const secretsSeen: string[] = [];

let templatesDb: string;
let templates: RunningTemplateService;
let gateway: RunningGateway;

type Creator = TestIdentity;
const newCreator = newIdentity;

async function sign(c: Creator, op: SignedOperation, fields: OperationFields, issuedAt?: number) {
  const s = await signOperation(c.account, op, { inboxId: c.inboxId, ...fields }, issuedAt);
  secretsSeen.push(s.signature);
  return s;
}

/** A signature in the REST body form. */
async function restSig(c: Creator, op: SignedOperation, fields: OperationFields, issuedAt?: number) {
  return restSignature(await sign(c, op, fields, issuedAt));
}

/** `c` signing in to this test's gateway: the REST body of POST /api/pool/sessions. */
async function signInBody(c: Creator, issuedAt?: number, signer: Pick<Creator, "account"> = c) {
  return signInJson(await signSignIn(signer.account, c.inboxId, gateway.url, issuedAt));
}

// A unique word per run keeps store searches independent of other tests' data.
const WORD = `zq${randomBytes(4).toString("hex")}`;

function content(over: Partial<TemplateContentJson> = {}): TemplateContentJson {
  return sampleContent({ agent_name: `Trip Planner ${WORD}`, category: `cat-${WORD}`, ...over });
}

const rest = (method: string, path: string, opts: RestCall = {}) => restCall(gateway.url, method, path, opts);

async function restCreate(c: Creator, over: Partial<TemplateContentJson> = {}) {
  const body = content(over);
  const res = await rest("POST", "/api/pool/templates", {
    body: {
      creator_id: c.inboxId,
      ...body,
      signature: await restSig(c, "CreateTemplate", { contentHash: jsonHash(body) }),
    },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json as { id: string; version: number } & Record<string, unknown>;
}

async function session(c: Creator): Promise<string> {
  const res = await rest("POST", "/api/pool/sessions", {
    body: await signInBody(c),
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  secretsSeen.push(res.json.token);
  return res.json.token as string;
}

async function publish(c: Creator, id: string, version: number) {
  const res = await rest("PATCH", `/api/pool/templates/${id}/visibility`, {
    ifMatch: `"${version}"`,
    body: {
      visibility: "public",
      signature: await restSig(c, "SetTemplateVisibility", {
        templateId: id,
        version: BigInt(version),
        visibility: "public",
      }),
    },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json;
}

beforeAll(async () => {
  templatesDb = await createTestDatabase("gw_templates");
  templates = await startTemplateService({
    databaseUrl: templatesDb,
    credentials: CREDS.templates,
    limits: NO_LIMITS,
    log: quiet("templates"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("gw_gateway"),
    log: createLogger("gateway", { level: "debug", sink: (line) => gatewayLog.push(line) }),
  });
});

afterAll(async () => {
  await gateway?.close();
  await templates?.close();
});

describe("REST", () => {
  it("create, get, publish, browse, stale update, rollback, versions, patch, archive, delete", async () => {
    const alice = newCreator();
    const v1 = content();
    const created = await rest("POST", "/api/pool/templates", {
      body: {
        creator_id: alice.inboxId,
        ...v1,
        signature: await restSig(alice, "CreateTemplate", { contentHash: jsonHash(v1) }),
      },
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(id).toMatch(/^tmpl_/);
    expect(created.headers.get("etag")).toBe('"1"');
    expect(created.headers.get("location")).toBe(`/api/pool/templates/${id}`);
    expect(created.json).toMatchObject({
      ...v1,
      creator_id: alice.inboxId,
      visibility: "private",
      status: "active",
      version: 1,
      usage_count: 0,
    });
    expect(Date.parse(created.json.created_at)).not.toBeNaN();

    // Private: only the creator's session sees it.
    expect((await rest("GET", `/api/pool/templates/${id}`)).status).toBe(404);
    const token = await session(alice);
    const own = await rest("GET", `/api/pool/templates/${id}`, { token });
    expect(own.status).toBe(200);
    expect(own.json.instructions).toBe(v1.instructions);
    expect(own.headers.get("etag")).toBe('"1"');

    // Full update (PUT), omitted optional fields at their defaults.
    const v2: TemplateContentJson = {
      ...content({ instructions: "Version two." }),
      tools: [],
      tags: [],
      description: "",
    };
    const put = await rest("PUT", `/api/pool/templates/${id}`, {
      ifMatch: 1,
      body: {
        agent_name: v2.agent_name,
        instructions: v2.instructions,
        model: { default: "gpt-oss-20b" },
        category: v2.category,
        signature: await restSig(alice, "UpdateTemplate", { templateId: id, version: 1n, contentHash: jsonHash(v2) }),
      },
    });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    expect(put.json).toMatchObject({ version: 2, instructions: "Version two.", tools: [], tags: [] });
    expect(put.headers.get("etag")).toBe('"2"');

    const published = await publish(alice, id, 2);
    expect(published).toMatchObject({ visibility: "public", version: 3, content_version: 2 });

    // The store: anyone, by text and category; listings leave instructions out.
    const store = await rest("GET", `/api/pool/templates?visibility=public&q=${WORD}&category=cat-${WORD}`);
    expect(store.status).toBe(200);
    expect(store.json.templates.map((t: { id: string }) => t.id)).toEqual([id]);
    expect(store.json.templates[0].instructions).toBe("");
    expect(store.json.next_cursor).toBeNull();
    const otherCategory = await rest("GET", `/api/pool/templates?visibility=public&q=${WORD}&category=food`);
    expect(otherCategory.json.templates).toEqual([]);
    expect((await rest("GET", `/api/pool/templates/${id}`)).status).toBe(200);

    // A stale If-Match changes nothing.
    const stale = await rest("PUT", `/api/pool/templates/${id}`, {
      ifMatch: '"2"',
      body: {
        ...v1,
        signature: await restSig(alice, "UpdateTemplate", { templateId: id, version: 2n, contentHash: jsonHash(v1) }),
      },
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error).toMatchObject({ type: "conflict", code: "aborted" });
    const after = await rest("GET", `/api/pool/templates/${id}`);
    expect(after.json).toMatchObject({ version: 3, instructions: "Version two." });

    const rolledBack = await rest("POST", `/api/pool/templates/${id}/rollback`, {
      ifMatch: 3,
      body: {
        target_version: 1,
        // Signed over the content it restores.
        signature: await restSig(alice, "RollbackTemplate", {
          templateId: id,
          version: 3n,
          targetVersion: 1n,
          contentHash: jsonHash(v1),
        }),
      },
    });
    expect(rolledBack.status, JSON.stringify(rolledBack.json)).toBe(200);
    expect(rolledBack.json).toMatchObject({ ...v1, version: 4, content_version: 4, visibility: "public" });

    // History: the creator's session only.
    expect((await rest("GET", `/api/pool/templates/${id}/versions`)).status).toBe(404);
    const versions = await rest("GET", `/api/pool/templates/${id}/versions`, { token });
    expect(versions.status).toBe(200);
    expect(versions.json.versions.map((v: { version: number }) => v.version)).toEqual([4, 3, 2, 1]);
    expect(versions.json.versions.map((v: { change_summary: string }) => v.change_summary)).toEqual([
      "rollback to v1",
      "publish",
      "update",
      "create",
    ]);
    expect(versions.json.versions[3]).toMatchObject({
      template_id: id,
      changed_by: alice.inboxId,
      snapshot: { ...v1, version: 1, visibility: "private" },
    });
    const page = await rest("GET", `/api/pool/templates/${id}/versions?limit=3`, { token });
    expect(page.json.versions).toHaveLength(3);
    const rest2 = await rest("GET", `/api/pool/templates/${id}/versions?limit=3&cursor=${page.json.next_cursor}`, {
      token,
    });
    expect(rest2.json.versions.map((v: { version: number }) => v.version)).toEqual([1]);

    // PATCH: only the named fields; `tags: []` empties the list. Signed over
    // the patch and the content it makes of version 4's.
    const patch = { description: "Now with more trains", tags: [] };
    const v5 = applyPatch(v1, patch);
    const patchSig = (result: TemplateContentJson) =>
      restSig(alice, "PatchTemplate", {
        templateId: id,
        version: 4n,
        patchHash: jsonHash(patch),
        contentHash: jsonHash(result),
      });
    const overOther = await rest("PATCH", `/api/pool/templates/${id}`, {
      ifMatch: 4,
      body: { ...patch, signature: await patchSig(applyPatch(v2, patch)) },
    });
    expect(overOther.status).toBe(403);
    const patched = await rest("PATCH", `/api/pool/templates/${id}`, {
      ifMatch: 4,
      body: { ...patch, signature: await patchSig(v5) },
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    expect(patched.json).toMatchObject({
      version: 5,
      description: "Now with more trains",
      tags: [],
      agent_name: v1.agent_name,
    });

    // The creator's listing: everything for the creator, public ones for others.
    const mine = await rest("GET", `/api/pool/templates?creator=${alice.inboxId}`, { token });
    expect(mine.json.templates.map((t: { id: string }) => t.id)).toEqual([id]);

    const archived = await rest("DELETE", `/api/pool/templates/${id}`, {
      ifMatch: 5,
      body: { signature: await restSig(alice, "ArchiveTemplate", { templateId: id, version: 5n }) },
    });
    expect(archived.status).toBe(200);
    expect(archived.json).toMatchObject({ status: "archived", version: 6 });
    expect((await rest("GET", `/api/pool/templates/${id}`)).status).toBe(404);
    const publicList = await rest("GET", `/api/pool/templates?creator=${alice.inboxId}`);
    expect(publicList.json.templates).toEqual([]);
    const withArchived = await rest("GET", `/api/pool/templates?creator=${alice.inboxId}&include_archived=true`, {
      token,
    });
    expect(withArchived.json.templates.map((t: { id: string }) => t.id)).toEqual([id]);

    // An archived template refuses changes: 422.
    const onArchived = await rest("PATCH", `/api/pool/templates/${id}`, {
      ifMatch: 6,
      body: {
        description: "x",
        signature: await restSig(alice, "PatchTemplate", {
          templateId: id,
          version: 6n,
          patchHash: jsonHash({ description: "x" }),
          contentHash: jsonHash(applyPatch(v5, { description: "x" })),
        }),
      },
    });
    expect(onArchived.status).toBe(422);
    expect(onArchived.json.error.type).toBe("unprocessable_entity");

    const deleted = await rest("DELETE", `/api/pool/templates/${id}?permanent=true`, {
      ifMatch: 6,
      body: { signature: await restSig(alice, "DeleteTemplate", { templateId: id, version: 6n }) },
    });
    expect(deleted.status).toBe(204);
    expect((await rest("GET", `/api/pool/templates/${id}`, { token })).status).toBe(404);
  });

  it('carries the creator\'s default clone directive: set at create, read back, removed by a PATCH to "", refused over 4,000 characters', async () => {
    const carol = newCreator();
    const token = await session(carol);
    const created = await restCreate(carol, { clone_directive: "Bring the lessons, not the people" });
    expect(created.clone_directive).toBe("Bring the lessons, not the people");
    const got = await rest("GET", `/api/pool/templates/${created.id}`, { token });
    expect(got.json.clone_directive).toBe("Bring the lessons, not the people");
    const base = content({ clone_directive: "Bring the lessons, not the people" });
    const patch = { clone_directive: "" };
    const signature = await restSig(carol, "PatchTemplate", {
      templateId: created.id,
      version: 1n,
      patchHash: jsonHash(patch),
      contentHash: jsonHash(applyPatch(base, patch)),
    });
    const cleared = await rest("PATCH", `/api/pool/templates/${created.id}`, {
      ifMatch: 1,
      body: { ...patch, signature },
    });
    expect(cleared.status, JSON.stringify(cleared.json)).toBe(200);
    expect(cleared.json.clone_directive).toBeUndefined();
    const long = content({ clone_directive: "x".repeat(4001) });
    const refused = await rest("POST", "/api/pool/templates", {
      body: {
        creator_id: carol.inboxId,
        ...long,
        signature: await restSig(carol, "CreateTemplate", { contentHash: jsonHash(long) }),
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error.field).toBe("clone_directive");
  });

  it('carries the highest trust level: set at create, read back, left out when "" or unset, refused when no level and in a PATCH', async () => {
    const dana = newCreator();
    const token = await session(dana);
    const created = await restCreate(dana, { max_trust_level: "L3" });
    expect(created.max_trust_level).toBe("L3");
    const got = await rest("GET", `/api/pool/templates/${created.id}`, { token });
    expect(got.json.max_trust_level).toBe("L3");

    // "" is none, as the signed content has it: the hash of content without the field.
    const none = content();
    const replaced = await rest("PUT", `/api/pool/templates/${created.id}`, {
      ifMatch: 1,
      body: {
        ...none,
        max_trust_level: "",
        signature: await restSig(dana, "UpdateTemplate", {
          templateId: created.id,
          version: 1n,
          contentHash: jsonHash(none),
        }),
      },
    });
    expect(replaced.status, JSON.stringify(replaced.json)).toBe(200);
    expect(replaced.json.max_trust_level).toBeUndefined();

    const wrong = { ...content(), max_trust_level: "L5" };
    const refused = await rest("POST", "/api/pool/templates", {
      body: {
        creator_id: dana.inboxId,
        ...wrong,
        signature: await restSig(dana, "CreateTemplate", { contentHash: jsonHash(wrong as never) }),
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({
      field: "max_trust_level",
      message: 'max_trust_level: must be one of "L1", "L2", "L3", "L4"',
    });

    const patch = { max_trust_level: "L4" as const };
    const patched = await rest("PATCH", `/api/pool/templates/${created.id}`, {
      ifMatch: 2,
      body: {
        ...patch,
        signature: await restSig(dana, "PatchTemplate", {
          templateId: created.id,
          version: 2n,
          patchHash: jsonHash(patch),
          contentHash: jsonHash(applyPatch(none, patch)),
        }),
      },
    });
    // A patch sets it, signed over the content it makes; a patch with "" removes it.
    expect(patched.status).toBe(200);
    expect(patched.json.max_trust_level).toBe("L4");
    const unset = { max_trust_level: "" as const };
    const cleared = await rest("PATCH", `/api/pool/templates/${created.id}`, {
      ifMatch: 3,
      body: {
        ...unset,
        signature: await restSig(dana, "PatchTemplate", {
          templateId: created.id,
          version: 3n,
          patchHash: jsonHash(unset),
          contentHash: jsonHash(applyPatch(applyPatch(none, patch), unset)),
        }),
      },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.json.max_trust_level).toBeUndefined();
    const bad = await rest("PATCH", `/api/pool/templates/${created.id}`, {
      ifMatch: 4,
      body: { max_trust_level: "L9", signature: patched.json.signature ?? {} },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe("max_trust_level");
    expect((await rest("GET", `/api/pool/templates/${created.id}`, { token })).json.version).toBe(4);
  });

  it("carries a SOUL in snake_case with lower-case enum names; a misshapen one is 400 naming the field, one out of limits too; a PATCH replaces or removes it", async () => {
    const erin = newCreator();
    const token = await session(erin);
    const soul: SoulJson = {
      identity: { name: "Marlow", role: "Ship's navigator" },
      behavior: { response_style: "minimal", progressive_disclosure: true },
      constraints: { escalation_rules: [{ condition: "someone is in danger", action: "escalate_to_human" }] },
    };
    const created = await restCreate(erin, { soul });
    expect(created.soul).toEqual(soul);
    expect((await rest("GET", `/api/pool/templates/${created.id}`, { token })).json.soul).toEqual(soul);

    const refusedWith = async (body: TemplateContentJson) =>
      (
        await rest("POST", "/api/pool/templates", {
          body: {
            creator_id: erin.inboxId,
            ...body,
            signature: await restSig(erin, "CreateTemplate", { contentHash: jsonHash(body) }),
          },
        })
      ).json.error;
    expect(await refusedWith(content({ soul: { identity: { mood: "x" } } as never }))).toMatchObject({
      field: "soul.identity.mood",
    });
    expect(await refusedWith(content({ soul: { behavior: { response_style: "chatty" } } as never }))).toMatchObject({
      field: "soul.behavior.response_style",
    });
    expect(await refusedWith(content({ soul: { philosophy: { principles: ["a", "b", "c\nd"] } } }))).toMatchObject({
      field: "soul.philosophy.principles[2]",
    });

    const base = content({ soul });
    const patchAt = async (version: number, patch: { soul: object }, before: TemplateContentJson) =>
      rest("PATCH", `/api/pool/templates/${created.id}`, {
        ifMatch: version,
        body: {
          ...patch,
          signature: await restSig(erin, "PatchTemplate", {
            templateId: created.id,
            version: BigInt(version),
            patchHash: jsonHash(patch),
            contentHash: jsonHash(applyPatch(before, patch)),
          }),
        },
      });
    const replaced = await patchAt(1, { soul: { identity: { role: "Harbour pilot" } } }, base);
    expect(replaced.status, JSON.stringify(replaced.json)).toBe(200);
    expect(replaced.json.soul).toEqual({ identity: { role: "Harbour pilot" } });
    const removed = await patchAt(2, { soul: {} }, applyPatch(base, { soul: { identity: { role: "Harbour pilot" } } }));
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    expect(removed.json).not.toHaveProperty("soul");
  });

  it("carries the phone connections a template's agents use; a bad one is 400 naming the field; a PATCH replaces them and [] removes them", async () => {
    const fay = newCreator();
    const token = await session(fay);
    const connections: ConnectionJson[] = [
      { kind: "calendar", capabilities: ["read", "write_create"], reason: "to plan around your week" },
    ];
    const created = await restCreate(fay, { connections });
    expect(created.connections).toEqual(connections);
    expect((await rest("GET", `/api/pool/templates/${created.id}`, { token })).json.connections).toEqual(connections);
    // None, none shown: content without them hashes as before the field existed.
    expect(await restCreate(fay)).not.toHaveProperty("connections");

    const refusedWith = async (over: Partial<TemplateContentJson>) => {
      const body = content(over);
      const res = await rest("POST", "/api/pool/templates", {
        body: {
          creator_id: fay.inboxId,
          ...body,
          signature: await restSig(fay, "CreateTemplate", { contentHash: jsonHash(body) }),
        },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      return res.json.error;
    };
    const health = { kind: "health", capabilities: ["read"], reason: "to pace the hikes" };
    expect(await refusedWith({ connections: [health, { ...health, kind: "fitness" }] })).toMatchObject({
      code: "invalid_argument",
      field: "connections[1].kind",
      message: expect.stringMatching(/^connections\[1\]\.kind: must be one of "health", "calendar"/),
    });
    expect(await refusedWith({ connections: [{ ...health, capabilities: ["read", "write"] }] })).toMatchObject({
      field: "connections[0].capabilities[1]",
    });
    expect(await refusedWith({ connections: [{ ...health, reason: "" }] })).toMatchObject({
      field: "connections[0].reason",
    });
    expect(await refusedWith({ connections: [{ ...health, why: "x" } as never] })).toMatchObject({
      field: "connections[0].why",
    });

    const base = content({ connections });
    const patchAt = async (version: number, patch: { connections: ConnectionJson[] }, before: TemplateContentJson) =>
      rest("PATCH", `/api/pool/templates/${created.id}`, {
        ifMatch: version,
        body: {
          ...patch,
          signature: await restSig(fay, "PatchTemplate", {
            templateId: created.id,
            version: BigInt(version),
            patchHash: jsonHash(patch),
            contentHash: jsonHash(applyPatch(before, patch)),
          }),
        },
      });
    const replaced = await patchAt(1, { connections: [health] }, base);
    expect(replaced.status, JSON.stringify(replaced.json)).toBe(200);
    expect(replaced.json.connections).toEqual([health]);
    const removed = await patchAt(2, { connections: [] }, applyPatch(base, { connections: [health] }));
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    expect(removed.json).not.toHaveProperty("connections");
  });

  it("builds on a base: content without a model takes the base's, ?resolve=true shows what agents run on; a PATCH cannot change the base", async () => {
    const acme = newCreator();
    const saul = newCreator();
    const base = await restCreate(acme, {
      instructions: "Never share internal data.",
      model: { default: "gpt-oss-120b", allow_override: false },
    });
    await publish(acme, base.id, base.version);
    const { model: _fromBase, ...own } = content({ instructions: "You are Saul's.", tools: [] });
    const body = { ...own, base: { template_id: base.id, creator_id: acme.inboxId } };
    const created = await rest("POST", "/api/pool/templates", {
      body: {
        creator_id: saul.inboxId,
        ...body,
        signature: await restSig(saul, "CreateTemplate", { contentHash: jsonHash(body) }),
      },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const derived = created.json;
    expect(derived.base).toEqual({ template_id: base.id, creator_id: acme.inboxId });
    expect(derived.model).toBeUndefined();

    const token = await session(saul);
    const got = await rest("GET", `/api/pool/templates/${derived.id}?resolve=true`, { token });
    expect(got.status, JSON.stringify(got.json)).toBe(200);
    expect(got.json.resolved).toMatchObject({
      instructions: "Never share internal data.\n\nYou are Saul's.",
      model: { default: "gpt-oss-120b", allow_override: false },
      layers: [
        { template_id: derived.id, version: 1, pinned: false },
        { template_id: base.id, creator_id: acme.inboxId, version: 1, pinned: false },
      ],
    });
    expect(got.json.resolved.base).toBeUndefined();
    expect(got.json.resolved.identity_md).toContain("Never share internal data.\n\nYou are Saul's.");
    expect((await rest("GET", `/api/pool/templates/${derived.id}`, { token })).json.resolved).toBeUndefined();
    expect((await rest("GET", `/api/pool/templates/${derived.id}?resolve=maybe`, { token })).status).toBe(400);

    const patch = await rest("PATCH", `/api/pool/templates/${derived.id}`, {
      ifMatch: 1,
      body: { base: { template_id: base.id, creator_id: acme.inboxId, version: 1 }, signature: {} },
    });
    expect(patch.status).toBe(400);
    expect(patch.json.error.field).toBe("base");
    // A base by someone else than its creator: the field is named.
    const wrong = { ...own, base: { template_id: base.id, creator_id: saul.inboxId } };
    const refused = await rest("POST", "/api/pool/templates", {
      body: {
        creator_id: saul.inboxId,
        ...wrong,
        signature: await restSig(saul, "CreateTemplate", { contentHash: jsonHash(wrong) }),
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error.field).toBe("base.creator_id");
  });

  it("hides another creator's private template, with and without a session", async () => {
    const alice = newCreator();
    const bob = newCreator();
    const bobs = await restCreate(bob);
    const aliceToken = await session(alice);
    for (const token of [undefined, aliceToken]) {
      const res = await rest("GET", `/api/pool/templates/${bobs.id}`, { token });
      expect(res.status).toBe(404);
      expect(res.json.error).toMatchObject({ type: "not_found", code: "not_found" });
      expect((await rest("GET", `/api/pool/templates/${bobs.id}/versions`, { token })).status).toBe(404);
      const list = await rest("GET", `/api/pool/templates?creator=${bob.inboxId}`, { token });
      expect(list.json.templates).toEqual([]);
    }
    const bobToken = await session(bob);
    expect((await rest("GET", `/api/pool/templates/${bobs.id}`, { token: bobToken })).status).toBe(200);
    const own = await rest("GET", `/api/pool/templates?creator=${bob.inboxId}`, { token: bobToken });
    expect(own.json.templates.map((t: { id: string }) => t.id)).toEqual([bobs.id]);
  });

  it("does not trust a caller-supplied x-pool-caller header", async () => {
    const bob = newCreator();
    const bobs = await restCreate(bob);
    const spoof = { [CALLER_HEADER]: bob.inboxId, [SERVICE_TOKEN_HEADER]: CREDS.gateway.token };
    expect((await rest("GET", `/api/pool/templates/${bobs.id}`, { headers: spoof })).status).toBe(404);
    const list = await rest("GET", `/api/pool/templates?creator=${bob.inboxId}`, { headers: spoof });
    expect(list.json.templates).toEqual([]);
    // Not even next to someone else's valid session.
    const mallory = await session(newCreator());
    expect((await rest("GET", `/api/pool/templates/${bobs.id}`, { token: mallory, headers: spoof })).status).toBe(404);
  });

  it("refuses a forged signature (403) and writes nothing", async () => {
    const alice = newCreator();
    const mallory = newCreator();
    const body = content();
    // Mallory signs, claiming to be Alice.
    const s = await signOperation(mallory.account, "CreateTemplate", {
      inboxId: alice.inboxId,
      contentHash: jsonHash(body),
    });
    const res = await rest("POST", "/api/pool/templates", {
      body: {
        creator_id: alice.inboxId,
        ...body,
        signature: restSignature(s),
      },
    });
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ type: "permission_denied", code: "permission_denied" });
    const list = await rest("GET", `/api/pool/templates?creator=${alice.inboxId}&include_archived=true`, {
      token: await session(alice),
    });
    expect(list.json.templates).toEqual([]);
  });

  it("refuses a replayed request (401) and an expired issued_at (401)", async () => {
    const alice = newCreator();
    const body = content();
    const request = {
      body: {
        creator_id: alice.inboxId,
        ...body,
        signature: await restSig(alice, "CreateTemplate", { contentHash: jsonHash(body) }),
      },
    };
    expect((await rest("POST", "/api/pool/templates", request)).status).toBe(201);
    const replay = await rest("POST", "/api/pool/templates", request);
    expect(replay.status).toBe(401);
    expect(replay.json.error).toMatchObject({ type: "unauthenticated", code: "unauthenticated" });
    expect(replay.json.error.message).toMatch(/nonce/);

    const old = Math.floor(Date.now() / 1000) - 3600;
    const expired = await rest("POST", "/api/pool/templates", {
      body: {
        creator_id: alice.inboxId,
        ...body,
        signature: await restSig(alice, "CreateTemplate", { contentHash: jsonHash(body) }, old),
      },
    });
    expect(expired.status).toBe(401);
    expect(expired.json.error.message).toMatch(/issued_at/);

    // Sessions too: a replayed login and an expired one.
    const login = { body: await signInBody(alice) };
    expect((await rest("POST", "/api/pool/sessions", login)).status).toBe(200);
    expect((await rest("POST", "/api/pool/sessions", login)).status).toBe(401);
    const oldLogin = await rest("POST", "/api/pool/sessions", { body: await signInBody(alice, old) });
    expect(oldLogin.status).toBe(401);
    // A login signed by someone else.
    const forgedLogin = await rest("POST", "/api/pool/sessions", {
      body: await signInBody(alice, undefined, newCreator()),
    });
    expect(forgedLogin.status).toBe(403);
    expect(forgedLogin.json.error.message).toMatch(/^address: 0x[0-9a-fA-F]{40} is not a wallet of inbox /);
  });

  it("refuses bad session tokens with 401", async () => {
    const alice = newCreator();
    const token = await session(alice);
    const [head, inbox, exp, id, mac] = token.split(".") as [string, string, string, string, string];
    const tampered = [
      `${head}.${newCreator().inboxId}.${exp}.${id}.${mac}`, // someone else's inbox
      `${head}.${inbox}.${Number(exp) + 3600}.${id}.${mac}`, // a longer life
      `${head}.${inbox}.${exp}.${id[0] === "A" ? "B" : "A"}${id.slice(1)}.${mac}`, // another session's id
      `${head}.${inbox}.${exp}.${id}.${mac[0] === "A" ? "B" : "A"}${mac.slice(1)}`, // another MAC (the first character carries 6 full bits)
      `v1.${inbox}.${exp}.${mac}`, // the form of before sessions could end
      "garbage",
    ];
    for (const t of tampered) {
      const res = await rest("GET", `/api/pool/templates?visibility=public`, { token: t });
      expect(res.status).toBe(401);
      expect(res.json.error.type).toBe("unauthenticated");
    }
    const basic = await rest("GET", `/api/pool/templates?visibility=public`, {
      headers: { authorization: "Basic Zm9vOmJhcg==" },
    });
    expect(basic.status).toBe(401);
  });

  it("lists the served models at GET /models, and refuses another model at create and PUT naming model.default, storing nothing", async () => {
    const models = await rest("GET", "/api/pool/models");
    expect(models.status).toBe(200);
    expect(models.json).toEqual({ models: ["gpt-oss-20b", "gpt-oss-120b"] });

    const alice = newCreator();
    const unknown = content({ model: { default: "no-such-model-xyz", allow_override: true } });
    const refused = await rest("POST", "/api/pool/templates", {
      body: {
        creator_id: alice.inboxId,
        ...unknown,
        signature: await restSig(alice, "CreateTemplate", { contentHash: jsonHash(unknown) }),
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: "invalid_argument", field: "model.default" });
    expect(refused.json.error.message).toMatch(/^model\.default: "no-such-model-xyz" is not a model this pool serves/);
    const mine = await rest("GET", `/api/pool/templates?creator=${alice.inboxId}`, {
      token: await session(alice),
    });
    expect(mine.json.templates).toEqual([]);

    // Starters travel with the content and come back as they were signed.
    const created = await restCreate(alice, { avatar: "🧭", conversation_starters: ["Plan a weekend in Kyoto"] });
    expect(created).toMatchObject({ avatar: "🧭", conversation_starters: ["Plan a weekend in Kyoto"] });
    const put = await rest("PUT", `/api/pool/templates/${created.id}`, {
      ifMatch: 1,
      body: {
        ...unknown,
        signature: await restSig(alice, "UpdateTemplate", {
          templateId: created.id,
          version: 1n,
          contentHash: jsonHash(unknown),
        }),
      },
    });
    expect(put.status).toBe(400);
    expect(put.json.error).toMatchObject({ field: "model.default" });
    const after = await rest("GET", `/api/pool/templates/${created.id}`, { token: await session(alice) });
    expect(after.json).toMatchObject({ version: 1, model: { default: "gpt-oss-20b" } });
  });

  it("answers 400 naming the field, 413 for a body too large", async () => {
    const alice = newCreator();
    const sig = async (body: TemplateContentJson) => restSig(alice, "CreateTemplate", { contentHash: jsonHash(body) });
    const post = (body: unknown, raw?: string) =>
      rest("POST", "/api/pool/templates", raw === undefined ? { body } : { raw });
    const expectField = (res: RestAnswer, field: string, message?: RegExp) => {
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error).toMatchObject({ type: "invalid_request", code: "invalid_argument", field });
      if (message) expect(res.json.error.message).toMatch(message);
    };

    expectField(await post(undefined, '{"agent_name": "x",'), "body", /^body: malformed JSON/);
    expectField(await post(undefined, "[1, 2]"), "body", /must be a JSON object/);
    expectField(
      await post({ creator_id: alice.inboxId, ...content(), colour: "red" }),
      "colour",
      /^colour: unknown field$/,
    );
    expectField(
      await post({ creator_id: alice.inboxId, ...content(), model: { default: "m", temperature: 1 } }),
      "model.temperature",
    );

    const badTool = { ...content(), tools: [{ id: "sms", name: "SMS", provisioning: "cloud" }] };
    const r1 = await post({ creator_id: alice.inboxId, ...badTool });
    expectField(r1, "tools[0].provisioning");
    expect(r1.json.error.message).toBe('tools[0].provisioning: must be "pool" or "user"');
    expectField(await post({ creator_id: alice.inboxId, ...content(), tags: ["a", 7] }), "tags[1]", /must be a string/);
    expectField(
      await post({ creator_id: alice.inboxId, ...content(), agent_name: null }),
      "agent_name",
      /must be a string/,
    );

    const noName: Partial<TemplateContentJson> = content();
    delete noName.agent_name;
    expectField(await post({ creator_id: alice.inboxId, ...noName }), "agent_name", /^agent_name: is required$/);

    // Checked by the templates service: its `content.` prefix is gone on REST.
    const big = content({ instructions: "x".repeat(256 * 1024 + 1) });
    expectField(
      await post({ creator_id: alice.inboxId, ...big, signature: await sig(big) }),
      "instructions",
      /^instructions: must be at most 256 KiB$/,
    );
    const noPrompt = content({
      tools: [{ id: "personal-email", name: "", provisioning: "user", description: "", prompt: "", required: false }],
    });
    expectField(
      await post({ creator_id: alice.inboxId, ...noPrompt, signature: await sig(noPrompt) }),
      "tools[0].prompt",
    );
    expectField(await post({ creator_id: "not-an-inbox", ...content() }), "creator_id");
    const badNonce = { ...(await sig(content())), nonce: "0x12" };
    expectField(await post({ creator_id: alice.inboxId, ...content(), signature: badNonce }), "signature.nonce");

    const huge = await rest("POST", "/api/pool/templates", {
      raw: JSON.stringify({ instructions: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.json.error.type).toBe("payload_too_large");

    const created = await restCreate(alice);
    const noIfMatch = await rest("PUT", `/api/pool/templates/${created.id}`, { body: { ...content() } });
    expectField(noIfMatch, "If-Match");
    const badIfMatch = await rest("PUT", `/api/pool/templates/${created.id}`, {
      ifMatch: 'W/"1"',
      body: { ...content() },
    });
    expectField(badIfMatch, "If-Match");
    const emptyPatch = await rest("PATCH", `/api/pool/templates/${created.id}`, {
      ifMatch: 1,
      body: {
        signature: await restSig(alice, "PatchTemplate", {
          templateId: created.id,
          version: 1n,
          patchHash: jsonHash({}),
          contentHash: jsonHash(content()),
        }),
      },
    });
    expectField(emptyPatch, "body");
    const badVisibility = await rest("PATCH", `/api/pool/templates/${created.id}/visibility`, {
      ifMatch: 1,
      body: { visibility: "friends" },
    });
    expectField(badVisibility, "visibility", /must be "public" or "private"/);
    expectField(await rest("GET", "/api/pool/templates"), "visibility");
    expectField(await rest("GET", "/api/pool/templates?visibility=public&sort=best"), "sort");
    expectField(await rest("GET", "/api/pool/templates?visibility=public&limit=500"), "limit");
    expectField(await rest("GET", "/api/pool/templates?visibility=public&color=red"), "color");
    expectField(await rest("GET", "/api/pool/templates/not-an-id"), "template_id");

    const noRoute = await rest("GET", "/api/pool/nothing");
    expect(noRoute.status).toBe(404);
    const wrongMethod = await rest("POST", `/api/pool/templates/${created.id}/versions`, { body: {} });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toContain("GET");
  });
});

describe("Connect-Web (browser) and gRPC clients", () => {
  it("runs the same operations over Connect JSON with fetch", async () => {
    const transport = createConnectTransport({ baseUrl: gateway.url, useBinaryFormat: false });
    const sessions = createClient(SessionService, transport);
    const client = createClient(TemplateService, transport);
    const alice = newCreator();
    const body = content();
    const { template } = await client.createTemplate({
      creatorId: alice.inboxId,
      content: contentFromJson(body),
      signature: await sign(alice, "CreateTemplate", { contentHash: jsonHash(body) }),
    });
    expect(template?.version).toBe(1n);
    const id = template!.id;

    await expect(client.getTemplate({ templateId: id })).rejects.toMatchObject({ code: Code.NotFound });
    const { token, expiresAt } = await sessions.createSession(
      await signSignIn(alice.account, alice.inboxId, gateway.url),
    );
    secretsSeen.push(token);
    const expiresIn = Number(expiresAt!.seconds) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(3500);
    expect(expiresIn).toBeLessThanOrEqual(3600);
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const got = await client.getTemplate({ templateId: id }, auth);
    expect(got.template?.content?.instructions).toBe(body.instructions);

    const published = await client.setTemplateVisibility({
      templateId: id,
      expectedVersion: 1n,
      visibility: Visibility.PUBLIC,
      signature: await sign(alice, "SetTemplateVisibility", { templateId: id, version: 1n, visibility: "public" }),
    });
    expect(published.template?.version).toBe(2n);
    const store = await client.browseStore({ query: WORD, category: `cat-${WORD}` });
    expect(store.templates.map((t) => t.id)).toContain(id);

    // Errors pass through with code, message and their google.rpc.BadRequest.
    const bad = contentFromJson(content({ agent_name: "" }));
    const err = await client
      .createTemplate({
        creatorId: alice.inboxId,
        content: bad,
        signature: await sign(alice, "CreateTemplate", { contentHash: jsonHash(content({ agent_name: "" })) }),
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toBe("content.agent_name: is required");
    expect((err as ConnectError).findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations)).toEqual([
      expect.objectContaining({ field: "content.agent_name", description: "is required" }),
    ]);

    const stale = await client
      .updateTemplate({
        templateId: id,
        expectedVersion: 1n,
        content: contentFromJson(body),
        signature: await sign(alice, "UpdateTemplate", { templateId: id, version: 1n, contentHash: jsonHash(body) }),
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect((stale as ConnectError).code).toBe(Code.Aborted);

    // A caller-supplied x-pool-caller grants nothing; a bad token is refused.
    const bob = newCreator();
    const bobs = await restCreate(bob);
    await expect(
      client.getTemplate({ templateId: bobs.id }, { headers: { [CALLER_HEADER]: bob.inboxId } }),
    ).rejects.toMatchObject({
      code: Code.NotFound,
    });
    await expect(
      client.getTemplate({ templateId: id }, { headers: { authorization: "Bearer nope" } }),
    ).rejects.toMatchObject({
      code: Code.Unauthenticated,
    });

    // gRPC-Web from a browser reaches the same service.
    const grpcWeb = createClient(TemplateService, createGrpcWebTransport({ baseUrl: gateway.url }));
    const viaGrpcWeb = await grpcWeb.getTemplate({ templateId: id }, auth);
    expect(viaGrpcWeb.template?.version).toBe(2n);
    await expect(grpcWeb.getTemplate({ templateId: bobs.id }, auth)).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("runs the same operations from a plain @grpc/grpc-js client", async () => {
    const address = new URL(gateway.url).host;
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    function call<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      input: MessageInitShape<I>,
      headers: Record<string, string> = {},
    ): Promise<MessageShape<O>> {
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
      return new Promise((resolve, reject) =>
        raw.makeUnaryRequest(
          `/${method.parent.typeName}/${method.name}`,
          (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m)),
          (b: Buffer) => fromBinary(method.output, b),
          create(method.input, input),
          metadata,
          (err, res) => {
            if (err) reject(err);
            else if (!res) reject(new Error(`${method.name}: no answer and no error`));
            else resolve(res);
          },
        ),
      );
    }
    try {
      const alice = newCreator();
      const body = content();
      const created = await call(TemplateService.method.createTemplate, {
        creatorId: alice.inboxId,
        content: contentFromJson(body),
        signature: await sign(alice, "CreateTemplate", { contentHash: jsonHash(body) }),
      });
      const id = created.template!.id;
      const denied = await call(TemplateService.method.getTemplate, { templateId: id }).catch(
        (e: grpc.ServiceError) => e,
      );
      expect((denied as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
      const spoofed = await call(
        TemplateService.method.getTemplate,
        { templateId: id },
        { [CALLER_HEADER]: alice.inboxId },
      ).catch((e: grpc.ServiceError) => e);
      expect((spoofed as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);

      const { token } = await call(
        SessionService.method.createSession,
        await signSignIn(alice.account, alice.inboxId, gateway.url),
      );
      secretsSeen.push(token);
      const got = await call(
        TemplateService.method.getTemplate,
        { templateId: id },
        { authorization: `Bearer ${token}` },
      );
      expect(got.template?.content?.agentName).toBe(body.agent_name);

      const bad = await call(TemplateService.method.createTemplate, {
        creatorId: alice.inboxId,
        content: contentFromJson(content({ instructions: " " })),
      }).catch((e: grpc.ServiceError) => e);
      expect((bad as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
      // connect-es percent-encodes grpc-message with encodeURIComponent, grpc-js
      // decodes it with decodeURI, which leaves "%3A" for ":" (see docs/rest.md).
      expect(decodeURIComponent((bad as grpc.ServiceError).details)).toBe("content.instructions: is required");
    } finally {
      raw.close();
    }
  });

  it("does not serve internal services (template usage counts)", async () => {
    const usage = createClient(TemplateUsageService, createConnectTransport({ baseUrl: gateway.url }));
    const err = await usage.recordTemplateUse({ templateId: "tmpl_0000000000000000" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    // An unknown path to the gateway: Connect clients read its 404 as not found.
    expect([Code.NotFound, Code.Unimplemented]).toContain((err as ConnectError).code);
  });

  it("answers CORS preflights from a browser origin", async () => {
    const origin = "https://dashboard.example";
    for (const path of ["/api/pool/templates/tmpl_0000000000000000", "/convos.pool.v1.TemplateService/GetTemplate"]) {
      const res = await fetch(`${gateway.url}${path}`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": path.startsWith("/api") ? "PATCH" : "POST",
          "access-control-request-headers": "authorization, content-type, if-match, connect-protocol-version",
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-allow-methods")).toContain("PATCH");
      const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
      for (const h of ["authorization", "content-type", "if-match", "connect-protocol-version"])
        expect(allowed).toContain(h);
    }
    const get = await fetch(`${gateway.url}/api/pool/templates?visibility=public`, { headers: { origin } });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBe("*");
    expect((get.headers.get("access-control-expose-headers") ?? "").toLowerCase()).toContain("etag");
  });
});

describe("operations", () => {
  it("keeps data across a restart of the templates service", async () => {
    const alice = newCreator();
    const created = await restCreate(alice);
    const port = templates.port;
    await templates.close();
    const down = await rest("GET", `/api/pool/templates?visibility=public`);
    expect(down.status).toBe(503);
    expect(down.json.error.type).toBe("unavailable");
    templates = await startTemplateService({
      databaseUrl: templatesDb,
      port,
      credentials: CREDS.templates,
      limits: NO_LIMITS,
      log: quiet("templates"),
    });
    const token = await session(alice);
    const res = await rest("GET", `/api/pool/templates/${created.id}`, { token });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: created.id, version: 1, creator_id: alice.inboxId });
  });

  it("never logs session tokens or signatures", () => {
    expect(secretsSeen.length).toBeGreaterThan(5);
    const log = gatewayLog.join("\n");
    expect(log).toContain('"rest"');
    for (const secret of secretsSeen) expect(log).not.toContain(secret);
  });
});
