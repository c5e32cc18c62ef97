/**
 * TEST HARNESS. deploy/compose.yaml run as containers of the image built from
 * deploy/Dockerfile (deploy/podman.ts), with deploy/test/compose.test.yaml
 * laid over it: the project's local XMTP node as one more container, and
 * each service's port published on loopback for the test's clients and
 * checkers. What an operator sets (credentials, secrets, POOL_ID) is made
 * here as deploy/README.md says to make it.
 */
import { randomBytes } from "node:crypto";
import { execFile as execFileCb } from "node:child_process";
import { promisify } from "node:util";
import {
  freePort,
  generateServiceCredentials,
  hostCredentials,
  type ServiceCredentialSet,
} from "@convos-pool/kit/server";
import { xmtpPortForTest, type XmtpPort } from "@convos-pool/testing/xmtp-port";
import { containerName, down, kill, loadStack, up, waitHealthy, type Stack } from "../podman.js";

const execFile = promisify(execFileCb);

/** Containers by compose name, and the port each publishes on loopback (the variable compose.test.yaml reads). */
export const PUBLISHED = {
  postgres: "POSTGRES_PORT",
  templates: "TEMPLATES_PORT",
  claims: "CLAIMS_PORT",
  lineage: "LINEAGE_PORT",
  "instance-host": "INSTANCE_HOST_PORT",
  "instance-host-2": "INSTANCE_HOST_2_PORT",
  gateway: "GATEWAY_PORT",
} as const;
export type Published = keyof typeof PUBLISHED;

const DATABASES = ["templates", "claims", "lineage", "gateway"] as const;
/** The volumes the services write, and whose they are (compose.yaml). */
const VOLUMES = [
  ["instance-host", "instancedata"],
  ["instance-host-2", "instancedata2"],
  ["claims", "claimsdata"],
] as const;

/** compose.yaml's instance hosts, as its INSTANCE_HOST_URLS names them. */
export const COMPOSE_HOST_URLS = ["http://instance-host:7100", "http://instance-host-2:7100"];

export class ContainerStack {
  /** Each service its own, and each instance host its own, bound to its address (docs/security.md). */
  readonly creds: ServiceCredentialSet;
  vars: Record<string, string> = {};
  stack!: Stack;
  xmtp!: XmtpPort;
  /** Each service's time from its container's start to healthy, at the first `up`. */
  startToHealthy: Record<string, number> = {};

  constructor(
    private readonly project: string,
    /** Variables beyond the credentials and secrets (LLM_BASE_URL, POOL_TOOLS_WITHOUT_GRANT...). */
    private readonly extra: Record<string, string> = {},
    /** The instance hosts' addresses as the claims service names them: compose.yaml's two by default. */
    readonly hostUrls: readonly string[] = COMPOSE_HOST_URLS,
  ) {
    this.creds = generateServiceCredentials(undefined, hostUrls);
  }

  /** Brings up every service of the stack, or only those named (and what they depend on). */
  async start(log: (line: string) => void = () => {}, only?: string[]): Promise<void> {
    this.xmtp = await xmtpPortForTest({ timeoutMs: 120_000 });
    const ports: Record<string, string> = { XMTP_PORT: String(this.xmtp.port) };
    for (const v of Object.values(PUBLISHED)) ports[v] = String(await freePort());
    this.vars = {
      // `npm run -s credentials`: one token per service, the digests for all.
      GATEWAY_SERVICE_TOKEN: this.creds.gateway.token,
      TEMPLATES_SERVICE_TOKEN: this.creds.templates.token,
      CLAIMS_SERVICE_TOKEN: this.creds.claims.token,
      LINEAGE_SERVICE_TOKEN: this.creds.lineage.token,
      KEYS_SERVICE_TOKEN: this.creds.keys.token,
      // `npm run -s credentials` with the hosts' addresses: each host its own.
      ...Object.fromEntries(
        this.hostUrls.map((url, i) => [
          i === 0 ? "INSTANCE_HOST_SERVICE_TOKEN" : `INSTANCE_HOST_${i + 1}_SERVICE_TOKEN`,
          hostCredentials(this.creds, url).token,
        ]),
      ),
      POOL_SERVICE_DIGESTS: this.creds.gateway.directory.toString(),
      // The pool the test helpers sign for (kit signing/sign.ts LOCAL_POOL_ID); an operator names their own.
      POOL_ID: "local",
      // openssl rand -hex 32 (16 for the metrics token).
      POOL_SESSION_SECRET: randomBytes(32).toString("hex"),
      POOL_METRICS_TOKEN: randomBytes(16).toString("hex"),
      POOL_SECRETS_KEY: randomBytes(32).toString("hex"),
      POOL_MASTER_SEED: randomBytes(32).toString("hex"),
      XMTP_API_URL: "http://xmtp:5556",
      // Where the tests reach the gateway: its published port (sign-ins name this origin).
      POOL_PUBLIC_URL: `http://127.0.0.1:${ports.GATEWAY_PORT}`,
      // Below this machine's hard limit of open files (compose.yaml's default is 65536).
      INSTANCE_HOST_NOFILE: "10000",
      POOL_IMAGE: process.env.POOL_IMAGE ?? "localhost/convos-pool:latest",
      ...ports,
      ...this.extra,
    };
    this.stack = loadStack(["deploy/compose.yaml", "deploy/test/compose.test.yaml"], this.vars, this.project);
    await down(this.stack, true);
    this.startToHealthy = await up(this.stack, only, log);
  }

