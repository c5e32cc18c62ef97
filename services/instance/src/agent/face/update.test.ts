// The chain check a batch shares (agent/face/update.ts shareReleaseChecks), in memory:
// one check per template and creator expected for the release a batch
// decoded, the same refusal for each agent that expects the same, a check of
// its own for an agent that expects another template or creator, and nothing
// shared with a release that was not registered (a per-agent call).
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SignedTemplateSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  newTemplateIdentity,
  signUpdateRelease,
  type ReleaseVerifier,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { checkReleaseChain, shareReleaseChecks } from "./update.js";

const CREATOR = newIdentity();
const TRIP = newTemplateIdentity(CREATOR.inboxId);

/** A real verifier that counts the signatures it checks. */
function countingVerifier(): ReleaseVerifier & { checks: number } {
  const inner = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
  const v = {
    checks: 0,
    verify: ((...args: Parameters<SignatureVerifier["verify"]>) => {
      v.checks++;
      return inner.verify(...args);
    }) as SignatureVerifier["verify"],
  };
  return v;
}

const release = (signer = CREATOR) =>
  signUpdateRelease(signer.account, { ...TRIP, version: 4n, content: sampleContent({ instructions: "Version 4." }) });

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "applied",
    (e: unknown) => Code[ConnectError.from(e).code],
  );

describe("a batch's chain check", () => {
  it("is made once for every agent that expects the same template and creator, and gives each the same content and key", async () => {
    const verifier = countingVerifier();
    const t = await release();
    shareReleaseChecks(t, []);
    const results = await Promise.all(Array.from({ length: 20 }, () => checkReleaseChain(verifier, t, [], TRIP)));
    expect(verifier.checks).toBe(1);
    for (const r of results) expect(r).toBe(results[0]);
    expect(results[0]!.key).toEqual([4n]);
  });

  it("is made again for an agent that expects another template or creator, which refuses it as alone", async () => {
    const verifier = countingVerifier();
    const t = await release();
    shareReleaseChecks(t, []);
    await checkReleaseChain(verifier, t, [], TRIP);
    expect(await codeOf(checkReleaseChain(verifier, t, [], { ...TRIP, templateId: "tmpl_other" }))).toBe(
      "PermissionDenied",
    );
    expect(await codeOf(checkReleaseChain(verifier, t, [], { ...TRIP, creatorId: newIdentity().inboxId }))).toBe(
      "PermissionDenied",
    );
    // The first expectation is still shared.
    expect(await codeOf(checkReleaseChain(verifier, t, [], TRIP))).toBe("applied");
    expect(verifier.checks).toBe(1);
  });

  it("refuses a forged release for every agent of the batch", async () => {
    const verifier = countingVerifier();
    const forged = await release(newIdentity());
    shareReleaseChecks(forged, []);
    expect(await Promise.all([1, 2, 3].map(() => codeOf(checkReleaseChain(verifier, forged, [], TRIP))))).toEqual(
      Array(3).fill("PermissionDenied"),
    );
  });

  it("is not shared with a release a batch did not register, nor with other bases", async () => {
    const verifier = countingVerifier();
    const t = await release();
    await checkReleaseChain(verifier, t, [], TRIP);
    await checkReleaseChain(verifier, t, [], TRIP);
    expect(verifier.checks).toBe(2);
    // Registered with a base message: a request naming another one is checked on its own.
    const base = create(SignedTemplateSchema, { templateId: "tmpl_base" });
    shareReleaseChecks(t, [base]);
    expect(await codeOf(checkReleaseChain(verifier, t, [], TRIP))).toBe("applied");
    expect(verifier.checks).toBe(3);
  });
});
