// Bad input to every InstanceService method (docs/reliability.md): a real
// instance host on a local XMTP node with two agents, one idle and one whose
// workspace is watched, called as the claims service calls them (its
// credential, the instance header) with generated bad requests: wrong types,
// huge and empty strings, unknown enum numbers, invalid UTF-8, truncated
// protobuf, missing, unknown and huge instance headers. Every answer is a
// code other than INTERNAL or UNKNOWN, and no agent changes.
import { readdir, readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc } from "@fast-check/vitest";
import { english, generateMnemonic } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { createLogger, createServiceClient, generateServiceCredentials } from "@convos-pool/kit";
import { createTestDatabase } from "@convos-pool/kit/testing";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { INSTANCE_HEADER, startInstanceHost, type RunningInstanceHost } from "./host.js";

const CREDS = generateServiceCredentials();
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
let node: RunningDevnode;
let host: RunningInstanceHost;
let dir: string;

/** Every file of the host's workspaces, with its contents: the same before and after. */
async function workspaces(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      // The XMTP client's own database changes as it syncs: not the agent's state.
      if (e.isDirectory()) await walk(p);
      else if (!/\.db3?(-wal|-shm)?$|xmtp/.test(e.name)) out[p] = (await readFile(p)).toString("base64");
    }
  };
  await walk(join(dir, "host"));
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "instance-fuzz-"));
  node = await startDevnode({ port: 0, databaseUrl: await createTestDatabase("instance_fuzz"), log: createLogger("devnode", { level: "silent" }) });
  host = await startInstanceHost({
    xmtpApiUrl: node.url,
    masterSeed: generateMnemonic(english),
    dataDir: join(dir, "host"),
    credentials: CREDS["instance-host"],
    maxInstances: 3,
    log: createLogger("instance-host", { level: "silent" }),
  });
  const hosts = createServiceClient(InstanceHostService, host.url, CREDS.claims);
  try {
    await hosts.client.startInstance({ instanceId: "inst-fuzz-a", walletIndex: 1 });
    await hosts.client.startInstance({ instanceId: "inst-fuzz-b", walletIndex: 2 });
  } finally {
    hosts.close();
  }
}, 90_000);

afterAll(async () => {
  await host?.close();
  await node?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const odd = fc.oneof(
  fc.string(),
  fc.constant(""),
  fc.constantFrom(200_000, 1_100_000).map((n) => "x".repeat(n)),
  fc.string({ unit: "binary" }),
  fc.integer(),
  fc.constantFrom(99999, 2 ** 53, -1),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 4 }),
  fc.dictionary(fc.string(), fc.anything(), { maxKeys: 4 }),
);
const FIELDS = [
  "instanceId", "template", "ownerId", "model", "modelOverridden", "tools", "userConfig", "parent", "conversationInvite", "trustLevel",
  "dailySpendLimitWei", "ownerSignature", "pageSize", "pageToken", "childInstanceId", "childInboxId", "childWalletIndex", "authorization",
  "newOwnerId", "offer", "acceptance", "content", "version", "signature", "secrets", "toolId", "handle",
] as const;
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), odd, { minKeys: 1, maxKeys: 6 }).map((o) => ({ type: "application/json", bytes: Buffer.from(JSON.stringify(o)) })),
  fc.jsonValue().map((v) => ({ type: "application/json", bytes: Buffer.from(JSON.stringify(v)) })),
  fc.integer({ min: 1_000, max: 10_000 }).map((n) => ({ type: "application/json", bytes: Buffer.from(`${'{"template":'.repeat(n)}{}${"}".repeat(n)}`) })),
  fc.uint8Array({ maxLength: 64 }).map((b) => ({ type: "application/json", bytes: Buffer.concat([Buffer.from('{"ownerId":"'), Buffer.from([0xff, ...b]), Buffer.from('"}')]) })),
  fc.uint8Array({ maxLength: 512 }).map((b) => ({ type: "application/proto", bytes: Buffer.from(b) })),
);
const instanceHeader = fc.oneof(fc.constant("inst-fuzz-a"), fc.constant(undefined), fc.constant("inst-nobody"), fc.string({ maxLength: 200 }).filter((s) => /^[\x21-\x7e]*$/.test(s)), fc.constant("i".repeat(8_000)));

describe("every InstanceService method, given bad input", () => {
  it("answers a code other than INTERNAL or UNKNOWN, and no agent changes", { timeout: 300_000 }, async () => {
    const before = await workspaces();
    expect(Object.keys(before).length, "the agents' workspace files").toBeGreaterThan(0);
    const methods = InstanceService.methods.filter((m) => m.methodKind === "unary").map((m) => m.name);
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), body, instanceHeader, async (method, { type, bytes }, instance) => {
        tried++;
        const headers: Record<string, string> = { "content-type": type, "connect-protocol-version": "1", "x-pool-service-token": CREDS.claims.token };
        if (instance !== undefined) headers[INSTANCE_HEADER] = instance;
        const res = await fetch(`${host.url}/${InstanceService.typeName}/${method}`, { method: "POST", headers, body: bytes });
        const text = await res.text();
        if (res.status === 200) return;
        const code = (JSON.parse(text) as { code?: string }).code;
        expect(code, `${method}: ${text.slice(0, 300)}`).toBeTruthy();
        expect(["internal", "unknown"], `${method}: ${text.slice(0, 300)}`).not.toContain(code);
      }),
      { numRuns: RUNS * methods.length },
    );
    console.log(`fuzz: ${tried} InstanceService calls over ${methods.length} methods`);
    for (const id of ["inst-fuzz-a", "inst-fuzz-b"]) expect(host.instances.get(id)?.state, id).toBe(InstanceState.IDLE);
    expect(await workspaces()).toEqual(before);
  });
});
