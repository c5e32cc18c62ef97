import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "@convos-pool/kit/service";
import { startLocalAgentMail, startLocalChain, type RunningChain } from "@convos-pool/local-providers";
import { createPublicClient, http, parseEther, type Hex } from "viem";
import {
  AgentMailProvider,
  ChainWalletProvider,
  LocalMailboxProvider,
  LocalSmsProvider,
  LocalWalletProvider,
  ProvisioningError,
  parseNumberRange,
} from "./providers/index.js";
import type { ToolProvider } from "./providers/types.js";
import { createLogger } from "@convos-pool/kit/server";
import { PoolTools } from "./tools/provisioning.js";
import { SecretBox, secretAad } from "./tools/secrets.js";
import { openClaimsTestDatabase } from "../test/database.js";

let db: Database;
let dir: string;

beforeAll(async () => {
  db = await openClaimsTestDatabase("claims_providers", 20);
  dir = await mkdtemp(path.join(tmpdir(), "claims-providers-"));
});

afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const free = async (range: string[]) =>
  (
    await db.em
      .fork()
      .execute<{ n: number }[]>(
        `select count(*)::int as n from sms_numbers where instance_id is null and number in (?)`,
        [range],
      )
  )[0]!.n;

describe("local SMS provider", () => {
  it("parses ranges and refuses bad ones", () => {
    expect(parseNumberRange("+15550100000..+15550109999")).toEqual({
      first: "+15550100000",
      last: "+15550109999",
      size: 10_000,
    });
    expect(parseNumberRange("+15550100000-+15550100009").size).toBe(10);
    for (const bad of [
      "15550100000..15550109999",
      "+1555010000..+15550109999",
      "+15550109999..+15550100000",
      "+1555..+1556",
      "+10000000000..+19999999999",
    ]) {
      expect(() => parseNumberRange(bad), bad).toThrow();
    }
  });

  it("gives each number to one instance under concurrency, refuses when the range is used up, and takes numbers back", async () => {
    const sms = await LocalSmsProvider.open(db.em, "+15550200000..+15550200149"); // 150 numbers
    const all = Array.from({ length: 150 }, (_, i) => `+155502${String(i).padStart(5, "0")}`);
    expect(await free(all)).toBe(150);
    // 200 instances ask at once.
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => sms.provision(`inst_${i}`)));
    const numbers = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.handle] : []));
    expect(numbers).toHaveLength(150);
    expect(new Set(numbers).size).toBe(150);
    expect(numbers.every((n) => all.includes(n))).toBe(true);
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(refused).toHaveLength(50);
    for (const e of refused) {
      expect(e).toBeInstanceOf(ProvisioningError);
      expect((e as ProvisioningError).reason).toBe("exhausted");
    }
    // The table says who has which number.
    const owners = await db.em
      .fork()
      .execute<{ number: string; instance_id: string }[]>(
        `select number, instance_id from sms_numbers where number in (?)`,
        [numbers],
      );
    expect(new Set(owners.map((o) => o.instance_id)).size).toBe(150);

    // Released numbers are free again, and go to the back of the line.
    await sms.release(numbers[0]!);
    await sms.release(numbers[0]!); // idempotent
    expect(await free(all)).toBe(1);
    const again = await sms.provision("inst_again");
    expect(again.handle).toBe(numbers[0]);
    for (const n of numbers.slice(1, 4)) await sms.release(n);
    await new Promise((r) => setTimeout(r, 10)); // released_at has millisecond precision
    await sms.release(again.handle);
    const next = await sms.provision("inst_next");
    expect(next.handle).not.toBe(again.handle); // the longest-free number first
    expect(next.secrets).toEqual({});

    // Reopening with the same range keeps who has what.
    const reopened = await LocalSmsProvider.open(db.em, "+15550200000..+15550200149");
    expect(await free(all)).toBe(3);
    expect(reopened.range.size).toBe(150);
  });
});

