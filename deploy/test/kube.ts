/**
 * TEST HARNESS. deploy/k8s/pool.yaml played by Debian's podman 4.3 (`podman
 * kube play`), with what it cannot play from compose (deploy/README.md,
 * "Kubernetes manifests on podman"):
 * - played from the manifest file itself: the Deployments of templates,
 *   claims, lineage, keys and the gateway, and the StatefulSet's pod template as
 *   one Pod per ordinal (instance-host-0, instance-host-1: podman 4.3 has no
 *   StatefulSet), each with the volume its volumeClaimTemplates would claim;
 * - the ConfigMap "pool" given with `--configmap FILE`; the Secrets made as an
 *   operator makes them, then stored as podman secrets (`secretKeyRef` reads
 *   those: a flat JSON object of key to base64 value);
 * - a Secret's key the manifest mounts as a file and names in a `*_FILE`
 *   variable, which podman 4.3 cannot play (no `subPathExpr`; a `secret`
 *   volume makes `kube play` crash), as the variable without `_FILE` from
 *   that same key (`secretKeyRef`): a host pod's own credential (the key
 *   named after the pod, POOL_SERVICE_TOKEN) and the keys service's seed
 *   (POOL_MASTER_SEED);
 * - the Services (podman 4.3 has none) as network aliases on one podman
 *   network: `templates`, `claims`... for the Deployments, and
 *   `instance-host-N.instance-host` for the headless Service's pod names;
 * - from compose (ContainerStack, deploy/podman.ts): PostgreSQL, which the
 *   manifests expect outside the cluster, and the test's local XMTP node.
 * Laid over the manifests here, as compose.test.yaml is over compose.yaml:
 * one replica each (the test's two cores), no `ports` (podman 4.3 publishes
 * every containerPort on the host's same port, which Kubernetes never does,
 * so two pods of one kind would collide), and the test's extra variables.
 * Podman 4.3 runs no gRPC probe: readiness is polled here with the image's
 * health check (deploy/health.mjs: gRPC health, as the probes ask it).
 */
import { execFile as execFileCb } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IPod, IPodSpec } from "kubernetes-models/v1";
import { stringify } from "yaml";
import { hostCredentials } from "@convos-pool/kit/server";
import { up } from "../podman.js";
import { type Manifest, type Named, parseManifests } from "./manifests.js";
import { ContainerStack } from "./stack.js";

const execFile = promisify(execFileCb);

/** What is played: one kube file each, its pod's network aliases, the port its health check asks. */
export interface Played {
  name: string;
  doc: Named<IDeployment> | IPod;
  aliases: string[];
  port: number;
}

/**
 * The Deployments and the StatefulSet's pods to play, from pool.yaml's
 * documents: each workload with the aliases its Service gives it, one
 * replica, no `ports`, and `env` added to the containers of the workloads it names.
 */
