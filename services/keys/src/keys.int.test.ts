// The keys service against the real claims service, both in this process:
// the claims service on a test database of real PostgreSQL answers where
// each agent runs (InstancePlacementService), the keys service derives from
// a seed of this file's own and is called over the wire under real
// credentials: two instance hosts' own, the hosts' shared one, the
// gateway's and the claims service's. The agents' rows and a host's lost
// mark are written straight into the claims database, as the pool manager
// and the host mover write them. No instance host runs: the test's clients
// are the hosts. The recovery from a sealed seed runs seal-seed.ts and the
// keys service's main.ts each in a process of its own, as an operator does.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { bytesToHex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentKeyService } from "@convos-pool/gen/convos/pool/v1/agent_key_service_pb.js";
import { InstancePlacementService } from "@convos-pool/gen/convos/pool/v1/instance_placement_service_pb.js";
import { SecretBox, startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { fieldViolations } from "@convos-pool/kit/content";
import {
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  hostCredentials,
  serviceEnv,
  type ServiceCredentials,
} from "@convos-pool/kit/server";
import { MasterSeed } from "@convos-pool/kit/signing";
import { createTestDatabase, freePort, startServiceProcess, TEST_POOL_ID } from "@convos-pool/testing";
import { startKeysService, type RunningKeysService } from "./server.js";
import { openSealedSeed } from "./sealed-seed.js";
import { KEK_FILE_VAR, kekFromFile, SEALED_SEED_FILE_VAR } from "./seed.js";

const A = "http://host-a.test:7100";
const B = "http://host-b.test:7100";
const CREDS = generateServiceCredentials(undefined, [A, B]);
const SEED = randomBytes(32).toString("hex");
const ROOT = MasterSeed.parse(SEED);

const run = promisify(execFile);

let dataDir: string;
let claims: RunningClaimsService;
let keys: RunningKeysService;
let sql: pg.Client;
/** Every line the keys services of this file wrote, at level debug. */
const lines: string[] = [];
const closers: { close(): unknown }[] = [];

const keysLog = (name = "keys") => createLogger(name, { level: "debug", sink: (l) => lines.push(l) });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "keys-int-"));
  const databaseUrl = await createTestDatabase("keys_claims");
  claims = await startClaimsService({
    databaseUrl,
    credentials: CREDS.claims,
    // Never called here: no template is read.
    templatesUrl: `http://127.0.0.1:${await freePort()}`,
    secretsKey: SecretBox.generateKey(),
    dataDir,
    sweepIntervalMs: 3_600_000,
    log: createLogger("claims", { level: "silent" }),
  });
  keys = await startKeysService({ credentials: CREDS.keys, claimsUrl: claims.url, masterSeed: SEED, log: keysLog() });
  sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
});

afterAll(async () => {
  for (const c of closers) await c.close();
  await keys?.close();
  await claims?.close();
  await sql?.end();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A client of `url` presenting `credentials`, closed after the file. */
function client<S extends typeof AgentKeyService | typeof InstancePlacementService>(
  service: S,
  credentials: ServiceCredentials,
  url: string,
) {
  const c = createServiceClient(service, url, credentials);
  closers.push(c);
  return c.client;
}
const keysAs = (credentials: ServiceCredentials, url = keys.url) => client(AgentKeyService, credentials, url);
const asA = () => keysAs(hostCredentials(CREDS, A));
const asB = () => keysAs(hostCredentials(CREDS, B));

/** An agent placed on `host`, as the pool manager registers one; its id and wallet index. */
async function agent(host: string): Promise<{ id: string; index: number }> {
  const id = `inst_${randomBytes(8).toString("hex")}`;
  const { rows } = await sql.query<{ wallet_index: number }>(
    `insert into instances (id, state, host_url, inbox_id) values ($1, 'idle', $2, $3) returning wallet_index`,
    [id, host, `inbox-${id}`],
  );
  return { id, index: rows[0]!.wallet_index };
}

/** The host mover's marks: `host` lost (or found again), an agent's move under way to `to`, or moved. */
const markLost = (host: string, lost: boolean) =>
  sql.query(
    `insert into instance_hosts (url, lost_at) values ($1, case when $2 then now() end)
       on conflict (url) do update set lost_at = excluded.lost_at`,
    [host, lost],
  );
const moving = (id: string, to: string | null) =>
  sql.query(`update instances set moving_to = $2 where id = $1`, [id, to]);
const placeOn = (id: string, host: string) => sql.query(`update instances set host_url = $2 where id = $1`, [id, host]);

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err, "the call should have been refused").toBeDefined();
  return err!;
}