describe("local mailbox provider", () => {
  it("creates a maildir mailbox with a unique address and deletes it on release", async () => {
    const mail = new LocalMailboxProvider(path.join(dir, "mailboxes"));
    const a = await mail.provision("inst_a");
    const b = await mail.provision("inst_b");
    expect(a.handle).toMatch(/^[a-z2-7]{16}@agents\.localhost$/);
    expect(a.handle).not.toBe(b.handle);
    const box = path.join(dir, "mailboxes", a.handle);
    expect((await readdir(box)).sort()).toEqual([".mailbox.json", "cur", "new", "tmp"]);
    const meta = JSON.parse(await readFile(path.join(box, ".mailbox.json"), "utf8"));
    expect(meta.address).toBe(a.handle);
    expect(meta.instance_id).toBe("inst_a");
    // The password is the instance's secret; the mailbox keeps only a hash of it.
    expect(a.secrets.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.stringify(meta)).not.toContain(a.secrets.password);

    await mail.release(a.handle);
    await mail.release(a.handle); // idempotent
    expect(await mail.exists(a.handle)).toBe(false);
    expect(await mail.exists(b.handle)).toBe(true);
  });

  it("never touches paths outside its mailboxes", async () => {
    const mail = new LocalMailboxProvider(path.join(dir, "mailboxes2"));
    await writeFile(path.join(dir, "precious"), "keep");
    for (const evil of [
      "../precious",
      "..",
      "",
      "x@agents.localhost/../../precious",
      "AAAAAAAAAAAAAAAA@agents.localhost",
    ]) {
      await expect(mail.release(evil), evil).rejects.toThrow(/not a mailbox address/);
    }
    expect((await stat(path.join(dir, "precious"))).isFile()).toBe(true);
  });

  it("reports itself unavailable when its directory is broken", async () => {
    const root = path.join(dir, "not-a-dir");
    await writeFile(root, "a file where the mailboxes should be");
    const mail = new LocalMailboxProvider(root);
    const err = await mail.provision("inst_x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvisioningError);
    expect((err as ProvisioningError).reason).toBe("unavailable");
  });
});

describe("local wallet provider", () => {
  it("generates a fresh wallet whose private key is the secret", async () => {
    const wallets = new LocalWalletProvider();
    const a = await wallets.provision();
    const b = await wallets.provision();
    expect(a.handle).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(a.handle).not.toBe(b.handle);
    expect(privateKeyToAccount(a.secrets.private_key as `0x${string}`).address).toBe(a.handle);
  });
});

describe("secret box", () => {
  it("seals with AES-256-GCM bound to the row, and opens only with the same key and row", () => {
    const key = SecretBox.generateKey();
    const box = SecretBox.fromConfig(key);
    const secrets = { private_key: "0xdeadbeef", password: "hunter2" };
    const sealed = box.seal(secrets, secretAad("inst_a", "crypto"));
    expect(sealed[0]).toBe(1);
    expect(sealed.toString("latin1")).not.toContain("hunter2");
    expect(sealed.toString("latin1")).not.toContain("deadbeef");
    expect(box.open(sealed, secretAad("inst_a", "crypto"))).toEqual(secrets);
    // Another row, another key, a flipped bit: refused.
    expect(() => box.open(sealed, secretAad("inst_b", "crypto"))).toThrow(/authentication failed/);
    expect(() => SecretBox.fromConfig(SecretBox.generateKey()).open(sealed, secretAad("inst_a", "crypto"))).toThrow(
      /authentication failed/,
    );
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => box.open(tampered, secretAad("inst_a", "crypto"))).toThrow(/authentication failed/);
    // Two seals of the same secrets differ (fresh IV).
    expect(box.seal(secrets, "x").equals(box.seal(secrets, "x"))).toBe(false);
    // The key never shows up when the box is printed.
    expect(JSON.stringify({ box })).not.toContain(key);
  });

  it("takes the key as hex or base64 and refuses anything else", () => {
    const raw = Buffer.alloc(32, 7);
    expect(() => SecretBox.fromConfig(raw.toString("hex"))).not.toThrow();
    expect(() => SecretBox.fromConfig(raw.toString("base64"))).not.toThrow();
    expect(() => SecretBox.fromConfig(raw.toString("base64url"))).not.toThrow();
    for (const bad of [undefined, "", "short", "00".repeat(31), "zz".repeat(32)]) {
      expect(() => SecretBox.fromConfig(bad)).toThrow(/POOL_SECRETS_KEY/);
    }
  });
});

