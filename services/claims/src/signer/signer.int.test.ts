// The payment signer against a host that asks it for everything
// (docs/security.md, "Agents' money"). Real: the claims service on a test
// database of PostgreSQL, in this process, called over the wire under real
// credentials (two hosts' own, the hosts' shared one, the gateway's); a local
// chain (anvil) the signed transactions are sent to. The agent's row and its
// wallet's sealed key are written straight into the claims database, as a
// claim writes them. Scored on what happened: balances on the chain, the
// ledger's rows, the service's log.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import {
  createPublicClient,
  createWalletClient,
  type Hex,
  hexToString,
  http,
  parseEther,
  parseGwei,
  toHex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaymentSignerService } from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import {
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  hostCredentials,
  type ServiceCredentials,
} from "@convos-pool/kit/server";
import { startLocalChain, type RunningChain } from "@convos-pool/local-providers";
import { createTestDatabase, freePort } from "@convos-pool/testing";
import { type Database, openDatabase } from "@convos-pool/kit/service";
import { entities } from "../db/entities.js";
import { migrations } from "../schema/migrations.js";
import { startClaimsService, type RunningClaimsService } from "../server.js";
import { ledgerOf } from "./sql.js";
import { secretAad, SecretBox } from "../tools/secrets.js";
import { refusal } from "@convos-pool/kit/testing";

const A = "http://host-a.test:7100";
const B = "http://host-b.test:7100";
const CREDS = generateServiceCredentials(undefined, [A, B]);
const SECRETS_KEY = SecretBox.generateKey();
const PAYEE = privateKeyToAccount(generatePrivateKey()).address;
/** Gas for a plain transfer, at 2 gwei: what each payment below may cost for gas at most. */
const GAS = 21_000n;
const FEE = parseGwei("2");

let dataDir: string;
let databaseUrl: string;
let chain: RunningChain;
let claims: RunningClaimsService;
let sql: pg.Client;
/** The claims database as the service's own queries read it (ledgerOf). */
let db: Database;
const claimsEm = () => db.em.fork();
let read: ReturnType<typeof createPublicClient>;
/** Every line the claims service wrote, at level debug. */
const lines: string[] = [];
/** Every wallet key this file made: none may be in a line. */
const keys: Hex[] = [];
const closers: { close(): unknown }[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "signer-int-"));
  chain = await startLocalChain();
  read = createPublicClient({ transport: http(chain.rpcUrl) });
  databaseUrl = await createTestDatabase("signer_claims");
  claims = await startClaimsService({
    databaseUrl,
    credentials: CREDS.claims,
    // Never called here: no template is read.
    templatesUrl: `http://127.0.0.1:${await freePort()}`,
    secretsKey: SECRETS_KEY,
    dataDir,
    sweepIntervalMs: 3_600_000,
    chain: { rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey },
    log: createLogger("claims", { level: "debug", sink: (l) => lines.push(l) }),
  });
  sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
  db = await openDatabase({ name: "claims", url: databaseUrl, entities, migrations, poolSize: 2 });
});