describe("AgentKeyService.ReleaseAgentKey", () => {
  it("gives host A, under its own credential, the key of its agent: the seed's wallet at the agent's index", async () => {
    const { id, index } = await agent(A);
    const res = await asA().releaseAgentKey({ instanceId: id, walletIndex: index });
    expect(res.privateKey).toHaveLength(32);
    const wallet = ROOT.key(index);
    expect(bytesToHex(res.privateKey)).toBe(wallet.privateKey);
    expect(res.address).toBe(wallet.address);
    // The key itself derives the address it came with: a host checks what it was given.
    expect(privateKeyToAddress(bytesToHex(res.privateKey))).toBe(res.address);
  });

  it("refuses host B, under its own credential, host A's agent with PERMISSION_DENIED, not naming host A", async () => {
    const { id, index } = await agent(A);
    const err = await refusal(asB().releaseAgentKey({ instanceId: id, walletIndex: index }));
    expect(Code[err.code]).toBe("PermissionDenied");
    expect(err.rawMessage).toBe(`instance_id: ${id} runs on another host; its key goes to that host alone`);
  });

  it("refuses the hosts' shared credential, which names no host", async () => {
    const { id, index } = await agent(A);
    const err = await refusal(keysAs(CREDS["instance-host"]).releaseAgentKey({ instanceId: id, walletIndex: index }));
    expect(Code[err.code]).toBe("PermissionDenied");
    expect(err.rawMessage).toContain("that host's own credential");
  });

  it("refuses an index that is not the agent's with FAILED_PRECONDITION naming wallet_index", async () => {
    const { id, index } = await agent(A);
    const err = await refusal(asA().releaseAgentKey({ instanceId: id, walletIndex: index + 1 }));
    expect(Code[err.code]).toBe("FailedPrecondition");
    expect(err.rawMessage).toMatch(/^wallet_index: /);
  });

  it("answers NOT_FOUND for an agent the pool never made, and INVALID_ARGUMENT naming instance_id for a malformed id", async () => {
    const unknown = await refusal(asA().releaseAgentKey({ instanceId: "inst_NOBODYNOBODYNOBO", walletIndex: 0 }));
    expect(Code[unknown.code]).toBe("NotFound");
    expect(unknown.rawMessage).toMatch(/^instance_id: /);
    const malformed = await refusal(asA().releaseAgentKey({ instanceId: "inst_../../x", walletIndex: 0 }));
    expect(Code[malformed.code]).toBe("InvalidArgument");
    expect(fieldViolations(malformed).map((v) => v.field)).toEqual(["instance_id"]);
  });

  it("refuses the gateway's and the claims service's credentials by the access policy, whatever they ask", async () => {
    const { id, index } = await agent(A);
    for (const [name, credentials] of [
      ["gateway", CREDS.gateway],
      ["claims", CREDS.claims],
      ["keys", CREDS.keys],
    ] as const) {
      const c = keysAs(credentials);
      for (const call of [
        c.releaseAgentKey({ instanceId: id, walletIndex: index }),
        c.getAgentAddress({ walletIndex: index }),
      ]) {
        const err = await refusal(call);
        expect(Code[err.code], name).toBe("PermissionDenied");
        expect(err.rawMessage).toBe(`the ${name} credential may not call convos.pool.v1.AgentKeyService`);
      }
    }
  });

  it("follows a placement that moved: its old host is refused, its new one given the key", async () => {
    const { id, index } = await agent(A);
    await asA().releaseAgentKey({ instanceId: id, walletIndex: index });
    await placeOn(id, B);
    expect(Code[(await refusal(asA().releaseAgentKey({ instanceId: id, walletIndex: index }))).code]).toBe(
      "PermissionDenied",
    );
    expect((await asB().releaseAgentKey({ instanceId: id, walletIndex: index })).address).toBe(ROOT.key(index).address);
  });

  it("gives the key to the host a move restores the agent on only while its own host is marked lost", async () => {
    const { id, index } = await agent(A);
    await moving(id, B);
    // Host A answers: moving_to alone gives B nothing.
    await markLost(A, false);
    expect(Code[(await refusal(asB().releaseAgentKey({ instanceId: id, walletIndex: index }))).code]).toBe(
      "PermissionDenied",
    );
    try {
      await markLost(A, true);
      expect((await asB().releaseAgentKey({ instanceId: id, walletIndex: index })).address).toBe(
        ROOT.key(index).address,
      );
      // An agent that could not be moved keeps running on its lost host: A is still given it.
      expect((await asA().releaseAgentKey({ instanceId: id, walletIndex: index })).address).toBe(
        ROOT.key(index).address,
      );
      // No move under way: the lost host's agents go to no one else.
      await moving(id, null);
      expect(Code[(await refusal(asB().releaseAgentKey({ instanceId: id, walletIndex: index }))).code]).toBe(
        "PermissionDenied",
      );
    } finally {
      await markLost(A, false);
    }
  });

  it("answers UNAVAILABLE while the claims service does not, so that a host asks again", async () => {
    const { id, index } = await agent(A);
    const away = await startKeysService({
      credentials: CREDS.keys,
      claimsUrl: `http://127.0.0.1:${await freePort()}`,
      masterSeed: SEED,
      log: keysLog("keys-away"),
    });
    try {
      const err = await refusal(
        keysAs(hostCredentials(CREDS, A), away.url).releaseAgentKey({ instanceId: id, walletIndex: index }),
      );
      expect(Code[err.code]).toBe("Unavailable");
    } finally {
      await away.close();
    }
  });

  it("releases the same key from another keys service started with the same seed, and another key from another seed", async () => {
    const { id, index } = await agent(A);
    const first = await asA().releaseAgentKey({ instanceId: id, walletIndex: index });
    await keys.close();
    // The pool's recovery: a new keys service, nothing but the seed.
    keys = await startKeysService({ credentials: CREDS.keys, claimsUrl: claims.url, masterSeed: SEED, log: keysLog() });
    const again = await asA().releaseAgentKey({ instanceId: id, walletIndex: index });
    expect(bytesToHex(again.privateKey)).toBe(bytesToHex(first.privateKey));
    expect(again.address).toBe(first.address);
    const other = await startKeysService({
      credentials: CREDS.keys,
      claimsUrl: claims.url,
      masterSeed: randomBytes(32).toString("hex"),
      log: keysLog("keys-other"),
    });
    try {
      const elsewhere = await keysAs(hostCredentials(CREDS, A), other.url).releaseAgentKey({
        instanceId: id,
        walletIndex: index,
      });
      expect(elsewhere.address).not.toBe(first.address);
    } finally {
      await other.close();
    }
  });

  it("never writes a key it released to its log, and says to whom it gave which agent's", async () => {
    const { id, index } = await agent(A);
    const before = lines.length;
    const res = await asA().releaseAgentKey({ instanceId: id, walletIndex: index });
    const released = lines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(released).toContainEqual(expect.objectContaining({ msg: "agent key released", instanceId: id, host: A }));
    const hex = bytesToHex(res.privateKey).slice(2);
    for (const line of lines) {
      expect(line.toLowerCase()).not.toContain(hex);
      expect(line).not.toContain(SEED);
    }
    // Nor any key of this seed released before, to any host.
    for (const i of [index - 1, index - 2, index - 3].filter((n) => n >= 0))
      for (const line of lines) expect(line.toLowerCase()).not.toContain(ROOT.key(i).privateKey.slice(2));
  });
});

