/**
 * TEST HARNESS, NOT PRODUCT CODE. The pool as deploy/compose.yaml runs it:
 * each service's main.ts in its own process, with the environment that
 * compose.yaml gives it, read from the file itself. Only what a container
 * platform would supply differs: service host names become 127.0.0.1 and
 * free ports, the databases are test databases of the real PostgreSQL that
 * `npm test` runs, volumes are temporary directories, and the XMTP network
 * is the project's local node (its own main.ts, on the test's own port:
 * xmtp-port.ts; the test's Convos CLIs take `xmtpPort`). A test may add sizing knobs that compose.yaml
 * leaves to their defaults (the warm pool's size); nothing else.
 *
 * Replicas (docs/scaling.md; `replicas`): replica n of a service is another
 * process of the same compose service, named `<service>-<n>`, on its own
 * port, with the same databases and volumes, but an instance host's replica
 * has its own volume (a StatefulSet's pod its own disk) and its own name, which
 * INSTANCE_HOST_URLS may list (`http://instance-host-2:7100`). A replica n of
 * a stateless service calls replica n of another stateless service that has
 * as many replicas, as though each had its own load balancer endpoint; so
 * killing one replica leaves a whole path of the others. Every other call to
 * a stateless service with replicas goes through its front (front.ts), as
 * through its Kubernetes Service: to whichever replica answers.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import {
  freePort,
  generateServiceCredentials,
  hostCredentials,
  type Principal,
  type ServiceCredentialSet,
} from "@convos-pool/kit/server";
import { LOCAL_POOL_ID } from "@convos-pool/kit/signing";
import {
  createTestDatabase,
  startServiceProcess,
  type PostgresServer,
  type ServiceProcess,
} from "@convos-pool/testing";
import { xmtpPortForTest, type XmtpPort } from "@convos-pool/testing/xmtp-port";
import { type Front, startFront } from "./front.js";

/**
 * The services of deploy/compose.yaml, in the order they start: the keys service before the hosts, whose
 * agents start with their keys (it asks the claims service on each call, not at start).
 */
export const DEPLOYED = ["templates", "lineage", "keys", "instance-host", "claims", "gateway"] as const;
export type DeployedService = (typeof DEPLOYED)[number];
/** A service's first process (its compose name) or a further replica (`claims-2`). */
export type ProcessName = DeployedService | `${DeployedService}-${number}`;

/** The compose service a process name runs, and which replica it is (1: the first). */
export function replicaOf(name: ProcessName): { service: DeployedService; n: number } {
  const m = /^(.*)-(\d+)$/.exec(name);
  if (m && (DEPLOYED as readonly string[]).includes(m[1]!))
    return { service: m[1] as DeployedService, n: Number(m[2]) };
  return { service: name as DeployedService, n: 1 };
}

/** Services that keep nothing of their own: any replica of one answers as well as another. */
const STATELESS = new Set<DeployedService>(["templates", "lineage", "keys", "claims", "gateway"]);

/** Each service's principal (its credential). */
export const PRINCIPAL_OF: Record<DeployedService, Principal> = {
  templates: "templates",
  lineage: "lineage",
  keys: "keys",
  "instance-host": "instance-host",
  claims: "claims",
  gateway: "gateway",
};

interface ComposeService {
  /** The image's `node` unless a service names its own: `node <flags>`. */
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number>;
}

/** deploy/compose.yaml's services, read from the file. */
export async function composeServices(): Promise<Record<string, ComposeService>> {
  return (parse(await readFile(resolve("deploy/compose.yaml"), "utf8")) as { services: Record<string, ComposeService> })
    .services;
}

/** The Node flags a compose service runs with: those of its own entrypoint (`node <flags>`), none under the image's. */
export function nodeFlagsOf(spec: ComposeService | undefined): string[] {
  return (spec?.entrypoint ?? []).filter(
    (arg, i, all) => arg.startsWith("--") && arg !== "--import" && all[i - 1] !== "--import",
  );
}

/** `${NAME}`, `${NAME:-default}` and `${NAME:?message}`, as compose substitutes them. */
export function substitute(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_, name: string, op: string | undefined, arg: string | undefined) => {
      const v = vars[name];
      if (v !== undefined && v !== "") return v;
      if (op === "?") throw new Error(`deploy/compose.yaml: ${arg || `${name} is required`}`);
      return op === "-" ? (arg ?? "") : "";
    },
  );
}

export interface DeployedPoolOptions {
  /** Names the test databases and the directory. */
  name: string;
  /** How long to wait for the local XMTP port while another test file holds it. */
  lockTimeoutMs?: number;
  /** Variables an operator sets beyond the credentials and secrets (POOL_LIMITS, LLM_BASE_URL...). */
  vars?: Record<string, string>;
  /** Sizing knobs compose.yaml leaves to their defaults, per service (POOL_TARGET_IDLE). */
  sizing?: Partial<Record<DeployedService, Record<string, string>>>;
  /** A PostgreSQL server of the test's own for the services' databases (one it may stop); default: the shared test server. */
  postgres?: PostgresServer;
  /** The local XMTP node's environment beyond its database (its rate limits: docs/xmtp-devnode.md). */
  xmtpEnv?: Record<string, string>;
  /** How many processes of each service to run (default 1): replicas 2.. are `<service>-<n>`. */
  replicas?: Partial<Record<DeployedService, number>>;
}

