// ClaimService.ListTemplateInstances, the creator's dashboard list: over gRPC,
// the real template service in-process (its own test database) deciding who
// sees which template, the real claims service on real PostgreSQL making the
// claims. The instance host is the TEST STAND-IN (claims/test/stand-in-host.ts):
// the subject here is the listing and its authorization, not the host, and
// the stand-in gives many idle instances cheaply without an XMTP node.

import { randomBytes } from "node:crypto";
import { Code, type Client } from "@connectrpc/connect";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { createServiceClient } from "@convos-pool/kit/server";
import { fieldViolations, type TemplateContentJson } from "@convos-pool/kit/content";
import { newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import type { RunningClaimsService } from "./server.js";
import { as, expectCode } from "../test/helpers.js";
import { StandInStack } from "../test/stand-in-stack.js";

const stack = new StandInStack({ name: "template-instances", smsRange: "+15550600000..+15550600019" });
const { seedIdle } = stack;
let claims: RunningClaimsService;
let claimsClient: Client<typeof ClaimService>;
let sql: pg.Client;

/** A template without tools unless said. */
const createTemplate = (c: TestIdentity, over: Partial<TemplateContentJson> = {}, visibility?: "public" | "private") =>
  stack.createTemplate(c, { tools: [], ...over }, visibility);

async function claim(requester: TestIdentity, templateId: string): Promise<string> {
  const res = await claimsClient.claim(
    {
      requester: requester.inboxId,
      templateId,
      conversationInvite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
    },
    as(requester),
  );
  return res.instanceId;
}

beforeAll(async () => {
  await stack.start();
  ({ claims, claimsClient, sql } = stack);
});

afterAll(() => stack.close());

describe("ClaimService.ListTemplateInstances", () => {
  it("gives the creator a template's instances with a count, in pages, live ones or all", async () => {
    const creator = newIdentity();
    const users = [newIdentity(), newIdentity(), newIdentity()];
    const t = await createTemplate(creator, {
      tools: [{ id: "sms", name: "SMS", provisioning: "pool", description: "", prompt: "", required: false }],
      agent_name: "Dashboard",
    });
    const other = await createTemplate(creator);
    const secret = await createTemplate(creator, {}, "private");
    await seedIdle(6);
    // Claims by several users (one of them twice), and claims of other templates that must not count.
    const ids: string[] = [];
    for (const u of [users[0]!, users[1]!, users[0]!, users[2]!]) ids.push(await claim(u, t.id));
    await claim(users[1]!, other.id);
    const own = await claim(creator, secret.id);
    const newestFirst = [...ids].reverse();

    const all = await claimsClient.listTemplateInstances({ templateId: t.id }, as(creator));
    expect(all.totalCount).toBe(4n);
    expect(all.instances.map((i) => i.id)).toEqual(newestFirst);
    expect(all.instances.map((i) => i.ownerId)).toEqual(
      [users[2], users[0], users[1], users[0]].map((u) => u!.inboxId),
    );
    expect(
      all.instances.every(
        (i) => i.templateId === t.id && i.state === InstanceState.CLAIMED && i.agentName === "Dashboard",
      ),
    ).toBe(true);
    expect(all.instances.map((i) => i.tools.map((x) => x.toolId))).toEqual([["sms"], ["sms"], ["sms"], ["sms"]]);
    expect(all.nextPageToken).toBe("");

    // Keyset pages; the count is of the whole listing, on every page.
    const p1 = await claimsClient.listTemplateInstances({ templateId: t.id, pageSize: 3 }, as(creator));
    expect(p1.instances.map((i) => i.id)).toEqual(newestFirst.slice(0, 3));
    expect(p1.totalCount).toBe(4n);
    expect(p1.nextPageToken).not.toBe("");
    const p2 = await claimsClient.listTemplateInstances(
      { templateId: t.id, pageSize: 3, pageToken: p1.nextPageToken },
      as(creator),
    );
    expect(p2.instances.map((i) => i.id)).toEqual(newestFirst.slice(3));
    expect(p2.totalCount).toBe(4n);
    expect(p2.nextPageToken).toBe("");

    // live_only: a dead and a crashed instance are not live, though they were instances of the template.
    await sql.query(`update instances set state = 'dead' where id = $1`, [ids[1]]);
    await sql.query(`update instances set state = 'crashed' where id = $1`, [ids[3]]);
    const live = await claimsClient.listTemplateInstances({ templateId: t.id, liveOnly: true }, as(creator));
    expect(live.instances.map((i) => i.id)).toEqual([ids[2], ids[0]]);
    expect(live.totalCount).toBe(2n);
    const live1 = await claimsClient.listTemplateInstances(
      { templateId: t.id, liveOnly: true, pageSize: 1 },
      as(creator),
    );
    expect(live1.instances.map((i) => i.id)).toEqual([ids[2]]);
    expect(live1.totalCount).toBe(2n);
    const live2 = await claimsClient.listTemplateInstances(
      { templateId: t.id, liveOnly: true, pageSize: 1, pageToken: live1.nextPageToken },
      as(creator),
    );
    expect(live2.instances.map((i) => i.id)).toEqual([ids[0]]);
    expect(live2.nextPageToken).toBe("");
    const ever = await claimsClient.listTemplateInstances({ templateId: t.id }, as(creator));
    expect(ever.totalCount).toBe(4n);
    expect(ever.instances.map((i) => i.state)).toEqual([
      InstanceState.CRASHED,
      InstanceState.CLAIMED,
      InstanceState.DEAD,
      InstanceState.CLAIMED,
    ]);

    // The creator's private template is theirs to list.
    const mine = await claimsClient.listTemplateInstances({ templateId: secret.id }, as(creator));
    expect(mine.instances.map((i) => i.id)).toEqual([own]);
    expect(mine.totalCount).toBe(1n);
    const none = await claimsClient.listTemplateInstances(
      { templateId: (await createTemplate(creator)).id },
      as(creator),
    );
    expect(none).toMatchObject({ instances: [], totalCount: 0n, nextPageToken: "" });
  });

  it("counts every live agent by where it stands with the template's newest release, whatever the page", async () => {
    const creator = newIdentity();
    const t = await createTemplate(creator);
    await seedIdle(6);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await claim(newIdentity(), t.id));
    // As the sync fan-out leaves them once release 3 is held: two on it, one on its way, one failed, one pinned, one ended.
    await sql.query(
      `insert into template_releases (template_id, version, release_key, release, default_model) values ($1, 3, array[3], '\\x00', 'gpt-oss-20b')
      on conflict (template_id) do update set version = 3, release_key = array[3]`,
      [t.id],
    );
    await sql.query(`update instances set template_version = 3, applied_key = array[3] where id = any($1)`, [
      [ids[0], ids[1]],
    ]);
    await sql.query(`update instances set template_version = 2, applied_key = array[2] where id = $1`, [ids[2]]);
    await sql.query(
      `update instances set template_version = 2, applied_key = array[2], sync_error = 'agent unreachable' where id = $1`,
      [ids[3]],
    );
    await sql.query(`update instances set template_version = 1, applied_key = array[1], pinned = true where id = $1`, [
      ids[4],
    ]);
    await sql.query(`update instances set state = 'dead' where id = $1`, [ids[5]]);

    const page = await claimsClient.listTemplateInstances({ templateId: t.id, pageSize: 1 }, as(creator));
    expect(page.instances).toHaveLength(1);
    expect(page.reach).toMatchObject({
      releaseVersion: 3n,
      liveCount: 5n,
      currentCount: 2n,
      pendingCount: 1n,
      failedCount: 1n,
      pinnedCount: 1n,
    });
    // What each runs, whatever it follows: the ended one counts for nothing.
    expect(page.reach?.running.map((r) => [r.version, r.count])).toEqual([
      [3n, 2n],
      [2n, 2n],
      [1n, 1n],
    ]);
    // Before any release, and with no live agents: zeros.
    const fresh = await claimsClient.listTemplateInstances(
      { templateId: (await createTemplate(creator)).id },
      as(creator),
    );
    expect(fresh.reach).toMatchObject({
      releaseVersion: 0n,
      liveCount: 0n,
      currentCount: 0n,
      pendingCount: 0n,
      failedCount: 0n,
      pinnedCount: 0n,
      running: [],
    });
  });

  it("refuses everyone but the creator: UNAUTHENTICATED signed out, PERMISSION_DENIED on a public template, NOT_FOUND on a private one", async () => {
    const creator = newIdentity();
    const claimer = newIdentity();
    const stranger = newIdentity();
    const pub = await createTemplate(creator);
    const secret = await createTemplate(creator, {}, "private");
    await seedIdle(1);
    await claim(claimer, pub.id);

    await expectCode(claimsClient.listTemplateInstances({ templateId: pub.id }), Code.Unauthenticated);
    // A public template is visible to anyone: saying it is not theirs gives nothing away.
    await expectCode(claimsClient.listTemplateInstances({ templateId: pub.id }, as(stranger)), Code.PermissionDenied);
    // Owning one of its instances does not make one its creator.
    await expectCode(claimsClient.listTemplateInstances({ templateId: pub.id }, as(claimer)), Code.PermissionDenied);
    // A private template of someone else is exactly as a missing one.
    const hidden = await expectCode(
      claimsClient.listTemplateInstances({ templateId: secret.id }, as(stranger)),
      Code.NotFound,
    );
    const missing = await expectCode(
      claimsClient.listTemplateInstances({ templateId: "tmpl_0000000000000000" }, as(stranger)),
      Code.NotFound,
    );
    expect(hidden.rawMessage.replace(secret.id, "ID")).toBe(missing.rawMessage.replace("tmpl_0000000000000000", "ID"));
  });

  it("names the field of a bad request", async () => {
    const creator = newIdentity();
    const t = await createTemplate(creator);
    const cases: Array<[Parameters<typeof claimsClient.listTemplateInstances>[0], string]> = [
      [{ templateId: "nope" }, "template_id"],
      [{ templateId: t.id, pageToken: "garbage" }, "page_token"],
      [{ templateId: t.id, pageSize: 101 }, "page_size"],
      [{ templateId: t.id, pageSize: -1 }, "page_size"],
    ];
    for (const [req, field] of cases) {
      const err = await expectCode(claimsClient.listTemplateInstances(req, as(creator)), Code.InvalidArgument);
      expect(fieldViolations(err).map((v) => v.field)).toEqual([field]);
    }
  });

  it("refuses calls without the gateway's credential", async () => {
    const outsider = createServiceClient(ClaimService, claims.url, { token: "wrong-token" }).client;
    await expectCode(outsider.listTemplateInstances({ templateId: "tmpl_0000000000000000" }), Code.Unauthenticated);
    const host = createServiceClient(ClaimService, claims.url, stack.creds["instance-host"]).client;
    await expectCode(host.listTemplateInstances({ templateId: "tmpl_0000000000000000" }), Code.PermissionDenied);
  });
});