describe("chain wallet provider (on the local chain)", () => {
  let chain: RunningChain;
  beforeAll(async () => {
    chain = await startLocalChain();
  });
  afterAll(async () => {
    await chain?.close();
  });

  it("makes a new wallet empty unless told to fund it", async () => {
    const read = createPublicClient({ transport: http(chain.rpcUrl) });
    const wallets = new ChainWalletProvider({ rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey });
    const empty = await wallets.provision("inst_EMPTYWALLET000000", "crypto");
    expect(await read.getBalance({ address: empty.handle as Hex })).toBe(0n);
    const zero = await wallets.provision("inst_EMPTYWALLET000001", "crypto", { fundWei: 0n });
    expect(await read.getBalance({ address: zero.handle as Hex })).toBe(0n);
  });

  it("funds each new wallet it is told to from the faucet, many at once, and gives the grant back but the fee on release", {
    timeout: 60_000,
  }, async () => {
    const read = createPublicClient({ transport: http(chain.rpcUrl) });
    const wallets = new ChainWalletProvider({ rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey });
    const faucetBefore = await read.getBalance({ address: wallets.faucetAddress });

    const made = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        wallets.provision(`inst_FUNDED${i}`, "crypto", { fundWei: parseEther("0.25") }),
      ),
    );
    expect(new Set(made.map((w) => w.handle)).size).toBe(8);
    for (const w of made) {
      expect(privateKeyToAccount(w.secrets.private_key as Hex).address).toBe(w.handle);
      expect(await read.getBalance({ address: w.handle as Hex })).toBe(parseEther("0.25"));
    }

    const granted = { grantedWei: parseEther("0.25") };
    for (const w of made) expect(await wallets.releaseFunds(w.handle, w.secrets, granted)).toBe("released");
    for (const w of made) expect(await read.getBalance({ address: w.handle as Hex })).toBe(0n);
    // The faucet paid 8 funding fees and got the rest back: within a small fraction of where it began.
    const faucetAfter = await read.getBalance({ address: wallets.faucetAddress });
    expect(faucetBefore - faucetAfter).toBeGreaterThan(0n);
    expect(faucetBefore - faucetAfter).toBeLessThan(parseEther("0.01"));
    // Released again (a retry): nothing left to move, and no error.
    await wallets.releaseFunds(made[0]!.handle, made[0]!.secrets, granted);
    // The key of another wallet is refused rather than used.
    await expect(wallets.releaseFunds(made[0]!.handle, made[1]!.secrets, granted)).rejects.toThrow("another wallet's");
  });

  it("with no grant recorded and no payout address, the whole balance is the owner's: nothing moves, the wallet is held", {
    timeout: 30_000,
  }, async () => {
    const read = createPublicClient({ transport: http(chain.rpcUrl) });
    const wallets = new ChainWalletProvider({ rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey });
    const w = await wallets.provision("inst_HELDWALLET000000", "crypto", { fundWei: parseEther("0.1") });
    const faucetBefore = await read.getBalance({ address: wallets.faucetAddress });
    await expect(wallets.release(w.handle, w.secrets)).rejects.toThrow("holds its owner's funds");
    expect(await wallets.releaseFunds(w.handle, w.secrets, { grantedWei: 0n })).toBe("held");
    expect(await read.getBalance({ address: w.handle as Hex })).toBe(parseEther("0.1"));
    expect(await read.getBalance({ address: wallets.faucetAddress })).toBe(faucetBefore);
  });

  it("a pool that gained a chain still releases the unfunded wallets it made before (a retired provider)", async () => {
    const providers = new Map([
      ["crypto", new ChainWalletProvider({ rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey })],
    ]);
    const box = SecretBox.fromConfig(SecretBox.generateKey());
    const log = createLogger("claims", { level: "silent" });
    const old = await new LocalWalletProvider().provision();
    const ref = {
      instanceId: "inst_OLDWALLET0000000",
      toolId: "crypto",
      provider: "local-wallet",
      handle: old.handle,
      secret: box.seal(old.secrets, secretAad("inst_OLDWALLET0000000", "crypto")),
    };
    expect(await new PoolTools(providers, db.em, box, log).release(ref)).toBe(false);
    expect(await new PoolTools(providers, db.em, box, log, [new LocalWalletProvider()]).release(ref)).toBe(true);
  });

  it("a second chain with the same id and faucet (a restarted local chain) is funded from its own nonces", {
    timeout: 30_000,
  }, async () => {
    // Two wallets on the first chain move the faucet's nonce to 2; the second chain's faucet is at 0.
    const first = new ChainWalletProvider({ rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey });
    const fund = { fundWei: parseEther("0.1") };
    await first.provision("inst_FIRSTCHAIN00000", "crypto", fund);
    await first.provision("inst_FIRSTCHAIN00001", "crypto", fund);
    const other = await startLocalChain();
    try {
      expect(other.faucetKey).toBe(chain.faucetKey);
      const wallets = new ChainWalletProvider({ rpcUrl: other.rpcUrl, faucetKey: other.faucetKey });
      const w = await wallets.provision("inst_OTHERCHAIN00000", "crypto", fund);
      const read = createPublicClient({ transport: http(other.rpcUrl) });
      expect(await read.getBalance({ address: w.handle as Hex })).toBe(parseEther("0.1"));
    } finally {
      await other.close();
    }
  });

  it("says it is unavailable when the chain does not answer", async () => {
    const wallets = new ChainWalletProvider({ rpcUrl: "http://127.0.0.1:9", faucetKey: chain.faucetKey });
    const err = await wallets.provision("inst_NOCHAIN0000000", "crypto", { fundWei: 1n }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvisioningError);
    expect((err as ProvisioningError).reason).toBe("unavailable");
  });
});

