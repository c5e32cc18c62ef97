import { fc, test as fcTest } from "@fast-check/vitest";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { deriveInboxId } from "./inbox.js";
import { ConnectError, Code } from "@connectrpc/connect";
import {
  memoryKeyMessage,
  openSealed,
  recipientKey,
  sealTo,
  SealedBoxError,
  verifyMemoryKey,
  x25519KeyPair,
} from "./sealed-box.js";

const text = (s: string) => new TextEncoder().encode(s);

describe("sealed boxes", () => {
  it("open to the plaintext with the recipient's private key, and each box is sealed with a fresh ephemeral key", async () => {
    const owner = x25519KeyPair();
    const a = await sealTo(owner.publicKey, text("Saul is vegetarian"));
    const b = await sealTo(owner.publicKey, text("Saul is vegetarian"));
    expect(new TextDecoder().decode(await openSealed(owner.privateKey, a))).toBe("Saul is vegetarian");
    expect(a.ephemeralPublicKey).not.toEqual(b.ephemeralPublicKey);
    expect(a.ciphertext).not.toEqual(b.ciphertext);
    expect(a.ciphertext.length).toBe("Saul is vegetarian".length + 16);
  });

  it("do not open with another key", async () => {
    const box = await sealTo(x25519KeyPair().publicKey, text("secret"));
    await expect(openSealed(x25519KeyPair().privateKey, box)).rejects.toThrow(/does not open with this key/);
  });

  // One owner and one box for every run (it opens whole: the test above): what a run varies is the byte changed
  // and in which part; a fresh key and box a run were two more key agreements a run, most of the property's time.
  const sealedOnce = (async () => {
    const owner = x25519KeyPair();
    return { owner, box: await sealTo(owner.publicKey, text("a lesson worth keeping")) };
  })();

  fcTest.prop([fc.nat(), fc.integer({ min: 0, max: 2 })])(
    "do not open once any byte of them changed",
    async (at, part) => {
      const { owner, box } = await sealedOnce;
      const field = (["ephemeralPublicKey", "nonce", "ciphertext"] as const)[part]!;
      const bytes = box[field].slice();
      bytes[at % bytes.length]! ^= 0x01;
      await expect(openSealed(owner.privateKey, { ...box, [field]: bytes })).rejects.toThrow(SealedBoxError);
    },
  );

  it("refuse keys, nonces and ciphertexts of the wrong length, naming which", async () => {
    const owner = x25519KeyPair();
    const box = await sealTo(owner.publicKey, text("x"));
    await expect(sealTo(new Uint8Array(31), text("x"))).rejects.toThrow("recipient public key is 31 bytes, not 32");
    await expect(openSealed(new Uint8Array(33), box)).rejects.toThrow("private key is 33 bytes, not 32");
    await expect(openSealed(owner.privateKey, { ...box, nonce: new Uint8Array(8) })).rejects.toThrow(
      "nonce is 8 bytes, not 12",
    );
    await expect(openSealed(owner.privateKey, { ...box, ephemeralPublicKey: new Uint8Array(0) })).rejects.toThrow(
      "ephemeral public key is 0 bytes, not 32",
    );
    await expect(openSealed(owner.privateKey, { ...box, ciphertext: new Uint8Array(15) })).rejects.toThrow(
      /shorter than its 16-byte tag/,
    );
  });
});

describe("a request's recipient key", () => {
  it("is taken as it is when it is an X25519 public key", () => {
    const { publicKey } = x25519KeyPair();
    expect(recipientKey(publicKey)).toBe(publicKey);
  });

  it("is refused with INVALID_ARGUMENT naming recipient_key and its length when it is not 32 bytes", () => {
    const e = (() => {
      try {
        recipientKey(new Uint8Array(31));
      } catch (err) {
        return ConnectError.from(err);
      }
      throw new Error("a 31-byte key was taken");
    })();
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.rawMessage).toMatch(/recipient_key.*not 31/);
  });
});

describe("memory keys", () => {
  const wallet = privateKeyToAccount(generatePrivateKey());
  const inboxId = deriveInboxId(wallet.address, 1);
  const signed = async (instanceId: string, publicKey: Uint8Array, signer = wallet) => ({
    publicKey,
    agentAddress: wallet.address,
    keySignature: await signer.signMessage({ message: memoryKeyMessage(instanceId, publicKey) }),
  });

  it("check out when the agent's wallet signed this key for this instance and the wallet is the agent's inbox's", async () => {
    const { publicKey } = x25519KeyPair();
    await expect(verifyMemoryKey(await signed("inst_1", publicKey), "inst_1", inboxId)).resolves.toBeUndefined();
    await expect(
      verifyMemoryKey(await signed("inst_1", publicKey), "inst_1", deriveInboxId(wallet.address, 0)),
    ).resolves.toBeUndefined();
  });

  it("are refused when the pool put another key, another instance's key, another signer, or another inbox", async () => {
    const { publicKey } = x25519KeyPair();
    const key = await signed("inst_1", publicKey);
    await expect(verifyMemoryKey({ ...key, publicKey: x25519KeyPair().publicKey }, "inst_1", inboxId)).rejects.toThrow(
      /not the agent address's signature/,
    );
    await expect(verifyMemoryKey(key, "inst_2", inboxId)).rejects.toThrow(/not the agent address's signature/);
    const other = privateKeyToAccount(generatePrivateKey());
    await expect(verifyMemoryKey(await signed("inst_1", publicKey, other), "inst_1", inboxId)).rejects.toThrow(
      /not the agent address's signature/,
    );
    await expect(verifyMemoryKey(key, "inst_1", deriveInboxId(other.address, 1))).rejects.toThrow(
      /does not belong to the agent's inbox/,
    );
    await expect(verifyMemoryKey({ ...key, keySignature: "0x12" }, "inst_1", inboxId)).rejects.toThrow(/malformed/);
  });

  it("sign the exact text memory.proto names", () => {
    expect(memoryKeyMessage("inst_1", new Uint8Array(32).fill(0xab))).toBe(
      `Convos Agent Pool memory key\ninstance: inst_1\nkey: 0x${"ab".repeat(32)}`,
    );
  });
});
