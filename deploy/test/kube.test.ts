// deploy/k8s/pool.yaml played by podman 4.3 (npm run test:deploy): the
// Deployments of templates, claims, lineage, keys and the gateway, and the
// StatefulSet's pod template as a Pod per ordinal, from the manifest file
// itself, with the ConfigMap and Secrets an operator makes, on one podman
// network whose aliases stand in for the Services; PostgreSQL and the local
// XMTP node from compose (kube.ts says what and why). Then the same core
// walk-through as stack.test.ts (walkthrough.ts). Real: every service's
// container, its migrations, PostgreSQL, the XMTP node, the Convos CLI.
// A stand-in: the model (testing/chat-server.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCreator } from "@convos-pool/convos/testing";
import type { World } from "@convos-pool/e2e/invariants";
import { KubeStack } from "./kube.js";
import {
  checkerWorld,
  type Creator,
  keyReleases,
  type Model,
  startModel,
  walkThrough,
  type WalkedThrough,
} from "./walkthrough.js";

const say = (line: string) => console.log(`kube: ${line}`);

let model: Model;
let stack: KubeStack;
let dir: string;
let world: World | undefined;
let creator: Creator | undefined;
let walked: WalkedThrough | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-kube-test-"));
  model = await startModel();
  stack = new KubeStack("kubetest", await KubeStack.load("deploy/k8s/pool.yaml"), {
    // The test's own, as compose.test.yaml gives them to compose's services.
    claims: { POOL_TOOLS_WITHOUT_GRANT: "sms,email", POOL_TARGET_IDLE: "3" },
    "instance-host": { LLM_BASE_URL: model.baseUrl, LLM_API_KEY: "sk-deploy" },
  });
  const t0 = performance.now();
  await stack.start(say);
  say(`played and every pod healthy in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  creator = await startCreator(stack.xmtpUrl, dir);
  world = await checkerWorld(stack, [stack.url("instance-host-0"), stack.url("instance-host-1")], creator, model);
}, 600_000);

afterAll(async () => {
  const t0 = performance.now();
  await walked?.cli.stop();
  await world?.claimsDb.end().catch(() => undefined);
  await world?.templatesDb.end().catch(() => undefined);
  await creator?.close().catch(() => undefined);
  await stack?.close();
  await model?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  say(`torn down in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, 300_000);

describe("deploy/k8s/pool.yaml played by podman", () => {
  it("plays the Deployments and the StatefulSet's pods from the manifest, each healthy under its Service's name", () => {
    expect(stack.plan.map((p) => `${p.doc.kind} ${p.name}: ${p.aliases.join(" ")}`).sort()).toEqual([
      "Deployment claims: claims",
      "Deployment gateway: gateway",
      "Deployment keys: keys",
      "Deployment lineage: lineage",
      "Deployment templates: templates",
      "Pod instance-host-0: instance-host-0.instance-host",
      "Pod instance-host-1: instance-host-1.instance-host",
    ]);
    expect(Object.keys(stack.startToHealthy).sort()).toEqual(stack.plan.map((p) => p.name).sort());
  });

  it("the core walk-through: a creator publishes, a Convos conversation gets an agent by claim, the agent answers, the creator's update reaches it, the owner clones it into a second conversation", {
    timeout: 300_000,
  }, async () => {
    walked = await walkThrough(stack, world!, dir, say);
  });

  it("plays the seed to the keys pod alone, and the walk-through's agent had its key from it, released to the host pod that runs it", async () => {
    expect(walked, "the walk-through").toBeDefined();
    for (const p of stack.plan) {
      const spec = p.doc.kind === "Pod" ? p.doc.spec! : p.doc.spec!.template.spec!;
      const seedRefs = spec.containers
        .flatMap((c) => c.env ?? [])
        .filter((e) => e.valueFrom?.secretKeyRef?.name === "master-seed")
        .map((e) => e.name);
      expect(seedRefs, p.name).toEqual(p.name === "keys" ? ["POOL_MASTER_SEED"] : []);
    }
    const { host_url: host } = (
      await world!.claimsDb.query(`select host_url from instances where id = $1`, [walked!.agent.id])
    ).rows[0] as { host_url: string };
    const released = keyReleases(await stack.logs("keys"), walked!.agent.id);
    say(
      `the keys service released ${walked!.agent.id}'s key ${released.length} time(s), to ${[...new Set(released)].join(", ")}`,
    );
    expect(released.length).toBeGreaterThan(0);
    expect(new Set(released)).toEqual(new Set([host]));
  });
});