  url(service: Published): string {
    return `http://127.0.0.1:${this.vars[PUBLISHED[service]]}`;
  }

  get xmtpUrl(): string {
    return `http://127.0.0.1:${this.xmtp.port}`;
  }

  /** A service's database, through PostgreSQL's published port. */
  databaseUrl(name: "templates" | "claims" | "lineage" | "gateway"): string {
    return `postgres://postgres:pool@127.0.0.1:${this.vars.POSTGRES_PORT}/${name}`;
  }

  /** SIGKILL: no shutdown of its own. */
  async kill(service: string): Promise<void> {
    await kill(this.stack, service);
  }

  /** The same container again (its volumes, its address); resolves once it is healthy. */
  async restart(service: string): Promise<number> {
    await execFile("podman", ["start", containerName(this.stack, service)]);
    return waitHealthy(this.stack, service);
  }

  /** The environment a service's container runs with, as podman keeps it (what `podman.ts` gave it). */
  async env(service: string): Promise<Record<string, string>> {
    const { stdout } = await execFile("podman", [
      "inspect",
      "--format",
      "{{json .Config.Env}}",
      containerName(this.stack, service),
    ]);
    return Object.fromEntries(
      (JSON.parse(stdout) as string[]).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
  }

  async logs(service: string): Promise<string[]> {
    const { stdout, stderr } = await execFile("podman", ["logs", containerName(this.stack, service)], {
      maxBuffer: 256 * 1024 * 1024,
    });
    return `${stdout}${stderr}`.split("\n").filter(Boolean);
  }

  /**
   * deploy/README.md's backup, done as it says: each database with
   * `pg_dump -Fc` (the stack running), then each volume the services write
   * (the instance hosts' agents, the claims service's data) with its service
   * stopped. The master seed and the secrets key are `vars`, kept by the caller.
   */
  async backup(dir: string, log: (line: string) => void = () => {}): Promise<void> {
    const pg = containerName(this.stack, "postgres");
    for (const db of DATABASES) {
      await execFile("bash", ["-c", `podman exec ${pg} pg_dump -U postgres -Fc ${db} > '${dir}/${db}.dump'`]);
      log(`backup: ${db}.dump`);
    }
    for (const [service, volume] of VOLUMES) {
      await execFile("podman", ["stop", "-t", "60", containerName(this.stack, service)]);
      await execFile("podman", ["volume", "export", `${this.project}_${volume}`, "-o", `${dir}/${volume}.tar`]);
      log(`backup: ${volume}.tar (${service} stopped)`);
    }
  }

  /**
   * A fresh pool from a backup: every service's container and volume
   * removed (PostgreSQL's data included; the XMTP network is not the pool's
   * and stays), a new PostgreSQL, the dumps restored with `pg_restore`, the
   * volumes imported, then every service started with the same variables
   * (the same master seed and secrets key). Resolves once every service is healthy.
   */
  async restore(dir: string, log: (line: string) => void = () => {}): Promise<void> {
    const pool = Object.keys(this.stack.services).filter((s) => s !== "xmtp");
    await execFile("podman", ["rm", "-f", "-t", "5", ...pool.map((s) => containerName(this.stack, s))]);
    for (const v of this.stack.volumes) await execFile("podman", ["volume", "rm", "-f", `${this.project}_${v}`]);
    log("restore: the pool's containers and volumes removed");
    await up(this.stack, ["postgres"]);
    const pg = containerName(this.stack, "postgres");
    // Past its first start's initialisation (a server on its socket only): ready on TCP.
    for (const t0 = Date.now(); ; ) {
      const ready = await execFile("podman", ["exec", pg, "pg_isready", "-h", "127.0.0.1", "-U", "postgres"]).then(
        () => true,
        () => false,
      );
      if (ready) break;
      if (Date.now() - t0 > 60_000) throw new Error("the new PostgreSQL is not ready on TCP after 60 s");
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const db of DATABASES) {
      await execFile("bash", [
        "-c",
        `podman exec -i ${pg} pg_restore -U postgres -d ${db} --clean --if-exists --exit-on-error < '${dir}/${db}.dump'`,
      ]);
      log(`restore: ${db} restored`);
    }
    for (const [, volume] of VOLUMES) {
      // (podman 4.3's `volume create` has no --ignore)
      const name = `${this.project}_${volume}`;
      await execFile("podman", ["volume", "exists", name]).catch(() => execFile("podman", ["volume", "create", name]));
      await execFile("podman", ["volume", "import", name, `${dir}/${volume}.tar`]);
      log(`restore: ${volume} imported`);
    }
    await up(this.stack, pool, log);
  }

  /** Samples what each of its containers uses every `everyMs` until `stop` (UsageSampler). */
  sampleUsage(everyMs = 2_000): UsageSampler {
    return new UsageSampler(`${this.project}_`, everyMs);
  }

  async close(): Promise<void> {
    if (this.stack && !process.env.POOL_KEEP_STACK) await down(this.stack, true);
    await this.xmtp?.release();
  }
}

/** What a service's container used while sampled: the figures deploy/k8s/pool.yaml's requests come from. */
export interface Usage {
  /** The highest memory use seen (its cgroup's, page cache included), MiB. */
  peakMemMiB: number;
  /** CPU time over the time sampled, in cores (0.1: a tenth of a core). */
  avgCores: number;
}

/** `podman stats`' sizes are decimal (kB, MB, GB). */
const SIZE_UNITS: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };
/** Go's durations, as `podman stats` writes `cpu_time` ("1m3.5s", "820ms"). */
const DURATION_UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, µs: 1e-6, us: 1e-6, ns: 1e-9 };

