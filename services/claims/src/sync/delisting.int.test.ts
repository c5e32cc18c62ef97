// A delisted template in the claims service (docs/store.md): no one but its
// creator adds a new agent of it (FAILED_PRECONDITION with the operators'
// reason), its live agents keep working and keep getting its updates, and
// their owners see that it was delisted and why. The real templates service
// in-process decides the delisting; the instance host is the TEST STAND-IN
// (claims/test/stand-in-host.ts): the subject is the claims service's answer.
import { randomBytes } from "node:crypto";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import type { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { createServiceClient } from "@convos-pool/kit/server";
import { signOperation, signUpdateRelease } from "@convos-pool/kit/signing";
import {
  newIdentity,
  sampleContent,
  signedTemplate,
  type TestIdentity,
  creationNonceOf,
} from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { as, expectCode } from "../../test/helpers.js";
import { StandInStack } from "../../test/stand-in-stack.js";

const operator = newIdentity();
/** The claims service's template cache, shorter here than its default: a delisting shows once it has passed. */
const TEMPLATE_CACHE_MS = 200;
const stack = new StandInStack({
  name: "delisting",
  smsRange: "+15550610000..+15550610019",
  operators: [operator.inboxId],
  templateCacheMs: TEMPLATE_CACHE_MS,
});
const cachePassed = () => new Promise((r) => setTimeout(r, TEMPLATE_CACHE_MS + 20));
let claimsClient: Client<typeof ClaimService>;
let syncClient: Client<typeof TemplateSyncService>;
let curation: Client<typeof StoreCurationService>;

async function claim(requester: TestIdentity, templateId: string) {
  const conversationInvite = `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`;
  return (await claimsClient.claim({ requester: requester.inboxId, templateId, conversationInvite }, as(requester)))
    .instanceId;
}

beforeAll(async () => {
  await stack.start();
  ({ claimsClient, syncClient } = stack);
  curation = createServiceClient(StoreCurationService, stack.templates.url, stack.creds.gateway).client;
});

afterAll(() => stack.close());

describe("a delisted template", () => {
  it("takes no new agents but its creator's; its agents keep working and updating, and their owners see why", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const content = sampleContent({ tools: [] });
    const t = await signedTemplate(stack.templatesClient, creator, content);
    await stack.seedIdle(3);
    const agent = await claim(owner, t.id);

    const reason = "It impersonates a bank.";
    const signature = await signOperation(operator.account, "DelistTemplate", {
      inboxId: operator.inboxId,
      templateId: t.id,
      reason,
    });
    await curation.delistTemplate({ operatorId: operator.inboxId, templateId: t.id, reason, signature });
    // The claims service reads templates through a cache (templates/cache.ts): it must pass.
    await cachePassed();

    const refused = await expectCode(claim(newIdentity(), t.id), Code.FailedPrecondition);
    expect(refused.rawMessage).toContain(`template ${t.id} was delisted from the store by its operators (${reason})`);
    // The same person who already has one is refused a second.
    await expectCode(claim(owner, t.id), Code.FailedPrecondition);
    // Its creator still may, to try a fix before asking for a review.
    expect(await claim(creator, t.id)).toMatch(/^inst_/);

    // The owner's agent keeps running, and shows the delisting: its reason and when, not the operators' review.
    const listed = (await claimsClient.listOwnerAgents({ ownerId: owner.inboxId }, as(owner))).instances;
    expect(listed.map((i) => [i.id, i.state, i.templateDelisting?.reason])).toEqual([
      [agent, InstanceState.CLAIMED, reason],
    ]);
    expect(listed[0]!.templateDelisting?.delistedAt).toBeDefined();
    expect(listed[0]!.templateDelisting?.operatorId).toBe("");
    const one = (await claimsClient.getInstance({ instanceId: agent }, as(owner))).instance!;
    expect(one.templateDelisting?.reason).toBe(reason);

    // The creator's fix still reaches it.
    const fix = await signUpdateRelease(creator.account, {
      templateId: t.id,
      creatorId: creator.inboxId,
      creationNonce: creationNonceOf(t.id),
      version: t.version + 1n,
      content: { ...content, instructions: "You are a travel planner. You never say you are a bank." },
    });
    expect((await syncClient.pushTemplateVersion({ template: fix })).instances).toBe(2);
    await waitFor(
      "the update reaching the agent",
      () => stack.host.instances.get(agent)?.appliedVersion === Number(t.version + 1n),
      15_000,
    );

    // Relisted: new agents again, and the owner's listing no longer shows it.
    const relist = await signOperation(operator.account, "RelistTemplate", {
      inboxId: operator.inboxId,
      templateId: t.id,
      note: "",
    });
    await curation.relistTemplate({ operatorId: operator.inboxId, templateId: t.id, note: "", signature: relist });
    await cachePassed();
    expect(await claim(newIdentity(), t.id)).toMatch(/^inst_/);
    expect(
      (await claimsClient.getInstance({ instanceId: agent }, as(owner))).instance?.templateDelisting,
    ).toBeUndefined();
  });
});