describe("pool tools, provisioned by two deliveries at once", () => {
  const box = SecretBox.fromConfig(SecretBox.generateKey());
  const log = createLogger("claims", { level: "silent" });
  const instance = async (id: string) => {
    await db.em
      .fork()
      .execute(`insert into instances (id, state, host_url) values (?, 'idle', 'http://host')`, [id], "run");
    return id;
  };

  it("keep one resource: the other delivery's is given back", async () => {
    const mailboxes = new LocalMailboxProvider(path.join(dir, "race-mailboxes"));
    const tools = new PoolTools(new Map([["email", mailboxes]]), db.em, box, log);
    const id = await instance("inst_RACELOCAL00000000");
    const [a, b] = await Promise.all([tools.provision(id, "email"), tools.provision(id, "email")]);
    expect(a.handle).toBe(b.handle);
    expect(await mailboxes.exists(a.handle)).toBe(true);
    // Only the recorded mailbox is left on disk.
    const left = (await readdir(path.join(dir, "race-mailboxes"))).filter((d) => d.includes("@"));
    expect(left).toEqual([a.handle]);
  });

  it("refuse a resource the provider already gave another instance, and leave it with that instance", async () => {
    const released: string[] = [];
    // A provider at fault: the same number for everyone.
    const sameForAll: ToolProvider = {
      toolId: "sms",
      name: "same-for-all",
      provision: async () => ({ handle: "+15550000000", secrets: {} }),
      release: async (handle) => void released.push(handle),
    };
    const tools = new PoolTools(new Map([["sms", sameForAll]]), db.em, box, log);
    const first = await instance("inst_SAMEFORALL00001");
    const second = await instance("inst_SAMEFORALL00002");
    expect((await tools.provision(first, "sms")).handle).toBe("+15550000000");
    await expect(tools.provision(second, "sms")).rejects.toThrow(
      "provider same-for-all gave this instance a resource another instance holds",
    );
    expect(released).toEqual([]);
    const rows = await db.em
      .fork()
      .execute(`select instance_id from provisioned_tools where provider = 'same-for-all'`);
    expect(rows.map((r) => r.instance_id)).toEqual([first]);
  });

  it("keep the resource an idempotent provider gave both, instead of giving it back", async () => {
    const agentmail = await startLocalAgentMail();
    try {
      const provider = new AgentMailProvider({ apiUrl: agentmail.url, apiKey: agentmail.apiKey });
      const tools = new PoolTools(new Map([["email", provider]]), db.em, box, log);
      const id = await instance("inst_RACEAGENTMAIL000");
      const [a, b] = await Promise.all([tools.provision(id, "email"), tools.provision(id, "email")]);
      expect(a.handle).toBe(b.handle);
      // The recorded inbox is still there: mail reaches it.
      expect(
        agentmail.deliver(a.handle, { from: "saul@example.com", subject: "still there?", text: "yes" }).subject,
      ).toBe("still there?");
    } finally {
      await agentmail.close();
    }
  });
});
