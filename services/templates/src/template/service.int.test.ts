import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, type ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Provisioning, TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TemplateStatus, Visibility, type TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  StoreSort,
  TemplatePatchSchema,
  TemplateReleaseService,
  TemplateService,
  TemplateUsageService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { generateServiceCredentials, createServiceClient } from "@convos-pool/kit/server";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  signOperation,
  verifyTemplateRelease,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import {
  applyPatch,
  contentFromJson,
  contentToJson,
  fieldViolations,
  jsonHash,
  patchToJson,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedPublish, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "../server.js";
import { as, expectCode } from "../../test/helpers.js";

const CREDS = generateServiceCredentials();

type Creator = TestIdentity;
const newCreator = newIdentity;
const content = (over: Partial<TemplateContentJson> = {}): TemplateContent => contentFromJson(sampleContent(over));

let databaseUrl: string;
let service: RunningTemplateService;
let client: Client<typeof TemplateService>;
let sql: pg.Client;

function connect(url: string): Client<typeof TemplateService> {
  return createServiceClient(TemplateService, url, CREDS.gateway).client;
}

/** A private template of `c`, signed, at version 1. */
const createTemplate = (c: Creator, over: Partial<TemplateContentJson> = {}) =>
  signedTemplate(client, c, sampleContent(over), "private");

const publish = (c: Creator, id: string, version: bigint) => signedPublish(client, c, { id, version });

async function count(table: string): Promise<number> {
  const r = await sql.query(`select count(*)::int as n from ${table}`);
  return r.rows[0].n;
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase("templates");
  service = await startTemplateService({ databaseUrl, credentials: CREDS.templates });
  client = connect(service.url);
  sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await service?.close();
});