export function parsePodmanSize(text: string): number {
  const m = /^([\d.]+)\s*([a-zA-Z]+)$/.exec(text.trim());
  if (!m || SIZE_UNITS[m[2]!] === undefined) throw new Error(`not a podman size: ${text}`);
  return Number(m[1]) * SIZE_UNITS[m[2]!]!;
}

export function parseGoDuration(text: string): number {
  let seconds = 0;
  for (const [, n, unit] of text.matchAll(/([\d.]+)(h|ms|µs|us|ns|m|s)/g))
    seconds += Number(n) * DURATION_UNITS[unit!]!;
  return seconds;
}

/**
 * `podman stats --no-stream` every `everyMs`: each container's highest
 * memory, and its CPU time summed across restarts (a killed container's
 * count starts again), by service.
 */
export class UsageSampler {
  private readonly started = Date.now();
  private readonly peak = new Map<string, number>();
  private readonly cpu = new Map<string, { last: number; total: number }>();
  private readonly timer: NodeJS.Timeout;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly prefix: string,
    everyMs: number,
  ) {
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample()).catch(() => undefined);
    }, everyMs);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    const { stdout } = await execFile("podman", ["stats", "--no-stream", "--format", "json"]);
    for (const c of JSON.parse(stdout) as { name: string; mem_usage: string; cpu_time: string }[]) {
      if (!c.name.startsWith(this.prefix)) continue;
      const service = c.name.slice(this.prefix.length);
      const mem = parsePodmanSize(c.mem_usage.split("/")[0]!) / 2 ** 20;
      this.peak.set(service, Math.max(this.peak.get(service) ?? 0, mem));
      const t = parseGoDuration(c.cpu_time);
      const was = this.cpu.get(service) ?? { last: 0, total: 0 };
      this.cpu.set(service, { last: t, total: was.total + (t >= was.last ? t - was.last : t) });
    }
  }

  /** Stops sampling; what each service used. */
  async stop(): Promise<Record<string, Usage>> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample();
    const wall = (Date.now() - this.started) / 1000;
    const out: Record<string, Usage> = {};
    for (const [service, peakMemMiB] of this.peak)
      out[service] = { peakMemMiB, avgCores: (this.cpu.get(service)?.total ?? 0) / wall };
    return out;
  }
}