export class DeployedPool {
  /** Each service's own credential, and each instance host's own by its address, as `npm run -s credentials` makes them (at start, once the addresses are known). */
  creds: ServiceCredentialSet = generateServiceCredentials();
  /** What an operator puts in compose's environment. */
  vars: Record<string, string> = {};
  readonly processes = new Map<ProcessName | "xmtp", ServiceProcess>();
  /** Each service's database (a test database standing for compose's postgres service). */
  readonly databases = new Map<string, string>();
  /** The environment each service got. */
  readonly envs = new Map<ProcessName, Record<string, string>>();
  dir = "";
  private compose: Record<string, ComposeService> = {};
  private ports = new Map<string, number>();
  /** Each replicated stateless service's address in front of its replicas. */
  private readonly fronts = new Map<DeployedService, Front>();
  /** The port of the local XMTP node (the test's Convos CLIs pass it to ConvosCli.start). */
  xmtp: XmtpPort | undefined;
  private xmtpDatabase = "";
  /** Every process started, also the ones since killed (their lines stay readable). */
  private readonly started: ServiceProcess[] = [];

  constructor(private readonly opts: DeployedPoolOptions) {}

  url(service: ProcessName | "xmtp"): string {
    const p = this.processes.get(service);
    if (!p) throw new Error(`${service} is not running`);
    return p.url;
  }

  async start(): Promise<void> {
    this.compose = await composeServices();
    this.dir = await mkdtemp(join(tmpdir(), `${this.opts.name}-`));
    this.xmtp = await xmtpPortForTest({ timeoutMs: this.opts.lockTimeoutMs ?? 120_000 });
    this.xmtpDatabase = await createTestDatabase(`${this.opts.name}_xmtp`);
    const xmtp = await this.startXmtp();
    // Every service's address is known before any starts: templates and claims call each other, and each
    // instance host's credential is bound to its address.
    for (const s of this.names()) this.ports.set(s, await freePort());
    for (const s of DEPLOYED) {
      if (!STATELESS.has(s) || this.count(s) < 2) continue;
      const replicas = this.names().filter((n) => replicaOf(n).service === s);
      this.fronts.set(s, await startFront(await freePort(), () => replicas.map((n) => this.ports.get(n)!)));
    }
    this.creds = generateServiceCredentials(
      undefined,
      this.names()
        .filter((n) => replicaOf(n).service === "instance-host")
        .map((n) => this.hostUrl(n)),
    );
    const tokens = Object.fromEntries(
      DEPLOYED.map((s) => [
        `${PRINCIPAL_OF[s].toUpperCase().replace(/-/g, "_")}_SERVICE_TOKEN`,
        this.creds[PRINCIPAL_OF[s]].token,
      ]),
    );
    this.vars = {
      ...tokens,
      POOL_SERVICE_DIGESTS: this.creds.gateway.directory.toString(),
      POOL_SESSION_SECRET: randomBytes(32).toString("hex"),
      POOL_METRICS_TOKEN: randomBytes(16).toString("hex"),
      // The pool the tests sign for (kit signing/sign.ts).
      POOL_ID: LOCAL_POOL_ID,
      POOL_SECRETS_KEY: randomBytes(32).toString("hex"),
      // The keys service's alone (compose.yaml gives it to no other service).
      POOL_MASTER_SEED: randomBytes(32).toString("hex"),
      XMTP_API_URL: xmtp.url,
      // compose.yaml's default names its two hosts; here, the hosts this pool runs.
      INSTANCE_HOST_URLS: this.names()
        .filter((n) => replicaOf(n).service === "instance-host")
        .map((n) => `http://${n}:7100`)
        .join(","),
      ...this.opts.vars,
    };
    // Where people reach the gateway (one URL for all its replicas, as behind a load balancer): the first one's.
    this.vars.POOL_PUBLIC_URL ??= `http://127.0.0.1:${this.ports.get("gateway")}`;
    // A service's replicas start together (its database migrated by whichever comes first).
    for (const s of DEPLOYED)
      await Promise.all(
        this.names()
          .filter((n) => replicaOf(n).service === s)
          .map((n) => this.startService(n)),
      );
  }

  /** An instance host's address, as the claims service names it here (compose's http://instance-host:7100, made local). */
  hostUrl(name: ProcessName): string {
    return `http://127.0.0.1:${this.ports.get(name)}`;
  }

  /** Every process name, in start order. */
  names(): ProcessName[] {
    return DEPLOYED.flatMap((s) =>
      Array.from({ length: this.count(s) }, (_, i) => (i === 0 ? s : (`${s}-${i + 1}` as ProcessName))),
    );
  }

  /** How many processes of `service` run. */
  private count(service: DeployedService): number {
    return this.opts.replicas?.[service] ?? 1;
  }

