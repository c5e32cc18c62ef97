import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { deriveInboxId } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { createXmtpClient, walletSigner } from "./client.js";
import { XmtpInboxResolver, ethereumIdentifier } from "./identity.js";

let node: RunningDevnode;
let dir: string;

beforeAll(async () => {
  node = await startDevnode({ port: 0, databaseUrl: await createTestDatabase("identity") });
  dir = await mkdtemp(join(tmpdir(), "xmtp-identity-"));
});

afterAll(async () => {
  await node?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("XmtpInboxResolver (the network's word on who owns an inbox)", () => {
  it("follows wallets added to an inbox later and removed from it; a cached yes lasts its cache time", {
    timeout: 60_000,
  }, async () => {
    const first = privateKeyToAccount(generatePrivateKey());
    const second = privateKeyToAccount(generatePrivateKey());
    const client = await createXmtpClient(first, {
      apiUrl: node.url,
      dbPath: join(dir, "first.db3"),
      dbEncryptionKey: randomBytes(32),
    });
    onTestFinished(() => client.close());
    const resolver = await XmtpInboxResolver.connect({ apiUrl: node.url, cacheMs: 0 });
    const cached = await XmtpInboxResolver.connect({ apiUrl: node.url, cacheMs: 60_000 });
    const inbox = client.inboxId;

    expect(await resolver.addressBelongsToInbox(first.address, inbox)).toBe(true);
    expect(await resolver.addressBelongsToInbox(second.address, inbox)).toBe(false);

    await client.unsafe_addAccount(walletSigner(second), true);
    expect(await resolver.addressBelongsToInbox(second.address, inbox)).toBe(true);
    expect(await cached.addressBelongsToInbox(second.address, inbox)).toBe(true);

    await client.removeAccount(ethereumIdentifier(second.address));
    expect(await resolver.addressBelongsToInbox(second.address, inbox)).toBe(false);
    expect(await resolver.addressBelongsToInbox(first.address, inbox)).toBe(true);
    // Within its cache time the cached resolver still says yes: the documented price of the cache.
    expect(await cached.addressBelongsToInbox(second.address, inbox)).toBe(true);
  });

  it("answers by derivation for an inbox nobody has created yet, and only for its own wallet", async () => {
    const resolver = await XmtpInboxResolver.connect({ apiUrl: node.url, cacheMs: 0 });
    const fresh = privateKeyToAccount(generatePrivateKey());
    const other = privateKeyToAccount(generatePrivateKey());
    const inbox = deriveInboxId(fresh.address);
    expect(await resolver.addressBelongsToInbox(fresh.address, inbox)).toBe(true);
    expect(await resolver.addressBelongsToInbox(other.address, inbox)).toBe(false);
  });
});
