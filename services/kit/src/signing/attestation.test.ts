// The verified badge's scheme, checked against the Convos CLI's own
// implementation (node_modules/@xmtp/convos-cli, the code Convos clients
// follow): what the pool's key ring signs, the CLI accepts, and the reverse.
// Real: Node's crypto, @noble/curves, the CLI's module. Nothing stands in.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { AttestationKeyRing, generateAttestationKeyPem } from "./attestation-keys.js";
import { checkAttestation, checkAttestationWithKey, toJwks, type AttestationParts } from "./attestation.js";

// The CLI's module, as a Convos client would run it; typed loosely (it ships JavaScript).
const CLI_DIST = dirname(createRequire(import.meta.url).resolve("@xmtp/convos-cli"));
const convos = (await import(pathToFileURL(join(CLI_DIST, "utils", "attestation.js")).href)) as {
  verifyAttestationWithJwks(
    inboxId: string,
    a: { signature: string; timestamp: string; kid: string },
    jwks: unknown,
  ): { valid: boolean; reason?: string };
  signAttestation(
    inboxId: string,
    pem: string,
    kid: string,
    ts?: string,
  ): { signature: string; timestamp: string; kid: string };
};

const INBOX = "a".repeat(64);
const OTHER = "b".repeat(64);

describe("the pool's attestation keys", () => {
  it("sign with the newest key what the Convos CLI accepts against the pool's JWKS", () => {
    const ring = new AttestationKeyRing([
      { kid: "old", pem: generateAttestationKeyPem(), exp: new Date(Date.now() + 86_400_000).toISOString() },
      { kid: "new", pem: generateAttestationKeyPem() },
    ]);
    const a = ring.attest(INBOX);
    expect(a.kid).toBe("new");
    const jwks = toJwks(ring.publicKeys());
    expect(jwks.keys.map((k) => k.kid)).toEqual(["old", "new"]);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", use: "sig" });
    expect(convos.verifyAttestationWithJwks(INBOX, a, jwks)).toEqual({ valid: true });
    expect(checkAttestation(a, jwks)).toEqual({ valid: true, kid: "new" });
  });

  it("accept what the Convos CLI signs, so both read the scheme alike", () => {
    const pem = generateAttestationKeyPem();
    const ring = new AttestationKeyRing([{ kid: "k1", pem }]);
    const signed = convos.signAttestation(INBOX, pem, "k1");
    expect(checkAttestation({ inboxId: INBOX, ...signed }, toJwks(ring.publicKeys()))).toEqual({
      valid: true,
      kid: "k1",
    });
  });

  it("refuse another inbox's attestation, a tampered one, an old one and an unknown key", () => {
    const ring = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]);
    const jwks = toJwks(ring.publicKeys());
    const a: AttestationParts = ring.attest(INBOX);
    expect(checkAttestation({ ...a, inboxId: OTHER }, jwks)).toMatchObject({ valid: false });
    expect(convos.verifyAttestationWithJwks(OTHER, a, jwks).valid).toBe(false);
    const flipped = a.signature.startsWith("A") ? `B${a.signature.slice(1)}` : `A${a.signature.slice(1)}`;
    expect(checkAttestation({ ...a, signature: flipped }, jwks).valid).toBe(false);
    expect(checkAttestation({ ...a, timestamp: new Date(Date.now() - 1000).toISOString() }, jwks).valid).toBe(false);
    expect(checkAttestation(a, jwks, { now: Date.now() + 25 * 3600_000 })).toMatchObject({
      valid: false,
      reason: expect.stringContaining("too old"),
    });
    expect(checkAttestation({ ...a, kid: "k2" }, jwks)).toMatchObject({
      valid: false,
      reason: expect.stringContaining("no key"),
    });
  });

  it("stop publishing and signing with a key once it expires", () => {
    let now = Date.parse("2026-11-25T00:00:00Z");
    const ring = new AttestationKeyRing(
      [
        { kid: "new", pem: generateAttestationKeyPem(), exp: "2026-11-26T00:00:00Z" },
        { kid: "newest", pem: generateAttestationKeyPem(), exp: "2026-11-25T12:00:00Z" },
      ],
      () => now,
    );
    expect(ring.signingKid).toBe("newest");
    const a = ring.attest(INBOX);
    now = Date.parse("2026-11-25T13:00:00Z");
    expect(ring.signingKid).toBe("new");
    expect(ring.publicKeys().map((k) => k.kid)).toEqual(["new"]);
    expect(checkAttestation(a, toJwks(ring.publicKeys()), { now }).valid).toBe(false);
    now = Date.parse("2026-11-27T00:00:00Z");
    expect(() => ring.attest(INBOX)).toThrow(/expired/);
  });

  it("name a bad key by its place in the list, never by its secret", () => {
    const pem = generateAttestationKeyPem();
    expect(() => AttestationKeyRing.fromJson("not json")).toThrow(/ATTESTATION_KEYS/);
    expect(() => new AttestationKeyRing([{ kid: "k1", pem: pem.replace("PRIVATE", "PUBLIC") }])).toThrow(
      /ATTESTATION_KEYS\[0\]\.pem/,
    );
    try {
      new AttestationKeyRing([{ kid: "k1", pem: `${pem.slice(0, 60)}xx${pem.slice(62)}` }]);
    } catch (err) {
      expect(String(err)).not.toContain(pem.slice(30, 60));
    }
    expect(() => new AttestationKeyRing([{ kid: "bad kid", pem }])).toThrow(/kid/);
  });

  it("check a key given alone as the agent does with the key the pool hands it", () => {
    const ring = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]);
    const a = ring.attest(INBOX);
    expect(checkAttestationWithKey(a, a.x).valid).toBe(true);
    expect(checkAttestationWithKey({ ...a, inboxId: OTHER }, a.x).valid).toBe(false);
  });
});
