// A version that takes the pool's wallet away (docs/templates.md, "A version
// without the wallet"): refused unless its creator acknowledges it in the
// signed change, for an update, a patch and a rollback of the template
// itself and for a base's change that reaches the templates following it;
// the acknowledgment is signed, kept with the version and carried by its
// release, where the creator's signature covers it. On a real PostgreSQL,
// over gRPC; signatures by real keys, checked as agents check them.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  TemplatePatchSchema,
  TemplateReleaseService,
  TemplateService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  signOperation,
  verifyReleaseChain,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import {
  contentFromJson,
  fieldViolations,
  jsonHash,
  type BaseJson,
  type TemplateContentJson,
  applyPatch,
  patchToJson,
} from "@convos-pool/kit/content";
import { createLogger, createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import { newIdentity, sampleContent, signedTemplate, tool, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { startTemplateService, type RunningTemplateService } from "../server.js";

const CREDS = generateServiceCredentials();
const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
const WHY = "Agents of this template may hold their owners' funds; their balances go back to their owners";

let service: RunningTemplateService;
let client: Client<typeof TemplateService>;
let releases: Client<typeof TemplateReleaseService>;

beforeAll(async () => {
  service = await startTemplateService({
    databaseUrl: await createTestDatabase("templates_wallet_removal"),
    credentials: CREDS.templates,
    log: createLogger("templates", { level: "error" }),
  });
  client = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
  releases = createServiceClient(TemplateReleaseService, service.url, CREDS.claims).client;
});

afterAll(async () => {
  await service?.close();
});

const withWallet = (over: Partial<TemplateContentJson> = {}) =>
  sampleContent({ tools: [tool("sms", "pool"), tool("crypto", "pool")], ...over });
const withoutWallet = (over: Partial<TemplateContentJson> = {}) =>
  sampleContent({ tools: [tool("sms", "pool")], ...over });

/** Content built on `base` with no model of its own. */
function derived(base: BaseJson, over: Partial<TemplateContentJson> = {}): TemplateContentJson {
  const { model: _inherited, ...c } = sampleContent({ tools: [], ...over });
  return { ...c, base };
}
const baseOf = (t: Template, version?: number): BaseJson => ({
  template_id: t.id,
  creator_id: t.creatorId,
  ...(version ? { version } : {}),
});

/** The error of a call that must fail, as "Code: message". */
async function refusal(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the call should have been refused").toBeInstanceOf(ConnectError);
  return err as ConnectError;
}

/** A full update signed by `creator`; `acknowledge` signed and sent, or `sent` differing from what was signed. */
async function update(
  creator: TestIdentity,
  t: Pick<Template, "id" | "version">,
  content: TemplateContentJson,
  acknowledge = false,
  sent = acknowledge,
): Promise<Template> {
  const signature = await signOperation(creator.account, "UpdateTemplate", {
    inboxId: creator.inboxId,
    templateId: t.id,
    version: t.version,
    contentHash: jsonHash(content),
    acknowledgeWalletRemoval: acknowledge,
  });
  const res = await client.updateTemplate({
    templateId: t.id,
    expectedVersion: t.version,
    content: contentFromJson(content),
    signature,
    acknowledgeWalletRemoval: sent,
  });
  return res.template!;
}

async function patch(
  creator: TestIdentity,
  t: Pick<Template, "id" | "version">,
  before: TemplateContentJson,
  init: MessageInitShape<typeof TemplatePatchSchema>,
  acknowledge = false,
): Promise<Template> {
  const proto = create(TemplatePatchSchema, init);
  const p = patchToJson(proto);
  const signature = await signOperation(creator.account, "PatchTemplate", {
    inboxId: creator.inboxId,
    templateId: t.id,
    version: t.version,
    patchHash: jsonHash(p),
    contentHash: jsonHash(applyPatch(before, p)),
    acknowledgeWalletRemoval: acknowledge,
  });
  const res = await client.patchTemplate({
    templateId: t.id,
    expectedVersion: t.version,
    patch: proto,
    signature,
    acknowledgeWalletRemoval: acknowledge,
  });
  return res.template!;
}

async function rollback(
  creator: TestIdentity,
  t: Pick<Template, "id" | "version">,
  target: number,
  restored: TemplateContentJson,
  acknowledge = false,
): Promise<Template> {
  const signature = await signOperation(creator.account, "RollbackTemplate", {
    inboxId: creator.inboxId,
    templateId: t.id,
    version: t.version,
    targetVersion: BigInt(target),
    contentHash: jsonHash(restored),
    acknowledgeWalletRemoval: acknowledge,
  });
  const res = await client.rollbackTemplate({
    templateId: t.id,
    expectedVersion: t.version,
    targetVersion: BigInt(target),
    signature,
    acknowledgeWalletRemoval: acknowledge,
  });
  return res.template!;
}

describe("a version without the pool's wallet", () => {
  it("is refused without the creator's acknowledgment, naming the field and why; published with it, its release carrying the signed acknowledgment", async () => {
    const saul = newIdentity();
    const t = await signedTemplate(client, saul, withWallet());

    const err = await refusal(update(saul, t, withoutWallet()));
    expect(Code[err.code]).toBe("FailedPrecondition");
    expect(err.rawMessage).toMatch(/^acknowledge_wallet_removal: /);
    expect(err.rawMessage).toContain(t.id);
    expect(err.rawMessage).toContain(WHY);
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["acknowledge_wallet_removal"]);
    // Nothing was written: the template is where it was.
    expect((await client.getTemplate({ templateId: t.id })).template!.version).toBe(t.version);

    const v3 = await update(saul, t, withoutWallet(), true);
    expect(v3.version).toBe(t.version + 1n);
    const got = await releases.getTemplateRelease({ templateId: t.id });
    expect(got.release!.acknowledgeWalletRemoval).toBe(true);
    // The release checks out as an agent checks it, acknowledgment included...
    const checked = await verifyReleaseChain(verifier, got.release!, [], { templateId: t.id, creatorId: saul.inboxId });
    expect(checked.content.tools.map((x) => x.id)).toEqual(["sms"]);
    // ...and the acknowledgment is the creator's: a release without it does not.
    await expect(
      verifyReleaseChain(verifier, { ...got.release!, acknowledgeWalletRemoval: false }, [], {
        templateId: t.id,
        creatorId: saul.inboxId,
      }),
    ).rejects.toMatchObject({ code: Code.PermissionDenied });
  });

  it("needs no acknowledgment when the wallet stays, or was never there; a given one is kept all the same", async () => {
    const kim = newIdentity();
    const keeps = await signedTemplate(client, kim, withWallet());
    // Dropping another pool tool, keeping the wallet.
    const kept = await update(kim, keeps, sampleContent({ tools: [tool("crypto", "pool")] }));
    expect(kept.version).toBe(keeps.version + 1n);
    const never = await signedTemplate(client, kim, withoutWallet());
    expect((await update(kim, never, sampleContent({ tools: [] }))).version).toBe(never.version + 1n);
    const acked = await update(kim, kept, withWallet({ instructions: "Still a wallet." }), true);
    expect((await releases.getTemplateRelease({ templateId: acked.id })).release!.acknowledgeWalletRemoval).toBe(true);
  });

  it("by a patch or a rollback is refused the same way, and published with the acknowledgment", async () => {
    const ana = newIdentity();
    const start = withoutWallet();
    const t = await signedTemplate(client, ana, start, "private");
    // Version 2 adds the wallet (no acknowledgment needed to add one).
    const v2 = await update(ana, t, withWallet());
    const err = await refusal(patch(ana, v2, withWallet(), { tools: contentFromJson(withoutWallet()).tools }));
    expect(Code[err.code]).toBe("FailedPrecondition");
    expect(err.rawMessage).toMatch(/^acknowledge_wallet_removal: .*their balances go back to their owners/);
    const v3 = await patch(ana, v2, withWallet(), { instructions: "Patched, wallet kept." });
    // Back to version 1, which had no wallet.
    const back = await refusal(rollback(ana, v3, 1, start));
    expect(Code[back.code]).toBe("FailedPrecondition");
    expect(back.rawMessage).toMatch(/^acknowledge_wallet_removal: /);
    const v4 = await rollback(ana, v3, 1, start, true);
    const got = await releases.getTemplateRelease({ templateId: t.id });
    expect(got.release!.version).toBe(v4.version);
    expect(got.release!.acknowledgeWalletRemoval).toBe(true);
    await verifyReleaseChain(verifier, got.release!, [], { templateId: t.id, creatorId: ana.inboxId });
  });

  it("in a base is refused naming the templates that follow it and would lose theirs, not the ones that stay on a version or declare their own", async () => {
    const acme = newIdentity();
    const saul = newIdentity();
    const base = await signedTemplate(client, acme, withWallet({ agent_name: "Acme base" }));
    const follows = await signedTemplate(client, saul, derived(baseOf(base), { agent_name: "Saul's" }));
    const stays = await signedTemplate(client, saul, derived(baseOf(base, 1), { agent_name: "Saul's steady" }));
    const ownWallet = await signedTemplate(
      client,
      saul,
      derived(baseOf(base), { agent_name: "Saul's own", tools: [tool("crypto", "pool")] }),
    );
    // Two levels up, following the follower: its agents lose the wallet too.
    const above = await signedTemplate(client, saul, derived(baseOf(follows), { agent_name: "Saul's above" }));

    const err = await refusal(update(acme, base, withoutWallet({ agent_name: "Acme base" })));
    expect(Code[err.code]).toBe("FailedPrecondition");
    for (const id of [base.id, follows.id, above.id]) expect(err.rawMessage).toContain(id);
    for (const id of [stays.id, ownWallet.id]) expect(err.rawMessage).not.toContain(id);

    await update(acme, base, withoutWallet({ agent_name: "Acme base" }), true);
    const got = await releases.getTemplateRelease({ templateId: follows.id });
    expect(got.bases[0]!.acknowledgeWalletRemoval).toBe(true);
    const checked = await verifyReleaseChain(verifier, got.release!, got.bases, {
      templateId: follows.id,
      creatorId: saul.inboxId,
    });
    expect(checked.content.tools.map((x) => x.id)).toEqual(["sms"]);
  });

  it("by a move to a base without the wallet is refused too, naming the template and those that follow it", async () => {
    const acme = newIdentity();
    const kim = newIdentity();
    // The middle template declares no wallet itself: it has one through its base.
    const bottom = await signedTemplate(client, acme, withWallet({ agent_name: "Acme bottom" }));
    const mid = await signedTemplate(client, acme, derived(baseOf(bottom), { agent_name: "Acme mid" }));
    const top = await signedTemplate(client, kim, derived(baseOf(mid), { agent_name: "Kim's" }));
    // The middle one moves to a base without the wallet: its agents and the top's lose it.
    const plain = await signedTemplate(client, acme, withoutWallet({ agent_name: "Acme plain" }));
    const err = await refusal(update(acme, mid, derived(baseOf(plain), { agent_name: "Acme mid" })));
    expect(Code[err.code]).toBe("FailedPrecondition");
    expect(err.rawMessage).toContain(mid.id);
    expect(err.rawMessage).toContain(top.id);
  });

  it("cannot be published with a signature that does not include the acknowledgment, nor the other way round", async () => {
    const saul = newIdentity();
    const t = await signedTemplate(client, saul, withWallet());
    // Signed without it, sent with it: the typed data differs, so the signature is not the creator's for this.
    const upgraded = await refusal(update(saul, t, withoutWallet(), false, true));
    expect(Code[upgraded.code]).toBe("PermissionDenied");
    // Signed with it, sent without: refused too (not a signature of the request as sent).
    const downgraded = await refusal(update(saul, t, withoutWallet(), true, false));
    expect(Code[downgraded.code]).toBe("PermissionDenied");
    expect((await client.getTemplate({ templateId: t.id })).template!.version).toBe(t.version);
  });
});