  /** The port `name` (replica n of `service`) reaches compose's `host` at, or none for a name that is not a process. */
  private portFor(service: DeployedService, n: number, host: string): number | undefined {
    const own = `${host}-${n}`;
    // An instance host naming itself (its own address, as INSTANCE_HOST_URLS names it): replica n is its own host.
    if (n > 1 && service === "instance-host" && host === "instance-host") return this.ports.get(own);
    const target = host as DeployedService;
    const path = STATELESS.has(service) && STATELESS.has(target) && this.count(service) === this.count(target);
    if (path && n > 1 && this.ports.has(own)) return this.ports.get(own);
    if (path) return this.ports.get(host);
    return this.fronts.get(target)?.port ?? this.ports.get(host);
  }

  /** The environment compose.yaml gives `name`'s service, made local (see the top of this file). */
  async environment(name: ProcessName): Promise<Record<string, string>> {
    const { service, n } = replicaOf(name);
    const spec = this.compose[service];
    if (!spec?.environment) throw new Error(`deploy/compose.yaml has no environment for ${service}`);
    const env: Record<string, string> = {};
    for (const [key, raw] of Object.entries(spec.environment)) {
      let value = substitute(String(raw), this.vars);
      // Other services by their compose name: here, on loopback (replica n's own, for a stateless one that has it).
      value = value.replace(/\bhttp:\/\/([a-z0-9-]+):(\d+)/g, (m, host: string) => {
        const port = this.portFor(service, n, host);
        return port === undefined ? m : `http://127.0.0.1:${port}`;
      });
      // compose's postgres service: one test database per database name.
      const db = /^postgres:\/\/[^@]+@postgres:\d+\/([a-z_]+)$/.exec(value);
      if (db) value = await this.database(db[1]!);
      // Volumes: an instance host's replica has its own disk; other replicas share the service's, as compose's --scale does.
      if (value.startsWith("/data/"))
        value = join(this.dir, n > 1 && service === "instance-host" ? `${value}-${n}` : value);
      env[key] = value;
    }
    // Each instance host its own credential (compose: INSTANCE_HOST_SERVICE_TOKEN, INSTANCE_HOST_2_SERVICE_TOKEN).
    if (service === "instance-host") env.POOL_SERVICE_TOKEN = hostCredentials(this.creds, this.hostUrl(name)).token;
    return {
      ...env,
      PORT: String(this.ports.get(name)),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      ...this.opts.sizing?.[service],
    };
  }

  /** Starts `name` from its service's main.ts (again after `stop`: same port, database and volumes), with `override` on top. */
  async startService(name: ProcessName, override: Record<string, string> = {}): Promise<ServiceProcess> {
    const { service } = replicaOf(name);
    const spec = this.compose[service];
    // The image runs the compiled JavaScript (services/<name>/src/main.js); here, its TypeScript source.
    const script = spec?.command?.[0]?.replace(/\.js$/, ".ts");
    if (!script) throw new Error(`deploy/compose.yaml names no command for ${service}`);
    const env = { ...(await this.environment(name)), ...override };
    this.envs.set(name, env);
    const p = await startServiceProcess(script, {
      port: this.ports.get(name)!,
      env,
      nodeArgs: nodeFlagsOf(spec),
      ...(service === "instance-host" ? { readyPrefix: "instance host:" } : {}),
    });
    this.processes.set(name, p);
    this.started.push(p);
    return p;
  }

  /** The local XMTP node (again after a crash: same port and database). */
  async startXmtp(): Promise<ServiceProcess> {
    const xmtp = await startServiceProcess("services/xmtp-devnode/src/main.ts", {
      port: this.xmtp!.port,
      env: { DATABASE_URL: this.xmtpDatabase, ...this.opts.xmtpEnv },
      readyPrefix: "XMTP devnode:",
    });
    this.processes.set("xmtp", xmtp);
    this.started.push(xmtp);
    return xmtp;
  }

  /** Crashes `service` (SIGKILL: no shutdown of its own); `startService` brings it back. */
  async killService(service: ProcessName | "xmtp"): Promise<void> {
    await this.processes.get(service)?.kill("SIGKILL");
    this.processes.delete(service);
  }

  async stopService(service: ProcessName): Promise<void> {
    await this.processes.get(service)?.stop();
    this.processes.delete(service);
  }

  /** One per name, also when replicas starting together ask at once. */
  private readonly creating = new Map<string, Promise<string>>();

  private async database(name: string): Promise<string> {
    let url = this.creating.get(name);
    if (!url) {
      url = this.opts.postgres
        ? this.opts.postgres.createDatabase(name)
        : createTestDatabase(`${this.opts.name}_${name}`);
      this.creating.set(name, url);
    }
    this.databases.set(name, await url);
    return url;
  }

  /** Every line every process wrote, those since killed included. */
  logLines(): string[] {
    return this.started.flatMap((p) => p.lines);
  }

  async close(): Promise<void> {
    for (const s of this.names().reverse()) await this.stopService(s).catch(() => {});
    for (const front of this.fronts.values()) await front.close();
    await this.processes.get("xmtp")?.stop();
    await this.xmtp?.release();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
