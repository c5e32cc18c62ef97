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
import { freePort, generateServiceCredentials } from "@convos-pool/kit";
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

export class ContainerStack {
  readonly creds = generateServiceCredentials();
  vars: Record<string, string> = {};
  stack!: Stack;
  xmtp!: XmtpPort;
  /** Each service's time from its container's start to healthy, at the first `up`. */
  startToHealthy: Record<string, number> = {};

  constructor(
    private readonly project: string,
    /** Variables beyond the credentials and secrets (LLM_BASE_URL, POOL_TOOLS_WITHOUT_GRANT...). */
    private readonly extra: Record<string, string> = {},
  ) {}

  async start(log: (line: string) => void = () => {}): Promise<void> {
    this.xmtp = await xmtpPortForTest({ timeoutMs: 120_000 });
    const ports: Record<string, string> = { XMTP_PORT: String(this.xmtp.port) };
    for (const v of Object.values(PUBLISHED)) ports[v] = String(await freePort());
    this.vars = {
      // `npm run -s credentials`: one token per service, the digests for all.
      GATEWAY_SERVICE_TOKEN: this.creds.gateway.token,
      TEMPLATES_SERVICE_TOKEN: this.creds.templates.token,
      CLAIMS_SERVICE_TOKEN: this.creds.claims.token,
      LINEAGE_SERVICE_TOKEN: this.creds.lineage.token,
      INSTANCE_HOST_SERVICE_TOKEN: this.creds["instance-host"].token,
      POOL_SERVICE_DIGESTS: this.creds.gateway.directory.toString(),
      // The pool the test helpers sign for (kit signing.ts LOCAL_POOL_ID); an operator names their own.
      POOL_ID: "local",
      // openssl rand -hex 32 (16 for the metrics token).
      POOL_SESSION_SECRET: randomBytes(32).toString("hex"),
      POOL_METRICS_TOKEN: randomBytes(16).toString("hex"),
      POOL_SECRETS_KEY: randomBytes(32).toString("hex"),
      POOL_MASTER_SEED: randomBytes(32).toString("hex"),
      XMTP_API_URL: "http://xmtp:5556",
      // Below this machine's hard limit of open files (compose.yaml's default is 65536).
      INSTANCE_HOST_NOFILE: "10000",
      POOL_IMAGE: process.env.POOL_IMAGE ?? "localhost/convos-pool:latest",
      ...ports,
      ...this.extra,
    };
    this.stack = loadStack(["deploy/compose.yaml", "deploy/test/compose.test.yaml"], this.vars, this.project);
    await down(this.stack, true);
    this.startToHealthy = await up(this.stack, undefined, log);
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

  async logs(service: string): Promise<string[]> {
    const { stdout, stderr } = await execFile("podman", ["logs", containerName(this.stack, service)], {
      maxBuffer: 256 * 1024 * 1024,
    });
    return `${stdout}${stderr}`.split("\n").filter(Boolean);
  }

  async close(): Promise<void> {
    if (this.stack && !process.env.POOL_KEEP_STACK) await down(this.stack, true);
    await this.xmtp?.release();
  }
}
