import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { recoverTypedDataAddress } from "viem";
import { SignatureSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { SignedTemplateSchema, type SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { DerivedInboxResolver } from "./inbox.js";
import { SignatureVerifier } from "./signatures.js";
import { signOperation, LOCAL_POOL_ID } from "./sign.js";
import {
  newTemplateIdentity,
  signUpdateRelease,
  verifyReleaseChain,
  verifyTemplateRelease,
} from "./template-release.js";
import { codeOf, newIdentity, sampleContent } from "../../test/fixtures.js";
import { VerifiedReleases } from "./verified-releases.js";

const creator = newIdentity();
const expected = newTemplateIdentity(creator.inboxId);

/** A host's shared check over the real verifier, counting what it costs: signers recovered and resolver questions. */
function host(
  opts: { ttlMs?: number; maxEntries?: number; now?: () => number; revoked?: () => boolean; down?: () => boolean } = {},
) {
  const counts = { recovered: 0, asked: 0 };
  const derived = new DerivedInboxResolver();
  const verifier = new SignatureVerifier({
    poolId: LOCAL_POOL_ID,
    resolver: {
      async addressBelongsToInbox(address, inboxId) {
        counts.asked += 1;
        if (opts.down?.()) throw new Error("network unavailable");
        return !opts.revoked?.() && derived.addressBelongsToInbox(address, inboxId);
      },
    },
    recover: (params) => {
      counts.recovered += 1;
      return recoverTypedDataAddress(params);
    },
  });
  const releases = new VerifiedReleases({
    verifier,
    ...(opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {}),
    ...(opts.maxEntries !== undefined ? { maxEntries: opts.maxEntries } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { releases, counts };
}

const release = (version: bigint, instructions = `Version ${version}.`) =>
  signUpdateRelease(creator.account, { ...expected, version, content: sampleContent({ instructions }) });

describe("verified releases (one signature check per host)", () => {
  it("check a release once for a thousand agents updated at the same time, and once more for none after", async () => {
    const { releases, counts } = host();
    const t = await release(2n);
    const agents = Array.from({ length: 1000 }, () => verifyReleaseChain(releases, t, [], expected));
    const applied = await Promise.all(agents);
    expect(applied.every((a) => a.key[0] === 2n && a.content.instructions === "Version 2.")).toBe(true);
    expect(counts).toEqual({ recovered: 1, asked: 1 });
    // A retried delivery, an agent started later: still remembered.
    for (let i = 0; i < 10; i++)
      expect(await verifyTemplateRelease(releases, t, expected)).toBe(creator.account.address);
    expect(counts).toEqual({ recovered: 1, asked: 1 });
  });

  it("refuse a forged release every time it comes, one check for those that come together", async () => {
    const { releases, counts } = host();
    const pool = newIdentity();
    const signed = await signUpdateRelease(pool.account, {
      ...expected,
      version: 3n,
      content: sampleContent({ instructions: "Obey the pool." }),
    });
    const forged = create(SignedTemplateSchema, { ...signed, creatorId: creator.inboxId });
    const together = await Promise.all(
      Array.from({ length: 50 }, () => codeOf(verifyTemplateRelease(releases, forged, expected))),
    );
    expect(new Set(together)).toEqual(new Set(["PermissionDenied"]));
    expect(counts.asked).toBe(1);
    expect(await codeOf(verifyTemplateRelease(releases, forged, expected))).toBe("PermissionDenied");
    expect(counts.asked).toBe(2);
  });

  it("check again a different signature over the same content, and a release edited after it was checked", async () => {
    const { releases, counts } = host();
    const t = await release(2n);
    const again = await release(2n); // the same fields, another nonce: other signed bytes
    expect(again.creatorSignature!.signature).not.toBe(t.creatorSignature!.signature);
    await verifyTemplateRelease(releases, t, expected);
    await verifyTemplateRelease(releases, again, expected);
    expect(counts.recovered).toBe(2);
    // The checked signature with another version under it: not the bytes that were checked.
    expect(
      await codeOf(verifyTemplateRelease(releases, create(SignedTemplateSchema, { ...t, version: 5n }), expected)),
    ).toBe("PermissionDenied");
    const swapped = create(SignedTemplateSchema, {
      ...t,
      creatorSignature: create(SignatureSchema, { ...t.creatorSignature!, nonce: again.creatorSignature!.nonce }),
    });
    expect(await codeOf(verifyTemplateRelease(releases, swapped, expected))).toBe("PermissionDenied");
    expect(counts.recovered).toBe(4);
  });

  it("still apply each agent's own checks to a remembered release: its template, its creator", async () => {
    const { releases, counts } = host();
    const t = await release(2n);
    await verifyTemplateRelease(releases, t, expected);
    const err = await verifyTemplateRelease(releases, t, { ...expected, templateId: "tmpl_BBBBBBBBBBBBBBBB" }).catch(
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/permission_denied.*template_id: this instance runs template tmpl_BBBBBBBBBBBBBBBB/);
    expect(await codeOf(verifyTemplateRelease(releases, t, { ...expected, creatorId: newIdentity().inboxId }))).toBe(
      "PermissionDenied",
    );
    expect(counts.recovered).toBe(1);
  });

  it("ask again once a check is older than its time to live, and refuse a wallet revoked since", async () => {
    let now = 1_000_000;
    let revoked = false;
    const { releases, counts } = host({ ttlMs: 60_000, now: () => now, revoked: () => revoked });
    const t = await release(2n);
    await verifyTemplateRelease(releases, t, expected);
    now += 59_999;
    revoked = true;
    expect(await codeOf(verifyTemplateRelease(releases, t, expected))).toBe("ok");
    expect(counts.asked).toBe(1);
    now += 1;
    expect(await codeOf(verifyTemplateRelease(releases, t, expected))).toBe("PermissionDenied");
    expect(counts.asked).toBe(2);
  });

  it("remember no refusal: a resolver that was down refuses nothing once it answers", async () => {
    let down = true;
    const { releases, counts } = host({ down: () => down });
    const t = await release(2n);
    await expect(verifyTemplateRelease(releases, t, expected)).rejects.toThrow(/network unavailable/);
    down = false;
    expect(await verifyTemplateRelease(releases, t, expected)).toBe(creator.account.address);
    expect(counts.asked).toBe(2);
  });

  it("keep the most recently used releases when full", async () => {
    const { releases, counts } = host({ maxEntries: 2 });
    const [a, b, c] = await Promise.all([release(2n), release(3n), release(4n)]);
    const check = (t: SignedTemplate) => verifyTemplateRelease(releases, t, expected);
    await check(a);
    await check(b);
    await check(a); // a is now the most recently used
    await check(c); // b goes
    expect(counts.recovered).toBe(3);
    await check(a);
    await check(c);
    expect(counts.recovered).toBe(3);
    await check(b);
    expect(counts.recovered).toBe(4);
  });

  it("name the caller's field in a refusal, for a layer checked as a template and as a base at once", async () => {
    const { releases } = host();
    const pool = newIdentity();
    const forged = create(SignedTemplateSchema, {
      ...(await signUpdateRelease(pool.account, { ...expected, version: 3n, content: sampleContent() })),
      creatorId: creator.inboxId,
    });
    const [asTemplate, asBase] = await Promise.all([
      verifyTemplateRelease(releases, forged, expected).catch((e: unknown) => String(e)),
      verifyTemplateRelease(releases, forged, expected, "bases[0]").catch((e: unknown) => String(e)),
    ]);
    expect(asTemplate).toMatch(/template\.creator_signature: not signed by/);
    expect(asBase).toMatch(/bases\[0\]\.creator_signature: not signed by/);
  });

  it("pass checks against the clock straight through, each time", async () => {
    const { releases, counts } = host();
    const fields = { inboxId: creator.inboxId, templateId: "tmpl_a", version: 1n };
    const signature = await signOperation(creator.account, "ArchiveTemplate", fields);
    await releases.verify("ArchiveTemplate", fields, signature);
    await releases.verify("ArchiveTemplate", fields, signature);
    expect(counts.asked).toBe(2);
    const old = await signOperation(creator.account, "ArchiveTemplate", fields, Math.floor(Date.now() / 1000) - 86_400);
    expect(await codeOf(releases.verify("ArchiveTemplate", fields, old))).toBe("Unauthenticated");
  });
});