describe("AgentKeyService.GetAgentAddress", () => {
  it("answers any instance host, under its own credential or the shared one, with the seed's address at an index", async () => {
    for (const c of [asA(), keysAs(CREDS["instance-host"])])
      expect((await c.getAgentAddress({ walletIndex: 42 })).address).toBe(ROOT.key(42).address);
    const err = await refusal(asA().getAgentAddress({ walletIndex: 0x80000000 }));
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["wallet_index"]);
  });
});

describe("InstancePlacementService on the claims service", () => {
  it("answers the keys service alone: a host, under its own credential or the shared one, is refused", async () => {
    const { id, index } = await agent(A);
    const placement = await client(InstancePlacementService, CREDS.keys, claims.url).getPlacement({ instanceId: id });
    expect(placement).toMatchObject({ hostUrl: A, walletIndex: index, hostLost: false, movingTo: "" });
    for (const credentials of [hostCredentials(CREDS, A), CREDS["instance-host"], CREDS.gateway]) {
      const err = await refusal(
        client(InstancePlacementService, credentials, claims.url).getPlacement({ instanceId: id }),
      );
      expect(Code[err.code]).toBe("PermissionDenied");
    }
  });
});

describe("a lost pool back from its sealed seed", () => {
  /** seal-seed.ts as an operator runs it; what it prints. */
  const sealSeedCli = async (...args: string[]) =>
    (await run(process.execPath, ["--import", "tsx", "services/keys/src/seal-seed.ts", ...args])).stdout;

  it("a keys service started from the sealed seed and its key-encryption key releases the same keys as from the plain seed; with another key it does not start; neither says the seed or a key", {
    timeout: 120_000,
  }, async () => {
    const { id, index } = await agent(A);
    const plain = await asA().releaseAgentKey({ instanceId: id, walletIndex: index });
    const file = (name: string) => path.join(dataDir, name);
    await writeFile(file("seed"), `${SEED}\n`, { mode: 0o600 });
    // deploy/README.md, "Backup and restore": a KEK, the seed sealed under it; the seed's file then goes.
    const said = [
      await sealSeedCli("make-kek", file("kek")),
      await sealSeedCli(
        "seal",
        "--pool-id",
        TEST_POOL_ID,
        "--kek",
        file("kek"),
        "--seed-file",
        file("seed"),
        "--out",
        file("seed.sealed"),
      ),
    ];
    await rm(file("seed"));
    const kekHex = (await readFile(file("kek"), "utf8")).trim();
    const env = (sealed: string, kek: string) => ({
      CLAIMS_URL: claims.url,
      [SEALED_SEED_FILE_VAR]: sealed,
      [KEK_FILE_VAR]: kek,
      LOG_LEVEL: "debug",
      ...serviceEnv(CREDS.keys),
    });
    // The keys service as deployed (its main.ts, its own process), from the backup's file and the key kept apart.
    const recovered = await startServiceProcess("services/keys/src/main.ts", {
      env: env(file("seed.sealed"), file("kek")),
    });
    let output: string[];
    try {
      const key = await keysAs(hostCredentials(CREDS, A), recovered.url).releaseAgentKey({
        instanceId: id,
        walletIndex: index,
      });
      expect(bytesToHex(key.privateKey)).toBe(bytesToHex(plain.privateKey));
      expect(key.address).toBe(plain.address);
    } finally {
      await recovered.kill();
      output = [...recovered.lines];
    }
    // A rotation: the data key wrapped under a new KEK. The old KEK is now the wrong one: nothing starts.
    said.push(
      await sealSeedCli("make-kek", file("kek2")),
      await sealSeedCli(
        "rewrap",
        "--pool-id",
        TEST_POOL_ID,
        "--kek",
        file("kek"),
        "--new-kek",
        file("kek2"),
        "--in",
        file("seed.sealed"),
        "--out",
        file("seed2.sealed"),
      ),
    );
    const rotated = await readFile(file("seed2.sealed"), "utf8");
    expect(await openSealedSeed(rotated, TEST_POOL_ID, kekFromFile(file("kek2")))).toBe(SEED);
    const refused = await startServiceProcess("services/keys/src/main.ts", {
      env: env(file("seed2.sealed"), file("kek")),
      timeoutMs: 30_000,
    }).then(
      async (p) => {
        await p.kill();
        return undefined;
      },
      (err: unknown) => String(err),
    );
    expect(refused, "it did not start").toBeDefined();
    expect(refused).toContain(
      `${SEALED_SEED_FILE_VAR} ${file("seed2.sealed")}: the data key does not unwrap under this key-encryption key`,
    );
    const kek2Hex = (await readFile(file("kek2"), "utf8")).trim();
    const secrets = [SEED, kekHex, kek2Hex, bytesToHex(plain.privateKey).slice(2)];
    for (const text of [...output, refused!, ...said])
      for (const secret of secrets) expect(text.toLowerCase()).not.toContain(secret);
  });
});
