// Two instance hosts that hold no seed, each asking the keys service for its
// agents' keys (docs/security.md, "Agents' keys"). Real: PostgreSQL, the
// local XMTP node, the claims service on a test database (its pool manager
// idle: no hosts are given it), the keys service, and both hosts, all in this
// process, each host under its own credential bound to its own address. The
// test's clients are the claims service calling the hosts; the agents' rows
// and their moves are written straight into the claims database, as the pool
// manager writes them.
//
// A keys service that is away, and the host's patience with it, are
// keys-client.test.ts's.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { SecretBox, startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { startKeysService, type RunningKeysService } from "@convos-pool/keys";
import {
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  hostCredentials,
  type ServiceClient,
  type ServiceCredentialSet,
} from "@convos-pool/kit/server";
import { deriveInboxId, MasterSeed } from "@convos-pool/kit/signing";
import { createTestDatabase, freePort } from "@convos-pool/testing";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { startInstanceHost, type RunningInstanceHost } from "./host.js";
import { instancesDir } from "../platform/workspace.js";
import { refusal } from "@convos-pool/kit/testing";

const SEED = randomBytes(32).toString("hex");
const ROOT = MasterSeed.parse(SEED);
/** Every line the keys service and both hosts wrote, at level debug. */
const lines: string[] = [];
const logger = (name: string) => createLogger(name, { level: "debug", sink: (l) => lines.push(l) });
/** The wallet index of every agent this file registered. */
const indices: number[] = [];

/** A host, its URL (its credential's address), its data directory and the claims service's client of it. */
interface Host {
  url: string;
  dataDir: string;
  running: RunningInstanceHost;
  rpc: ServiceClient<typeof InstanceHostService>;
}

let dir: string;
let node: RunningDevnode;
let claims: RunningClaimsService;
let keys: RunningKeysService;
let sql: pg.Client;
let creds: ServiceCredentialSet;
let A: Host;
let B: Host;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "instance-keys-"));
  // Each host's port picked first: its credential is bound to its URL.
  const urls = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`] as const;
  creds = generateServiceCredentials(undefined, urls);
  const [nodeDb, claimsDb] = await Promise.all([
    createTestDatabase("instance_keys_xmtp"),
    createTestDatabase("instance_keys_claims"),
  ]);
  node = await startDevnode({ port: 0, databaseUrl: nodeDb });
  claims = await startClaimsService({
    databaseUrl: claimsDb,
    credentials: creds.claims,
    // Never called here: no template is read.
    templatesUrl: `http://127.0.0.1:${await freePort()}`,
    secretsKey: SecretBox.generateKey(),
    dataDir: join(dir, "claims"),
    sweepIntervalMs: 3_600_000,
    log: createLogger("claims", { level: "silent" }),
  });
  keys = await startKeysService({
    credentials: creds.keys,
    claimsUrl: claims.url,
    masterSeed: SEED,
    log: logger("keys"),
  });
  sql = new pg.Client({ connectionString: claimsDb });
  await sql.connect();
  [A, B] = await Promise.all([startHost(urls[0], "host-a"), startHost(urls[1], "host-b")]);
});