describe("templates", () => {
  it("creates a private template at version 1 that only its creator can read", async () => {
    const alice = newCreator();
    const t = await createTemplate(alice);
    expect(t.id).toMatch(/^tmpl_[A-Za-z0-9]{16}$/);
    expect(t.version).toBe(1n);
    expect(t.visibility).toBe(Visibility.PRIVATE);
    expect(t.creatorId).toBe(alice.inboxId);

    const own = await client.getTemplate({ templateId: t.id }, as(alice));
    expect(own.template?.content?.instructions).toBe("You are a travel planning assistant.");
    expect(own.template?.content?.tools.map((x) => x.provisioning)).toEqual([Provisioning.POOL, Provisioning.USER]);

    await expectCode(client.getTemplate({ templateId: t.id }, as(newCreator())), Code.NotFound);
    await expectCode(client.getTemplate({ templateId: t.id }), Code.NotFound);

    const strangersView = await client.listCreatorTemplates({ creatorId: alice.inboxId }, as(newCreator()));
    expect(strangersView.templates).toHaveLength(0);
    const ownView = await client.listCreatorTemplates({ creatorId: alice.inboxId }, as(alice));
    expect(ownView.templates.map((x) => x.id)).toEqual([t.id]);
    expect(ownView.templates[0]?.content?.instructions).toBe(""); // listings leave instructions out
  });

  it("refuses forged, replayed, expired and mismatched signatures and writes nothing", async () => {
    const alice = newCreator();
    const mallory = newCreator();
    const before = await count("templates");

    // Signed by Mallory's key while claiming to be Alice.
    const body = content();
    const forged = await signOperation(mallory.account, "CreateTemplate", {
      inboxId: alice.inboxId,
      contentHash: jsonHash(contentToJson(body)),
    });
    await expectCode(
      client.createTemplate({ creatorId: alice.inboxId, content: body, signature: forged }),
      Code.PermissionDenied,
    );

    // Signed for other content than the one sent.
    const other = await signOperation(alice.account, "CreateTemplate", {
      inboxId: alice.inboxId,
      contentHash: jsonHash(contentToJson(content({ instructions: "something else" }))),
    });
    await expectCode(
      client.createTemplate({ creatorId: alice.inboxId, content: body, signature: other }),
      Code.PermissionDenied,
    );

    // Expired.
    const old = await signOperation(
      alice.account,
      "CreateTemplate",
      { inboxId: alice.inboxId, contentHash: jsonHash(contentToJson(body)) },
      Math.floor(Date.now() / 1000) - 3600,
    );
    await expectCode(
      client.createTemplate({ creatorId: alice.inboxId, content: body, signature: old }),
      Code.Unauthenticated,
    );

    // No signature at all.
    await expectCode(client.createTemplate({ creatorId: alice.inboxId, content: body }), Code.Unauthenticated);
    expect(await count("templates")).toBe(before);

    // Replayed: the first use succeeds, the second is refused.
    const good = await signOperation(alice.account, "CreateTemplate", {
      inboxId: alice.inboxId,
      contentHash: jsonHash(contentToJson(body)),
    });
    await client.createTemplate({ creatorId: alice.inboxId, content: body, signature: good });
    await expectCode(
      client.createTemplate({ creatorId: alice.inboxId, content: body, signature: good }),
      Code.Unauthenticated,
    );
    expect(await count("templates")).toBe(before + 1);

    // A signature for one operation is no good for another (distinct EIP-712 types).
    const t = await createTemplate(alice);
    const archiveSig = await signOperation(alice.account, "ArchiveTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: 1n,
    });
    await expectCode(
      client.deleteTemplate({ templateId: t.id, expectedVersion: 1n, signature: archiveSig }),
      Code.PermissionDenied,
    );
    expect((await client.getTemplate({ templateId: t.id }, as(alice))).template?.version).toBe(1n);
  });

  it("validates input and names the field", async () => {
    const alice = newCreator();
    const cases: [Partial<TemplateContentJson>, string][] = [
      [{ agent_name: "" }, "content.agent_name"],
      [{ instructions: "x".repeat(256 * 1024 + 1) }, "content.instructions"],
      [
        { tools: [{ id: "fax", name: "", provisioning: "pool", description: "", prompt: "", required: false }] },
        "content.tools[0].id",
      ],
      [
        { tools: [{ id: "key", name: "", provisioning: "user", description: "", prompt: "", required: true }] },
        "content.tools[0].prompt",
      ],
      [{ tags: ["Bad Tag!"] }, "content.tags[0]"],
      [{ model: { default: "", allow_override: true } }, "content.model.default"],
      [{ max_trust_level: "L5" as never }, "content.max_trust_level"],
      [
        {
          connections: [
            { kind: "calendar", capabilities: ["read"], reason: "to plan around your week" },
            { kind: "fitness", capabilities: ["read"], reason: "to pace the hikes" },
          ],
        },
        "content.connections[1].kind",
      ],
      [
        { connections: [{ kind: "health", capabilities: [], reason: "to pace the hikes" }] },
        "content.connections[0].capabilities",
      ],
      [
        { connections: [{ kind: "health", capabilities: ["read", "read"], reason: "to pace the hikes" }] },
        "content.connections[0].capabilities[1]",
      ],
      [{ connections: [{ kind: "health", capabilities: ["read"], reason: "" }] }, "content.connections[0].reason"],
    ];
    for (const [over, field] of cases) {
      const err = await expectCode(createTemplate(alice, over), Code.InvalidArgument);
      expect(fieldViolations(err).map((v) => v.field)).toEqual([field]);
    }
    // An unspecified provisioning value is refused too.
    const body = content();
    body.tools[0]!.provisioning = Provisioning.UNSPECIFIED;
    const err = await expectCode(
      client.createTemplate({ creatorId: alice.inboxId, content: body, signature: undefined }),
      Code.InvalidArgument,
    );
    expect(err.message).toContain("content.tools[0]");
    await expectCode(client.createTemplate({ creatorId: "not-an-inbox", content: body }), Code.InvalidArgument);
    // Every bad field of one request at once, the creator beside its content's, in one BadRequest.
    const many = await expectCode(
      client.createTemplate({
        creatorId: "not-an-inbox",
        content: content({ agent_name: "", tags: ["Bad Tag!"] }),
      }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(many).map((v) => v.field)).toEqual(["creator_id", "content.agent_name", "content.tags[0]"]);
    // Exactly 256 KiB is fine.
    const big = await createTemplate(alice, { instructions: "y".repeat(256 * 1024) });
    expect(big.version).toBe(1n);
  });

  it("updates with optimistic concurrency, patches by the merge rules of docs/templates.md, and rolls back", async () => {
    const alice = newCreator();
    const t = await createTemplate(alice);
    const v2content = content({ instructions: "Version two.", tags: ["travel"] });
    const sig = (version: bigint, c: TemplateContent) =>
      signOperation(alice.account, "UpdateTemplate", {
        inboxId: alice.inboxId,
        templateId: t.id,
        version,
        contentHash: jsonHash(contentToJson(c)),
      });
    const v2 = (
      await client.updateTemplate({
        templateId: t.id,
        expectedVersion: 1n,
        content: v2content,
        signature: await sig(1n, v2content),
      })
    ).template!;
    expect(v2.version).toBe(2n);
    expect(v2.contentVersion).toBe(2n);
    expect(v2.content?.instructions).toBe("Version two.");

    // Stale: based on version 1 again.
    const stale = content({ instructions: "Lost update" });
    await expectCode(
      client.updateTemplate({ templateId: t.id, expectedVersion: 1n, content: stale, signature: await sig(1n, stale) }),
      Code.Aborted,
    );
    expect((await client.getTemplate({ templateId: t.id }, as(alice))).template?.content?.instructions).toBe(
      "Version two.",
    );

    // Patch: only the named fields change; tags are replaced as a whole. The
    // creator signs the patch and the content it results in.
    const patch = {
      description: "Now with Greece",
      tags: ["greece", "islands"],
      tools: [],
      clearTools: false,
      clearTags: false,
      conversationStarters: [],
      clearConversationStarters: false,
      connections: [],
      clearConnections: false,
      routines: [],
      clearRoutines: false,
    };
    const patchSig = (result: TemplateContentJson) =>
      signOperation(alice.account, "PatchTemplate", {
        inboxId: alice.inboxId,
        templateId: t.id,
        version: 2n,
        patchHash: jsonHash(patchToJson(patch as never)),
        contentHash: jsonHash(result),
      });
    const patched = applyPatch(contentToJson(v2content), patchToJson(patch as never));
    // Signed over another result (as if applied to another base): refused.
    const otherBase = applyPatch(contentToJson(t.content!), patchToJson(patch as never));
    await expectCode(
      client.patchTemplate({ templateId: t.id, expectedVersion: 2n, patch, signature: await patchSig(otherBase) }),
      Code.PermissionDenied,
    );
    // Based on a version that does not exist: nothing to sign against, and the current version stays unsaid.
    const ahead = await expectCode(
      client.patchTemplate({ templateId: t.id, expectedVersion: 9n, patch }),
      Code.Aborted,
    );
    expect(ahead.rawMessage).toBe(`template ${t.id} has no version 9: fetch it, reapply your change and sign again`);
    const v3 = (
      await client.patchTemplate({ templateId: t.id, expectedVersion: 2n, patch, signature: await patchSig(patched) })
    ).template!;
    expect(v3.version).toBe(3n);
    expect(v3.contentVersion).toBe(3n);
    expect(v3.content?.description).toBe("Now with Greece");
    expect(v3.content?.tags).toEqual(["greece", "islands"]);
    expect(v3.content?.instructions).toBe("Version two.");
    expect(v3.content?.tools).toHaveLength(2);
    expect(contentToJson(v3.content!)).toEqual(patched);

    // Rollback to 1 makes version 4 equal to version 1; the creator signs the restored content.
    const rbSig = (restored: TemplateContent) =>
      signOperation(alice.account, "RollbackTemplate", {
        inboxId: alice.inboxId,
        templateId: t.id,
        version: 3n,
        targetVersion: 1n,
        contentHash: jsonHash(contentToJson(restored)),
      });
    await expectCode(
      client.rollbackTemplate({
        templateId: t.id,
        expectedVersion: 3n,
        targetVersion: 1n,
        signature: await rbSig(v2content),
      }),
      Code.PermissionDenied,
    );
    const err = await expectCode(
      client.rollbackTemplate({
        templateId: t.id,
        expectedVersion: 3n,
        targetVersion: 3n,
        signature: await rbSig(t.content!),
      }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["target_version"]);
    const v4 = (
      await client.rollbackTemplate({
        templateId: t.id,
        expectedVersion: 3n,
        targetVersion: 1n,
        signature: await rbSig(t.content!),
      })
    ).template!;
    expect(v4.version).toBe(4n);
    expect(v4.content).toEqual(t.content);
    expect(v4.contentVersion).toBe(4n);
    // Based on version 3 again: signed over the right content, still stale.
    await expectCode(
      client.rollbackTemplate({
        templateId: t.id,
        expectedVersion: 3n,
        targetVersion: 1n,
        signature: await rbSig(t.content!),
      }),
      Code.Aborted,
    );

    const versions = await client.listTemplateVersions({ templateId: t.id, pageSize: 3 }, as(alice));
    expect(versions.versions.map((v) => [v.version, v.changeSummary])).toEqual([
      [4n, "rollback to v1"],
      [3n, "patch description, tags"],
      [2n, "update"],
    ]);
    const rest = await client.listTemplateVersions(
      { templateId: t.id, pageSize: 3, pageToken: versions.nextPageToken },
      as(alice),
    );
    expect(rest.versions.map((v) => v.version)).toEqual([1n]);
    expect(rest.nextPageToken).toBe("");
    expect(versions.versions[2]?.snapshot?.content?.instructions).toBe("Version two.");
    // History is the creator's.
    await expectCode(client.listTemplateVersions({ templateId: t.id }, as(newCreator())), Code.NotFound);
  });

  it("carries the highest trust level: stored, read back, kept in history and the signed release, and left out when unspecified", async () => {
    const alice = newCreator();
    const t = await createTemplate(alice, { max_trust_level: "L3" });
    expect(t.content?.maxTrustLevel).toBe(TrustLevel.OPERATOR);
    expect(contentToJson(t.content!)).toEqual(sampleContent({ max_trust_level: "L3" }));
    const stored = await sql.query(`select max_trust_level from templates where id = $1`, [t.id]);
    expect(stored.rows[0].max_trust_level).toBe(3);
    expect((await client.getTemplate({ templateId: t.id }, as(alice))).template?.content?.maxTrustLevel).toBe(
      TrustLevel.OPERATOR,
    );

    // Updated to content without one: none again, hashed as content that never had one.
    const without = content();
    const updSig = await signOperation(alice.account, "UpdateTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: 1n,
      contentHash: jsonHash(sampleContent()),
    });
    const v2 = (
      await client.updateTemplate({ templateId: t.id, expectedVersion: 1n, content: without, signature: updSig })
    ).template!;
    expect(v2.content?.maxTrustLevel).toBe(TrustLevel.UNSPECIFIED);
    expect("max_trust_level" in contentToJson(v2.content!)).toBe(false);
    expect(
      (await sql.query(`select max_trust_level from templates where id = $1`, [t.id])).rows[0].max_trust_level,
    ).toBe(0);

    // Version 1's snapshot keeps it, and a rollback restores it, signed over the content with it.
    const history = await client.listTemplateVersions({ templateId: t.id }, as(alice));
    expect(history.versions.find((v) => v.version === 1n)?.snapshot?.content?.maxTrustLevel).toBe(TrustLevel.OPERATOR);
    const rbSig = await signOperation(alice.account, "RollbackTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: 2n,
      targetVersion: 1n,
      contentHash: jsonHash(sampleContent({ max_trust_level: "L3" })),
    });
    const v3 = (
      await client.rollbackTemplate({ templateId: t.id, expectedVersion: 2n, targetVersion: 1n, signature: rbSig })
    ).template!;
    expect(v3.content?.maxTrustLevel).toBe(TrustLevel.OPERATOR);

    // What an agent runs: the release carries it, and the creator's signature over it checks out.
    const releases = createServiceClient(TemplateReleaseService, service.url, CREDS.claims).client;
    const { release } = await releases.getTemplateRelease({ templateId: t.id });
    expect(release?.content?.maxTrustLevel).toBe(TrustLevel.OPERATOR);
    const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
    expect(await verifyTemplateRelease(verifier, release!, { templateId: t.id, creatorId: alice.inboxId })).toBe(
      alice.account.address,
    );
  });

  it("carries the phone connections its agents use: stored, read back, listed, in the signed release, and none when none", async () => {
    const alice = newCreator();
    const connections = [
      { kind: "calendar", capabilities: ["read", "write_create"], reason: "to plan around your week" },
      { kind: "location", capabilities: ["read"], reason: "to suggest places nearby" },
    ];
    const t = await createTemplate(alice, { connections });
    expect(contentToJson(t.content!)).toEqual(sampleContent({ connections }));
    const stored = await sql.query(`select connections from templates where id = $1`, [t.id]);
    expect(stored.rows[0].connections).toEqual(connections);
    const read = (await client.getTemplate({ templateId: t.id }, as(alice))).template!;
    expect(contentToJson(read.content!).connections).toEqual(connections);
    // The listing shows them too, without the instructions.
    const listed = await client.listCreatorTemplates({ creatorId: alice.inboxId }, as(alice));
    expect(listed.templates[0]?.content?.connections.map((c) => c.kind)).toEqual(["calendar", "location"]);

    // What an agent runs: the release carries them under the creator's signature.
    const releases = createServiceClient(TemplateReleaseService, service.url, CREDS.claims).client;
    const { release } = await releases.getTemplateRelease({ templateId: t.id });
    expect(contentToJson(release!.content!).connections).toEqual(connections);
    const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
    expect(await verifyTemplateRelease(verifier, release!, { templateId: t.id, creatorId: alice.inboxId })).toBe(
      alice.account.address,
    );

    // A patch with none removes them; the content then hashes as content that never had any.
    const patch = { clearConnections: true };
    const result = applyPatch(contentToJson(t.content!), patchToJson(create(TemplatePatchSchema, patch)));
    expect(result).toEqual(sampleContent());
    const v2 = (
      await client.patchTemplate({
        templateId: t.id,
        expectedVersion: 1n,
        patch,
        signature: await signOperation(alice.account, "PatchTemplate", {
          inboxId: alice.inboxId,
          templateId: t.id,
          version: 1n,
          patchHash: jsonHash(patchToJson(create(TemplatePatchSchema, patch))),
          contentHash: jsonHash(result),
        }),
      })
    ).template!;
    expect(v2.content?.connections).toEqual([]);
    expect((await sql.query(`select connections from templates where id = $1`, [t.id])).rows[0].connections).toEqual(
      [],
    );
  });

  it("refuses a second declaration of one kind and more connections than kinds, naming the field, and stores nothing", async () => {
    const alice = newCreator();
    const before = await count("templates");
    const twice = [
      { kind: "photos", capabilities: ["read"], reason: "to pick the best shots" },
      { kind: "photos", capabilities: ["write_create"], reason: "to save the album" },
    ];
    const err = await expectCode(createTemplate(alice, { connections: twice }), Code.InvalidArgument);
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["content.connections[1].kind"]);
    expect(err.rawMessage).toMatch(/^content\.connections\[1\]\.kind: duplicate connection kind "photos"/);
    const tooMany = Array.from({ length: 10 }, () => ({ kind: "music", capabilities: ["read"], reason: "to play" }));
    const many = await expectCode(createTemplate(alice, { connections: tooMany }), Code.InvalidArgument);
    // Too many, and each declaration of a kind already declared named beside it (every fault at once).
    expect(fieldViolations(many).map((v) => v.field)).toEqual([
      "content.connections",
      ...tooMany.slice(1).map((_, i) => `content.connections[${i + 1}].kind`),
    ]);
    const long = [{ kind: "music", capabilities: ["read"], reason: "x".repeat(201) }];
    const tooLong = await expectCode(createTemplate(alice, { connections: long }), Code.InvalidArgument);
    expect(fieldViolations(tooLong).map((v) => v.field)).toEqual(["content.connections[0].reason"]);
    expect(await count("templates")).toBe(before);
  });

  it("lets exactly one of many concurrent updates on the same version win", async () => {
    const alice = newCreator();
    const t = await createTemplate(alice);
    const attempts = await Promise.allSettled(
      Array.from({ length: 12 }, async (_, i) => {
        const c = content({ instructions: `racer ${i}` });
        const signature = await signOperation(alice.account, "UpdateTemplate", {
          inboxId: alice.inboxId,
          templateId: t.id,
          version: 1n,
          contentHash: jsonHash(contentToJson(c)),
        });
        return client.updateTemplate({ templateId: t.id, expectedVersion: 1n, content: c, signature });
      }),
    );
    const won = attempts.filter((a) => a.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const a of attempts) {
      if (a.status === "rejected") expect((a.reason as ConnectError).code).toBe(Code.Aborted);
    }
    const r = await sql.query(`select count(*)::int as n from template_versions where template_id = $1`, [t.id]);
    expect(r.rows[0].n).toBe(2);
  });

  it("publishes to the store: search, category, sort and cursor pages", async () => {
    const alice = newCreator();
    const word = `zq${randomBytes(4).toString("hex")}`; // unique to this test
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const t = await createTemplate(alice, {
        agent_name: `Agent ${i}`,
        description: i % 2 === 0 ? `helps with ${word} things` : "other things",
        category: i < 4 ? `cat-${word}` : "misc",
        tags: i === 5 ? [word] : ["x"],
      });
      await publish(alice, t.id, 1n);
      ids.push(t.id);
    }
    const hidden = await createTemplate(alice, { description: `private ${word}` }); // never published

    const found = await client.browseStore({ query: word });
    expect(new Set(found.templates.map((t) => t.id))).toEqual(new Set([ids[0], ids[2], ids[4], ids[5], ids[6]]));
    expect(found.templates.map((t) => t.id)).not.toContain(hidden.id);
    expect(found.templates.every((t) => t.visibility === Visibility.PUBLIC)).toBe(true);

    const inCategory = await client.browseStore({ category: `cat-${word}`, sort: StoreSort.NEWEST });
    expect(inCategory.templates.map((t) => t.id)).toEqual([ids[3], ids[2], ids[1], ids[0]]);

    // Pages of 2 in relevance order cover all 5 matches exactly once.
    const seen: string[] = [];
    let token = "";
    do {
      const page = await client.browseStore({ query: word, pageSize: 2, pageToken: token });
      seen.push(...page.templates.map((t) => t.id));
      token = page.nextPageToken;
    } while (token);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);

    // Most used: distinct recent owners, which arrive with claims (curation/service.int.test.ts); set them here.
    await sql.query(`update templates set recent_owners = 100 where id = $1`, [ids[1]]);
    await sql.query(`update templates set recent_owners = 50 where id = $1`, [ids[3]]);
    const popular = await client.browseStore({ category: `cat-${word}`, sort: StoreSort.MOST_USED });
    expect(popular.templates.slice(0, 2).map((t) => t.id)).toEqual([ids[1], ids[3]]);
    expect(popular.templates[0]?.recentOwners).toBe(100n);

    await expectCode(client.browseStore({ pageToken: "garbage" }), Code.InvalidArgument);
    // Well-formed tokens with values a cursor cannot hold: the caller's error, not the database's.
    const forged = (v: unknown[]) => Buffer.from(JSON.stringify(v)).toString("base64url");
    await expectCode(client.browseStore({ pageToken: forged(["not a date", "x"]) }), Code.InvalidArgument);
    await expectCode(
      client.browseStore({ sort: StoreSort.MOST_USED, pageToken: forged(["lots", "x"]) }),
      Code.InvalidArgument,
    );
    await expectCode(client.browseStore({ pageSize: 1000 }), Code.InvalidArgument);
  });

  it("archives (hidden, frozen) and deletes for good", async () => {
    const alice = newCreator();
    const t = await createTemplate(alice, { category: `arch-${randomBytes(3).toString("hex")}` });
    const pub = await publish(alice, t.id, 1n);
    // Publishing is a new version, not new content.
    expect([pub.version, pub.contentVersion]).toEqual([2n, 1n]);
    const listed = (await client.browseStore({ category: t.content!.category })).templates;
    expect(listed.map((x) => [x.version, x.contentVersion])).toEqual([[2n, 1n]]);

    const archived = (
      await client.archiveTemplate({
        templateId: t.id,
        expectedVersion: pub.version,
        signature: await signOperation(alice.account, "ArchiveTemplate", {
          inboxId: alice.inboxId,
          templateId: t.id,
          version: pub.version,
        }),
      })
    ).template!;
    expect(archived.status).toBe(TemplateStatus.ARCHIVED);
    expect([archived.version, archived.contentVersion]).toEqual([3n, 1n]);
    const history = await client.listTemplateVersions({ templateId: t.id }, as(alice));
    expect(history.versions.map((v) => [v.version, v.snapshot?.contentVersion])).toEqual([
      [3n, 1n],
      [2n, 1n],
      [1n, 1n],
    ]);
    expect((await client.browseStore({ category: t.content!.category })).templates).toHaveLength(0);
    await expectCode(client.getTemplate({ templateId: t.id }), Code.NotFound);
    expect((await client.getTemplate({ templateId: t.id }, as(alice))).template?.status).toBe(TemplateStatus.ARCHIVED);
    await expectCode(publish(alice, t.id, archived.version), Code.FailedPrecondition);

    await client.deleteTemplate({
      templateId: t.id,
      expectedVersion: archived.version,
      signature: await signOperation(alice.account, "DeleteTemplate", {
        inboxId: alice.inboxId,
        templateId: t.id,
        version: archived.version,
      }),
    });
    await expectCode(client.getTemplate({ templateId: t.id }, as(alice)), Code.NotFound);
    const r = await sql.query(`select count(*)::int as n from template_versions where template_id = $1`, [t.id]);
    expect(r.rows[0].n).toBe(0);
  });

  it("counts uses for the store's most-used order (internal RPC)", async () => {
    const alice = newCreator();
    const t = await createTemplate(alice);
    const usage = createServiceClient(TemplateUsageService, service.url, CREDS.claims).client;
    expect((await usage.recordTemplateUse({ templateId: t.id })).usageCount).toBe(1n);
    expect((await usage.recordTemplateUse({ templateId: t.id })).usageCount).toBe(2n);
    expect((await usage.recordTemplateUse({ templateId: t.id, count: 5n })).usageCount).toBe(7n);
    expect((await client.getTemplate({ templateId: t.id }, as(alice))).template?.usageCount).toBe(7n);
    await expectCode(usage.recordTemplateUse({ templateId: t.id, count: -1n }), Code.InvalidArgument);
    await expectCode(usage.recordTemplateUse({ templateId: "tmpl_0000000000000000" }), Code.NotFound);
  });

  it("refuses calls without the service credential", async () => {
    const bare = createClient(TemplateService, createGrpcTransport({ baseUrl: service.url }));
    await expectCode(bare.browseStore({}), Code.Unauthenticated);
    const wrong: Interceptor = (next) => (req) => {
      req.header.set("x-pool-service-token", "nope");
      return next(req);
    };
    const liar = createClient(TemplateService, createGrpcTransport({ baseUrl: service.url, interceptors: [wrong] }));
    await expectCode(liar.browseStore({}), Code.Unauthenticated);
  });

  it("keeps everything across a restart", async () => {
    const alice = newCreator();
    const t = await createTemplate(alice);
    await service.close();
    service = await startTemplateService({ databaseUrl, credentials: CREDS.templates });
    client = connect(service.url);
    const again = await client.getTemplate({ templateId: t.id }, as(alice));
    expect(again.template?.content).toEqual(t.content);
  });
});