export function kubePlan(manifests: Manifest[], env: Record<string, Record<string, string>> = {}): Played[] {
  const services = manifests.filter((m) => m.kind === "Service");
  const serviceOf = (app: string | undefined) => services.filter((s) => s.spec?.selector?.app === app);
  const overlay = (name: string, podSpec: IPodSpec) => {
    for (const c of podSpec.containers) {
      delete c.ports;
      for (const [k, v] of Object.entries(env[name] ?? {})) c.env!.push({ name: k, value: v });
    }
    return podSpec;
  };
  const port = (podSpec: IPodSpec) => Number(podSpec.containers[0]!.env!.find((e) => e.name === "PORT")!.value);
  const out: Played[] = [];
  for (const m of structuredClone(manifests)) {
    if (m.kind === "Deployment") {
      const spec = m.spec!;
      spec.replicas = 1;
      secretFilesAsEnv(overlay(m.metadata.name, spec.template.spec!), m.metadata.name);
      const aliases = serviceOf(spec.template.metadata?.labels?.app)
        .filter((s) => s.spec?.clusterIP !== "None")
        .map((s) => s.metadata.name);
      out.push({ name: m.metadata.name, doc: m, aliases, port: port(spec.template.spec!) });
    } else if (m.kind === "StatefulSet") {
      const set = m.metadata.name;
      const setSpec = m.spec!;
      for (let i = 0; i < setSpec.replicas!; i++) {
        const name = `${set}-${i}`;
        const spec = overlay(set, structuredClone(setSpec.template.spec!));
        spec.hostname = name;
        secretFilesAsEnv(spec, name);
        // Each pod's volume as its volumeClaimTemplates name it: <template>-<set>-<ordinal>.
        spec.volumes = [
          ...(spec.volumes ?? []),
          ...setSpec.volumeClaimTemplates!.map((v) => ({
            name: v.metadata!.name!,
            persistentVolumeClaim: { claimName: `${v.metadata!.name}-${name}` },
          })),
        ];
        const doc: IPod = {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name, labels: setSpec.template.metadata!.labels! },
          spec,
        };
        // The headless Service's name for this pod.
        out.push({ name, doc, aliases: [`${name}.${setSpec.serviceName}`], port: port(spec) });
      }
    }
  }
  return out;
}

/**
 * Each Secret's key a container reads as a file (`NAME_FILE`, a path in a
 * mounted `secret` volume), given instead as `NAME` from that same key
 * through `secretKeyRef`: the same secret, to the same pod alone. The key is
 * the pod's name for a mount of `subPathExpr: $(POD_NAME)` (a host's own
 * credential), else the file's name in the mounted Secret (the keys
 * service's seed). The mount, and its volume once no mount uses it, go.
 */
