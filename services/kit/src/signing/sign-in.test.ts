import fc from "fast-check";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { parseSiweMessage, validateSiweMessage } from "viem/siwe";
import { describe, expect, it } from "vitest";
import { codeOf } from "../../test/fixtures.js";
import { DerivedInboxResolver, deriveInboxId } from "./inbox.js";
import { LOCAL_POOL_ID } from "./sign.js";
import { signInMessage, signSignIn, type SignIn } from "./sign-in.js";
import { SignatureVerifier } from "./signatures.js";

const account = privateKeyToAccount(generatePrivateKey());
const inboxId = deriveInboxId(account.address);
const GATEWAY = "https://pool.example/";
const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });

describe("signInMessage", () => {
  it("is EIP-4361 text a wallet checks against the page: scheme, domain, address, the inbox and pool, five minutes", async () => {
    let shown = "";
    const s = await signSignIn(
      {
        address: account.address,
        signMessage: (a) => {
          shown = a.message;
          return account.signMessage(a);
        },
      },
      inboxId,
      GATEWAY,
      1_800_000_000,
    );
    const parsed = parseSiweMessage(shown);
    expect(parsed).toMatchObject({
      scheme: "https",
      domain: "pool.example",
      address: account.address,
      uri: GATEWAY,
      chainId: 1,
    });
    expect(parsed.statement).toBe(`Sign in to the Convos agent pool "local" as the inbox ${inboxId}.`);
    expect(parsed.nonce).toBe(s.signature.nonce.slice(2));
    // A wallet (or viem) taking it on the real page accepts it; on a look-alike's page it does not.
    const time = new Date(1_800_000_060_000);
    expect(validateSiweMessage({ message: parsed, domain: "pool.example", time })).toBe(true);
    expect(validateSiweMessage({ message: parsed, domain: "pool-example.com", time })).toBe(false);
    expect(shown).toBe(
      signInMessage({ ...s, poolId: LOCAL_POOL_ID, nonce: s.signature.nonce, issuedAt: 1_800_000_000 }),
    );
  });
});

/** A lower-case DNS label (fast-check's domain and path arbitraries cost seconds on first use). */
const label = fc
  .array(fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"), { minLength: 1, maxLength: 12 })
  .map((c) => c.join(""));

describe("SignatureVerifier.verifySignIn", () => {
  it("takes a sign-in as made, and nothing changed in it: place, inbox, wallet, time or nonce", async () => {
    const s = await signSignIn(account, inboxId, GATEWAY);
    expect((await verifier.verifySignIn(s)).address).toBe(account.address);
    const other = privateKeyToAccount(generatePrivateKey());
    const changes: [string, (s: SignIn) => SignIn][] = [
      ["origin", (s) => ({ ...s, origin: "https://pool.example.net", uri: "https://pool.example.net/" })],
      ["uri", (s) => ({ ...s, uri: "https://pool.example/api" })],
      ["inbox", (s) => ({ ...s, inboxId: deriveInboxId(other.address) })],
      ["address", (s) => ({ ...s, address: other.address })],
      ["time", (s) => ({ ...s, signature: { ...s.signature, issuedAt: s.signature.issuedAt - 1n } })],
      ["nonce", (s) => ({ ...s, signature: { ...s.signature, nonce: `0x${"0".repeat(64)}` } })],
    ];
    for (const [what, change] of changes) {
      expect(await codeOf(verifier.verifySignIn(change(s))), what).toBe("Unauthenticated");
    }
  });

  it("refuses another wallet's sign-in in the inbox's name (PERMISSION_DENIED, address), another pool's, and an old one", async () => {
    const other = privateKeyToAccount(generatePrivateKey());
    expect(await codeOf(verifier.verifySignIn(await signSignIn(other, inboxId, GATEWAY)))).toBe("PermissionDenied");
    expect(
      await codeOf(verifier.verifySignIn(await signSignIn(account, inboxId, GATEWAY, undefined, "pool-west"))),
    ).toBe("Unauthenticated");
    const old = await signSignIn(account, inboxId, GATEWAY, Math.floor(Date.now() / 1000) - 301);
    await expect(verifier.verifySignIn(old)).rejects.toThrow(/issued_at: outside the accepted window of 300 s/);
  });

  it("names the field of a malformed sign-in", async () => {
    const s = await signSignIn(account, inboxId, GATEWAY);
    await expect(verifier.verifySignIn({ ...s, address: "0x12" })).rejects.toThrow(/^\[invalid_argument\] address: /);
    await expect(verifier.verifySignIn({ ...s, signature: undefined })).rejects.toThrow(/signature: required/);
    await expect(
      verifier.verifySignIn({ ...s, origin: "http://[::1]:8080", uri: "http://[::1]:8080/" }),
    ).rejects.toThrow(/origin: must be a host/);
  });

  it("never takes a sign-in whose fields differ from the signed ones (property)", async () => {
    const s = await signSignIn(account, inboxId, GATEWAY);
    await fc.assert(
      fc.asyncProperty(label, fc.constantFrom("example", "com", "net", "pool"), label, async (name, tld, path) => {
        const origin = `https://${name}.${tld}`;
        fc.pre(origin !== "https://pool.example");
        expect(await codeOf(verifier.verifySignIn({ ...s, origin, uri: `${origin}/${path}` }))).not.toBe("ok");
      }),
      { numRuns: 25 },
    );
  });
});