afterAll(async () => {
  for (const h of [A, B]) {
    h?.rpc.close();
    await h?.running.close();
  }
  await keys?.close();
  await claims?.close();
  await sql?.end();
  await node?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startHost(url: string, name: string): Promise<Host> {
  const dataDir = join(dir, name);
  const running = await startInstanceHost({
    port: Number(new URL(url).port),
    xmtpApiUrl: node.url,
    keysUrl: keys.url,
    dataDir,
    credentials: hostCredentials(creds, url),
    log: logger(name),
  });
  if (running.url !== url) throw new Error(`${name} listens at ${running.url}, not at its credential's ${url}`);
  return { url, dataDir, running, rpc: createServiceClient(InstanceHostService, url, creds.claims) };
}

/** An agent placed on `host`, as the pool manager registers one; its id and wallet index. */
async function agent(host: Host): Promise<{ id: string; index: number }> {
  const id = `inst_${randomBytes(8).toString("hex")}`;
  const { rows } = await sql.query<{ wallet_index: number }>(
    `insert into instances (id, state, host_url, inbox_id) values ($1, 'idle', $2, $3) returning wallet_index`,
    [id, host.url, `inbox-${id}`],
  );
  indices.push(rows[0]!.wallet_index);
  return { id, index: rows[0]!.wallet_index };
}

const placeOn = (id: string, host: Host) =>
  sql.query(`update instances set host_url = $2 where id = $1`, [id, host.url]);

/** The keys service's lines about `id`. */
const keysSaid = (id: string) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.name === "keys" && l.instanceId === id);

/** The files `host` keeps for `id` (a refused start leaves its empty folders): none, nothing of the agent or its keys. */
async function filesOf(host: Host, id: string): Promise<string[]> {
  const entries = await readdir(join(instancesDir(host.dataDir), id), { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

/** Started on `host`: IDLE, listed, and on the wallet the seed has at `index`, which the keys service released to it. */
async function expectStarted(host: Host, id: string, index: number): Promise<void> {
  const { inboxId } = await host.rpc.client.startInstance({ instanceId: id, walletIndex: index });
  const wallet = ROOT.key(index);
  expect(host.running.instances.get(id)?.address).toBe(wallet.address);
  expect(inboxId).toBe(deriveInboxId(wallet.address));
  const listed = (await host.rpc.client.listInstances({})).instances.find((i) => i.instanceId === id);
  expect(listed).toMatchObject({ state: InstanceState.IDLE, walletIndex: index, inboxId });
  expect(keysSaid(id)).toContainEqual(expect.objectContaining({ msg: "agent key released", host: host.url }));
}

/** Refused on `host` with PERMISSION_DENIED, the keys service's word; and nothing of the agent stays there. */
async function expectRefused(host: Host, id: string, index: number): Promise<void> {
  const err = await refusal(host.rpc.client.startInstance({ instanceId: id, walletIndex: index }));
  expect(Code[err.code]).toBe("PermissionDenied");
  expect(err.rawMessage).toBe(`instance_id: ${id} runs on another host; its key goes to that host alone`);
  expect(keysSaid(id)).toContainEqual(expect.objectContaining({ msg: "agent key refused", host: host.url }));
  expect(host.running.instances.has(id)).toBe(false);
  const listed = (await host.rpc.client.listInstances({})).instances.map((i) => i.instanceId);
  expect(listed).not.toContain(id);
  expect(await filesOf(host, id)).toEqual([]);
}

describe("an instance host given agents' keys by the keys service", () => {
  let first: { id: string; index: number };

  it("starts on host A an agent placed on A, IDLE, on the wallet the seed has at its index", async () => {
    first = await agent(A);
    await expectStarted(A, first.id, first.index);
  });

  it("refuses on host B the start of the agent placed on A with PERMISSION_DENIED, and keeps nothing of it", async () => {
    await expectRefused(B, first.id, first.index);
    // Host A's agent runs on.
    expect(A.running.instances.get(first.id)?.state).toBe(InstanceState.IDLE);
  });

  it("follows a placement moved to host B: B starts the agent it was refused, and A is refused it", async () => {
    const { id, index } = await agent(A);
    await expectRefused(B, id, index);
    await placeOn(id, B);
    // B kept no refusal: it asks again, and is given the key now.
    await expectStarted(B, id, index);
    await expectRefused(A, id, index);
  });

  it("writes no key it released, nor the seed, to any log of the keys service or the hosts", async () => {
    const said = lines.map((l) => JSON.parse(l) as { name: string; msg: string; host?: string });
    for (const name of ["keys", "host-a", "host-b"]) expect(said.some((l) => l.name === name)).toBe(true);
    // Not vacuous: each host was given a key.
    const givenTo = said.filter((l) => l.msg === "agent key released").map((l) => l.host);
    expect(new Set(givenTo)).toEqual(new Set([A.url, B.url]));
    const secrets = [SEED, ...indices.map((i) => ROOT.key(i).privateKey.slice(2))];
    for (const line of lines) for (const secret of secrets) expect(line.toLowerCase()).not.toContain(secret);
  });
});
