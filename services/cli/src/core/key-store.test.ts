import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deriveInboxId } from "@convos-pool/kit/signing";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "./errors.js";
import {
  convosWalletKey,
  createKey,
  loadKey,
  readSession,
  sessionFileFor,
  sessionUsable,
  writeSession,
} from "./key-store.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-cli-key-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe("key store", () => {
  it("creates the key file with mode 0600 in a new 0700 directory and derives the inbox", async () => {
    const file = join(dir, "nested", "cli", "key.json");
    const id = await createKey(file);
    expect(await mode(file)).toBe(0o600);
    expect(await mode(join(dir, "nested", "cli"))).toBe(0o700);
    expect(id.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(id.inbox_id).toBe(deriveInboxId(id.address));
    expect(id).not.toHaveProperty("private_key");
    const loaded = await loadKey(file);
    expect(loaded.address).toBe(id.address);
    expect(loaded.inbox_id).toBe(id.inbox_id);
    const stored = JSON.parse(await readFile(file, "utf8")) as { private_key: string };
    expect(stored.private_key).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it("refuses to overwrite a key without force, replaces it with force", async () => {
    const file = join(dir, "key.json");
    const first = await createKey(file);
    const before = await readFile(file, "utf8");
    await expect(createKey(file)).rejects.toThrow(CliError);
    await expect(createKey(file)).rejects.toThrow(/already exists; use --force/);
    expect(await readFile(file, "utf8")).toBe(before);
    const second = await createKey(file, { force: true });
    expect(second.address).not.toBe(first.address);
    expect(await mode(file)).toBe(0o600);
    expect((await loadKey(file)).address).toBe(second.address);
  });

  it("takes a Convos CLI's identity as the key, so its person signs as themself, and refuses a home without one", async () => {
    const home = join(dir, "convos-home");
    await mkdir(home, { recursive: true });
    const walletKey = generatePrivateKey();
    await writeFile(join(home, "identity.json"), JSON.stringify({ id: "x", walletKey }));
    const file = join(dir, "from-convos.json");
    const id = await createKey(file, { privateKey: await convosWalletKey(home) });
    expect(id.address).toBe(privateKeyToAccount(walletKey).address);
    expect((await loadKey(file)).address).toBe(id.address);
    expect(await mode(file)).toBe(0o600);
    await expect(convosWalletKey(join(dir, "nowhere"))).rejects.toThrow(/no Convos CLI identity there/);
    await writeFile(join(home, "identity.json"), JSON.stringify({ walletKey: "0x12" }));
    await expect(convosWalletKey(home)).rejects.toThrow(/no walletKey of 32 bytes hex/);
  });

  it("refuses an identity whose recorded inbox is not the one its key creates: the key would sign as someone else", async () => {
    const home = join(dir, "convos-mismatch");
    await mkdir(home, { recursive: true });
    const walletKey = generatePrivateKey();
    const inboxId = deriveInboxId(privateKeyToAccount(walletKey).address);
    await writeFile(join(home, "identity.json"), JSON.stringify({ walletKey, inboxId }));
    expect(await convosWalletKey(home)).toBe(walletKey);
    await writeFile(join(home, "identity.json"), JSON.stringify({ walletKey, inboxId: "f".repeat(64) }));
    await expect(convosWalletKey(home)).rejects.toThrow(/is not the one its key creates/);
  });

  it("picks the identity of one conversation where a home keeps one per conversation, and asks which when it cannot tell", async () => {
    const home = join(dir, "convos-per-conversation");
    await mkdir(join(home, "identities"), { recursive: true });
    const [a, b] = [generatePrivateKey(), generatePrivateKey()];
    await writeFile(join(home, "identities", "a.json"), JSON.stringify({ walletKey: a, conversationId: "conv-a" }));
    await writeFile(join(home, "identities", "b.json"), JSON.stringify({ walletKey: b, conversationId: "conv-b" }));
    expect(await convosWalletKey(home, "conv-b")).toBe(b);
    expect(await convosWalletKey(home, "conv-a")).toBe(a);
    await expect(convosWalletKey(home)).rejects.toThrow(/pick one with --conversation ID/);
    await expect(convosWalletKey(home, "conv-c")).rejects.toThrow(/no identity of conversation conv-c there/);
    // Today's single identity is the person in every conversation of its home.
    const single = generatePrivateKey();
    await writeFile(join(home, "identity.json"), JSON.stringify({ walletKey: single }));
    expect(await convosWalletKey(home, "conv-c")).toBe(single);
    expect(await convosWalletKey(home, "conv-a")).toBe(a);
  });

  it("says how to make a key when there is none, and refuses a file that is not one", async () => {
    await expect(loadKey(join(dir, "none.json"))).rejects.toThrow(/pool keygen/);
    await writeFile(join(dir, "bad.json"), '{"private_key":"0x12"}');
    await expect(loadKey(join(dir, "bad.json"))).rejects.toThrow(/not a key file/);
  });

  it("keeps the session beside the key, 0600, and forgets it when the key is replaced", async () => {
    const file = join(dir, "key.json");
    const id = await createKey(file);
    expect(sessionFileFor(file)).toBe(join(dir, "key.session.json"));
    const session = {
      url: "http://127.0.0.1:8080",
      inbox_id: id.inbox_id,
      token: "v1.secret",
      expires_at: "2999-01-01T00:00:00.000Z",
    };
    await writeSession(file, session);
    expect(await mode(sessionFileFor(file))).toBe(0o600);
    expect(await readSession(file)).toEqual(session);
    await createKey(file, { force: true });
    expect(await readSession(file)).toBeUndefined();
  });

  it("uses a session only for its server and inbox, before it expires", () => {
    const s = { url: "http://a", inbox_id: "i", token: "t", expires_at: "2030-01-01T00:00:00.000Z" };
    const before = Date.parse("2029-12-31T00:00:00.000Z");
    expect(sessionUsable(s, "http://a", "i", before)).toBe(true);
    expect(sessionUsable(s, "http://b", "i", before)).toBe(false);
    expect(sessionUsable(s, "http://a", "j", before)).toBe(false);
    expect(sessionUsable(s, "http://a", "i", Date.parse("2030-01-01T00:00:00.000Z"))).toBe(false);
    expect(sessionUsable(undefined, "http://a", "i", before)).toBe(false);
  });
});