export function secretFilesAsEnv(spec: IPodSpec, pod: string): void {
  for (const c of spec.containers) {
    for (const e of [...(c.env ?? [])]) {
      const file = e.name.endsWith("_FILE") ? e.value : undefined;
      if (!file) continue;
      const mount = c.volumeMounts?.find((m) => m.mountPath === file || file.startsWith(`${m.mountPath}/`));
      const secret = spec.volumes?.find((v) => v.name === mount?.name)?.secret;
      if (!mount || !secret?.secretName) continue;
      const path =
        mount.mountPath === file
          ? mount.subPathExpr === "$(POD_NAME)"
            ? pod
            : mount.subPath
          : file.slice(mount.mountPath.length + 1);
      const key = secret.items?.find((i) => i.path === path)?.key ?? path;
      if (!key) continue;
      c.volumeMounts = c.volumeMounts!.filter((m) => m !== mount);
      c.env = c.env!.filter((x) => x !== e);
      c.env.push({
        name: e.name.slice(0, -"_FILE".length),
        valueFrom: { secretKeyRef: { name: secret.secretName, key } },
      });
    }
  }
  const mounted = new Set(spec.containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  if (spec.volumes) spec.volumes = spec.volumes.filter((v) => !v.secret || mounted.has(v.name));
}

/** A Secret's keys as podman 4.3's `secretKeyRef` reads a podman secret: a flat JSON object of key to base64 value. */
export function podmanSecretData(secret: { data?: Record<string, string>; stringData?: Record<string, string> }) {
  const data: Record<string, string> = { ...secret.data };
  for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = Buffer.from(v).toString("base64");
  return JSON.stringify(data);
}

const podman = async (args: string[]): Promise<string> =>
  (await execFile("podman", args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

/**
 * `podman secret create NAME -` with the data on stdin, never on a command
 * line or on disk. Through a shell's pipe: podman reads only a pipe there,
 * and Node's stdin for a child is a socket.
 */
const createSecret = (name: string, data: string) =>
  execFile("bash", ["-c", 'printf %s "$SECRET_DATA" | podman secret create "$0" -', name], {
    env: { ...process.env, SECRET_DATA: data },
  });
const quietly = (p: Promise<unknown>) => p.catch(() => undefined);

export class KubeStack {
  /** PostgreSQL and the XMTP node, from compose; also the credentials and secrets (its `vars`). */
  readonly base: ContainerStack;
  readonly plan: Played[];
  /** Each played pod's time from `kube play` to healthy. */
  startToHealthy: Record<string, number> = {};
  private dir = "";
  private containers = new Map<string, string>();
  private urls = new Map<string, string>();
  private readonly secrets: { metadata: { name: string }; stringData: Record<string, string> }[] = [];
  private readonly hostPods: string[];

  constructor(
    private readonly project: string,
    manifests: Manifest[],
    /** Variables added to each workload's containers, by workload (the test's, as compose.test.yaml adds them). */
    env: Record<string, Record<string, string>> = {},
  ) {
    this.plan = kubePlan(manifests, env);
    // Each host pod its own credential, by its address as the claims service names it.
    this.hostPods = this.plan.filter((p) => p.doc.kind === "Pod").map((p) => p.name);
    const hostUrls = this.plan.filter((p) => p.doc.kind === "Pod").map((p) => `http://${p.aliases[0]}:${p.port}`);
    this.base = new ContainerStack(project, {}, hostUrls);
  }

  static async load(file: string): Promise<Manifest[]> {
    return parseManifests(await readFile(file, "utf8"));
  }

  get creds() {
    return this.base.creds;
  }
  get xmtp() {
    return this.base.xmtp;
  }
  get xmtpUrl() {
    return this.base.xmtpUrl;
  }
  databaseUrl(name: "templates" | "claims" | "lineage" | "gateway") {
    return this.base.databaseUrl(name);
  }
  /** A played pod's address on the podman network, which the host reaches (podman runs as root). */
  url(name: string): string {
    const url = this.urls.get(name);
    if (!url) throw new Error(`${name} is not played`);
    return url;
  }

  async start(log: (line: string) => void = () => {}): Promise<void> {
    await this.base.start(log, ["postgres"]);
    // The services become healthy without the XMTP network (as in the compose stack): its node starts beside them.
    const xmtp = up(this.base.stack, ["xmtp"], log);
    xmtp.catch(() => undefined);
    const v = this.base.vars;
    this.dir = await mkdtemp(join(tmpdir(), "pool-kube-"));
    // The ConfigMap and Secrets deploy/k8s/secrets.example.yaml shows, made as deploy/README.md says.
    const configMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "pool" },
      data: {
        "pool-id": v.POOL_ID,
        "service-digests": v.POOL_SERVICE_DIGESTS,
        "xmtp-api-url": v.XMTP_API_URL,
        limits: "",
        operators: "",
        "trusted-proxies": "",
        // Empty: sign-ins only for the gateway's loopback address (these tests sign in nowhere).
        "public-url": "",
      },
    };
    await writeFile(join(this.dir, "configmap.yaml"), stringify(configMap));
    const db = (name: string) => `postgres://postgres:pool@postgres:5432/${name}`;
    this.secrets.push({
      metadata: { name: "pool" },
      stringData: {
        "session-secret": v.POOL_SESSION_SECRET!,
        "metrics-token": v.POOL_METRICS_TOKEN!,
        "secrets-key": v.POOL_SECRETS_KEY!,
        "attestation-keys": JSON.stringify([
          {
            kid: "kube-test",
            pem: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }),
          },
        ]),
        "templates-database-url": db("templates"),
        "claims-database-url": db("claims"),
        "lineage-database-url": db("lineage"),
        "gateway-database-url": db("gateway"),
      },
    });
    // The seed in a Secret of its own, which the keys service's pods alone mount.
    this.secrets.push({ metadata: { name: "master-seed" }, stringData: { seed: v.POOL_MASTER_SEED! } });
    for (const p of ["gateway", "templates", "claims", "lineage", "keys"] as const)
      this.secrets.push({ metadata: { name: `${p}-credential` }, stringData: { token: this.creds[p].token } });
    this.secrets.push({
      metadata: { name: "instance-host-credentials" },
      stringData: Object.fromEntries(
        this.hostPods.map((pod, i) => [pod, hostCredentials(this.creds, this.base.hostUrls[i]!).token]),
      ),
    });
    for (const s of this.secrets) {
      await quietly(podman(["secret", "rm", s.metadata.name]));
      await createSecret(s.metadata.name, podmanSecretData(s));
    }
    log(`podman secrets ${this.secrets.map((s) => s.metadata.name).join(", ")}`);
    const net = `${this.project}_default`;
    const t0 = performance.now();
    await Promise.all(
      this.plan.map(async (p) => {
        const file = join(this.dir, `${p.name}.yaml`);
        await writeFile(file, stringify(p.doc));
        const out = await podman([
          "kube",
          "play",
          "--replace",
          "--configmap",
          join(this.dir, "configmap.yaml"),
          "--network",
          `${net}:${p.aliases.map((a) => `alias=${a}`).join(",")}`,
          file,
        ]);
        // "Pod:\n<id>\nContainer:\n<id>"
        const container = out.split("\n").at(-1)!.trim();
        this.containers.set(p.name, container);
        const ip = await podman([
          "inspect",
          "--format",
          `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`,
          container,
        ]);
        this.urls.set(p.name, `http://${ip}:${p.port}`);
        log(`${p.name} played (${p.aliases.join(", ")} at ${ip})`);
      }),
    );
    await Promise.all(
      this.plan.map(async (p) => {
        await this.waitHealthy(p.name);
        this.startToHealthy[p.name] = performance.now() - t0;
        log(`${p.name} healthy ${((performance.now() - t0) / 1000).toFixed(1)} s after kube play`);
      }),
    );
    await xmtp;
  }

  /** A played pod's log lines (stdout and stderr). */
  async logs(name: string): Promise<string[]> {
    const container = this.containers.get(name);
    if (!container) throw new Error(`${name} is not played`);
    const { stdout, stderr } = await execFile("podman", ["logs", container], { maxBuffer: 256 * 1024 * 1024 });
    return `${stdout}${stderr}`.split("\n").filter(Boolean);
  }

  /** The image's health check (gRPC health on PORT, as the manifests' probes ask) until it passes. */
  async waitHealthy(name: string, ms = 180_000): Promise<void> {
    const container = this.containers.get(name)!;
    for (const t0 = Date.now(); ; ) {
      if (
        await podman(["exec", container, "node", "deploy/health.mjs"]).then(
          () => true,
          () => false,
        )
      )
        return;
      if (Date.now() - t0 > ms) {
        const logs = await podman(["logs", "--tail", "20", container]).catch((e: Error) => e.message);
        throw new Error(`${name} is not healthy after ${ms / 1000} s; its last lines:\n${logs}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async close(): Promise<void> {
    if (process.env.POOL_KEEP_STACK) return;
    // Their containers first, 5 s after SIGTERM at most: `kube down` alone waits out each pod's grace
    // period (an instance host's is 60 s), and podman 4.3's parallel downs have taken minutes.
    const containers = [...this.containers.values()];
    if (containers.length > 0) await quietly(podman(["rm", "-f", "-t", "5", ...containers]));
    for (const p of this.plan) await quietly(podman(["kube", "down", join(this.dir, `${p.name}.yaml`)]));
    for (const p of this.plan)
      if (p.doc.kind === "Pod")
        for (const v of p.doc.spec?.volumes ?? [])
          if (v.persistentVolumeClaim) await quietly(podman(["volume", "rm", "-f", v.persistentVolumeClaim.claimName]));
    for (const s of this.secrets) await quietly(podman(["secret", "rm", s.metadata.name]));
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    await this.base.close();
  }
}