afterAll(async () => {
  for (const c of closers) await c.close();
  await claims?.close();
  await db?.close();
  await sql?.end();
  await chain?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const signerAs = (credentials: ServiceCredentials) => {
  const c = createServiceClient(PaymentSignerService, claims.url, credentials);
  closers.push(c);
  return c.client;
};
const asA = () => signerAs(hostCredentials(CREDS, A));
const asB = () => signerAs(hostCredentials(CREDS, B));

/**
 * A claimed agent on `host` at `level` with `limitEth` a day (its owner's signed limit), holding a wallet the
 * pool made (its key sealed in the tool's row) funded with `fundEth` by its owner.
 */
async function agent(host: string, level: number, limitEth: string, fundEth = "10") {
  const id = `inst_${randomBytes(8).toString("hex")}`;
  const key = generatePrivateKey();
  keys.push(key);
  const wallet = privateKeyToAccount(key).address;
  await sql.query(
    `insert into instances (id, state, host_url, inbox_id, owner_id, template_id, claimed_at, trust_level, daily_spend_limit_wei)
     values ($1, 'claimed', $2, $3, $4, 'tmpl_signer', now(), $5, $6)`,
    [id, host, `inbox-${id}`, `owner-${id}`, level, limitEth === "" ? "" : parseEther(limitEth).toString()],
  );
  const sealed = SecretBox.fromConfig(SECRETS_KEY).seal({ private_key: key }, secretAad(id, "crypto"));
  await sql.query(
    `insert into provisioned_tools (instance_id, tool_id, provider, handle, secret) values ($1, 'crypto', 'chain-wallet', $2, $3)`,
    [id, wallet, sealed],
  );
  const owner = createWalletClient({ account: privateKeyToAccount(chain.ownerKey), transport: http(chain.rpcUrl) });
  await read.waitForTransactionReceipt({
    hash: await owner.sendTransaction({ to: wallet, value: parseEther(fundEth), chain: null }),
  });
  return { id, wallet };
}

/** A payment of `eth` to PAYEE as a host asks for it, at the wallet's next nonce. */
async function ask(
  id: string,
  wallet: Hex,
  eth: string,
  over: Partial<{ chainId: bigint; to: string; nonce: bigint }> = {},
) {
  return {
    instanceId: id,
    chainId: BigInt(chain.chainId),
    to: PAYEE,
    valueWei: parseEther(eth).toString(),
    nonce: BigInt(await read.getTransactionCount({ address: wallet, blockTag: "pending" })),
    gas: GAS,
    maxFeePerGasWei: FEE.toString(),
    maxPriorityFeePerGasWei: "1",
    ...over,
  };
}

const ledger = async (id: string) =>
  (
    await sql.query<{ value_wei: string; max_fee_wei: string; host_url: string; transaction_hash: string }>(
      `select value_wei::text, max_fee_wei::text, host_url, transaction_hash from signed_payments where instance_id = $1 order by sequence`,
      [id],
    )
  ).rows;

describe("PaymentSignerService.SignPayment", () => {
  it("signs host A's payment for its agent at L4 within the limit: the chain takes it, the payee is paid, the ledger says so", async () => {
    const { id, wallet } = await agent(A, 4, "1");
    const before = await read.getBalance({ address: PAYEE });
    const res = await asA().signPayment(await ask(id, wallet, "0.1"));
    expect(res.dailyLimitWei).toBe(parseEther("1").toString());
    expect(res.signedTodayWei).toBe((parseEther("0.1") + GAS * FEE).toString());
    const hash = await read.sendRawTransaction({ serializedTransaction: toHex(res.signedTransaction) });
    expect(hash).toBe(res.transactionHash);
    expect((await read.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect((await read.getBalance({ address: PAYEE })) - before).toBe(parseEther("0.1"));
    expect(await ledger(id)).toEqual([
      {
        value_wei: parseEther("0.1").toString(),
        max_fee_wei: (GAS * FEE).toString(),
        host_url: A,
        transaction_hash: hash,
      },
    ]);
  });

  it("signs a scheduled payment with its firing's tag as the transaction's data, made from the firing id alone", async () => {
    const { id, wallet } = await agent(A, 4, "1");
    const firing = "sch_0123456789abcdef01234567@2027-01-01T08:00:00Z";
    const res = await asA().signPayment({ ...(await ask(id, wallet, "0.1")), gas: 30_000n, firingId: firing });
    const hash = await read.sendRawTransaction({ serializedTransaction: toHex(res.signedTransaction) });
    expect((await read.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(hexToString((await read.getTransaction({ hash })).input)).toBe(`convos-pool firing ${firing}`);
  });

  it("a host that asks for everything gets no more than the owner's daily limit, gas counted: the wallet loses at most that", async () => {
    const { id, wallet } = await agent(A, 4, "1");
    const start = await read.getBalance({ address: wallet });
    const signed: Hex[] = [];
    const refused: ConnectError[] = [];
    // Ten asks of 0.3 ETH, each at a nonce of its own: three fit under 1 ETH with their gas, a fourth would not.
    const base = BigInt(await read.getTransactionCount({ address: wallet }));
    for (let i = 0n; i < 10n; i++) {
      try {
        const res = await asA().signPayment(await ask(id, wallet, "0.3", { nonce: base + i }));
        signed.push(toHex(res.signedTransaction));
      } catch (err) {
        refused.push(ConnectError.from(err));
      }
    }
    expect(signed).toHaveLength(3);
    expect(refused).toHaveLength(7);
    for (const err of refused) {
      expect(Code[err.code]).toBe("FailedPrecondition");
      expect(err.rawMessage).toMatch(/over the daily limit its owner signed/);
    }
    for (const tx of signed)
      await read.waitForTransactionReceipt({ hash: await read.sendRawTransaction({ serializedTransaction: tx }) });
    const lost = start - (await read.getBalance({ address: wallet }));
    expect(lost).toBeGreaterThanOrEqual(parseEther("0.9"));
    expect(lost).toBeLessThanOrEqual(parseEther("1"));
    expect(await ledger(id)).toHaveLength(3);
  });

  it("two hosts' asks at once for one agent are counted one after the other: never both in the same room under the limit", async () => {
    const { id, wallet } = await agent(A, 4, "0.5");
    const base = BigInt(await read.getTransactionCount({ address: wallet }));
    const outcomes = await Promise.allSettled(
      [0n, 1n, 2n, 3n].map(async (i) => asA().signPayment(await ask(id, wallet, "0.2", { nonce: base + i }))),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(2);
    expect(await ledger(id)).toHaveLength(2);
  });

  it("refuses host B, under its own credential, host A's agent with PERMISSION_DENIED, not naming host A; and signs for B once the agent is placed there", async () => {
    const { id, wallet } = await agent(A, 4, "1");
    const err = await refusal(asB().signPayment(await ask(id, wallet, "0.01")));
    expect(Code[err.code]).toBe("PermissionDenied");
    expect(err.rawMessage).not.toContain(A);
    await sql.query(`update instances set host_url = $2 where id = $1`, [id, B]);
    await expect(asB().signPayment(await ask(id, wallet, "0.01"))).resolves.toBeDefined();
    expect(Code[(await refusal(asA().signPayment(await ask(id, wallet, "0.01")))).code]).toBe("PermissionDenied");
  });

  it("refuses the hosts' shared credential, and any principal but a host", async () => {
    const { id, wallet } = await agent(A, 4, "1");
    expect(
      Code[(await refusal(signerAs(CREDS["instance-host"]).signPayment(await ask(id, wallet, "0.01")))).code],
    ).toBe("PermissionDenied");
    expect(Code[(await refusal(signerAs(CREDS.gateway).signPayment(await ask(id, wallet, "0.01")))).code]).toBe(
      "PermissionDenied",
    );
    expect(await ledger(id)).toEqual([]);
  });

  it("signs nothing for an agent whose owner signed no limit (L3 without one, L1), nor on another chain", async () => {
    const l3 = await agent(A, 3, "");
    const l1 = await agent(A, 1, "");
    for (const a of [l3, l1]) {
      const err = await refusal(asA().signPayment(await ask(a.id, a.wallet, "0.01")));
      expect(Code[err.code]).toBe("FailedPrecondition");
      expect(err.rawMessage).toMatch(/has signed no spending limit/);
    }
    const l4 = await agent(A, 4, "1");
    const err = await refusal(asA().signPayment(await ask(l4.id, l4.wallet, "0.01", { chainId: 1n })));
    expect(err.rawMessage).toBe(`chain_id: 1 is not the pool's chain (${chain.chainId})`);
    for (const a of [l3, l1, l4]) expect(await ledger(a.id)).toEqual([]);
  });

  it("signs at L3 within a limit its owner signed (each payment also waits for the owner's yes, at the agent)", async () => {
    const { id, wallet } = await agent(A, 3, "0.05");
    await expect(asA().signPayment(await ask(id, wallet, "0.01"))).resolves.toBeDefined();
    expect(Code[(await refusal(asA().signPayment(await ask(id, wallet, "0.05")))).code]).toBe("FailedPrecondition");
  });

  it("refuses a released agent's payments, and an unknown agent's with NOT_FOUND", async () => {
    const { id, wallet } = await agent(A, 4, "1");
    await sql.query(`update instances set state = 'idle' where id = $1`, [id]);
    expect(Code[(await refusal(asA().signPayment(await ask(id, wallet, "0.01")))).code]).toBe("FailedPrecondition");
    const unknown = await refusal(asA().signPayment(await ask("inst_0000000000000000", wallet, "0.01")));
    expect(Code[unknown.code]).toBe("NotFound");
  });

  it("gives an agent claimed again with a new wallet a day of its own, and its owner none of the last owner's ledger", async () => {
    const { id, wallet } = await agent(A, 4, "1");
    await asA().signPayment(await ask(id, wallet, "0.9"));
    // Released, and claimed by someone else: a new wallet the pool made, the old one's row gone.
    const key = generatePrivateKey();
    keys.push(key);
    const next = privateKeyToAccount(key).address;
    await sql.query(`delete from provisioned_tools where instance_id = $1`, [id]);
    await sql.query(
      `insert into provisioned_tools (instance_id, tool_id, provider, handle, secret) values ($1, 'crypto', 'chain-wallet', $2, $3)`,
      [id, next, SecretBox.fromConfig(SECRETS_KEY).seal({ private_key: key }, secretAad(id, "crypto"))],
    );
    const owner = createWalletClient({ account: privateKeyToAccount(chain.ownerKey), transport: http(chain.rpcUrl) });
    await read.waitForTransactionReceipt({
      hash: await owner.sendTransaction({ to: next, value: parseEther("1"), chain: null }),
    });
    const res = await asA().signPayment(await ask(id, next, "0.5"));
    expect(res.signedTodayWei).toBe((parseEther("0.5") + GAS * FEE).toString());
    expect((await ledgerOf(claimsEm(), id, 100)).map((p) => p.valueWei)).toEqual([parseEther("0.5").toString()]);
  });

  it("answers UNAVAILABLE, signing nothing, while the pool's chain does not answer", async () => {
    const { id, wallet } = await agent(A, 4, "1");
    const request = await ask(id, wallet, "0.01");
    // A second claims service on the same database, its chain an address nothing answers at.
    const away = await startClaimsService({
      databaseUrl,
      credentials: CREDS.claims,
      templatesUrl: `http://127.0.0.1:${await freePort()}`,
      secretsKey: SECRETS_KEY,
      dataDir,
      sweepIntervalMs: 3_600_000,
      chain: { rpcUrl: `http://127.0.0.1:${await freePort()}`, faucetKey: chain.faucetKey },
      log: createLogger("claims-away", { level: "silent" }),
    });
    try {
      const c = createServiceClient(PaymentSignerService, away.url, hostCredentials(CREDS, A));
      closers.push(c);
      const err = await refusal(c.client.signPayment(request));
      expect(Code[err.code]).toBe("Unavailable");
      expect(err.rawMessage).toBe("the pool's chain does not answer just now; nothing was signed");
      expect(await ledger(id)).toEqual([]);
    } finally {
      await away.close();
    }
  });

  it("keeps its ledger append-only: the database refuses a change or a deletion", async () => {
    const { id, wallet } = await agent(A, 4, "1");
    await asA().signPayment(await ask(id, wallet, "0.01"));
    await expect(sql.query(`update signed_payments set value_wei = 1 where instance_id = $1`, [id])).rejects.toThrow(
      /append-only/,
    );
    await expect(sql.query(`delete from signed_payments where instance_id = $1`, [id])).rejects.toThrow(/append-only/);
    expect(await ledger(id)).toHaveLength(1);
  });

  it("writes no wallet key to its log, while saying each signature and refusal", async () => {
    const said = lines.map((l) => JSON.parse(l) as { msg: string });
    expect(said.some((l) => l.msg === "payment signed")).toBe(true);
    expect(said.some((l) => l.msg === "payment signature refused")).toBe(true);
    for (const line of lines)
      for (const key of keys) expect(line.toLowerCase()).not.toContain(key.slice(2).toLowerCase());
  });
});
