/**
 * TEST FIXTURE, NOT PRODUCT CODE (@convos-pool/claims/testing/fuzz-stack).
 * What the fuzzing of the services' own RPCs and of the gateway runs
 * against: the templates, lineage and claims services in this process, each
 * on a test database of its own and without limits (a fuzzer calls faster
 * than anyone may), and the STAND-IN instance host (stand-in-host.ts), on
 * which the claims service's warm pool keeps two idle agents, so that a
 * claim could take one if a bad input got through.
 *
 *   const stack = new FuzzStack({ name: "fuzz", creds: CREDS, smsRange: "+15550930000..+15550930019" });
 *   beforeAll(() => stack.start());
 *   afterAll(() => stack.close());
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger, type Principal, type ServiceCredentials } from "@convos-pool/kit/server";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { createTestDatabase } from "@convos-pool/testing";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { OPEN_BUDGET } from "../src/budget/policy.js";
import { SecretBox } from "../src/tools/secrets.js";
import { startClaimsService, type RunningClaimsService } from "../src/server.js";
import { StandInHost } from "./stand-in-host.js";

export interface FuzzStackOptions {
  /** Prefixes the test databases' names (`<name>_templates`, …) and names the data directory. */
  name: string;
  /** Each service's own credential. */
  creds: Record<Principal, ServiceCredentials>;
  /** The numbers of the claims service's local SMS provider. */
  smsRange: string;
}

const quiet = (name: string) => createLogger(name, { level: "silent" });

export class FuzzStack {
  templates!: RunningTemplateService;
  host!: StandInHost;
  lineage!: RunningLineageService;
  claims!: RunningClaimsService;
  /** Each service's database, to read what the fuzzing wrote. */
  readonly databases: Partial<Record<"templates" | "lineage" | "claims", string>> = {};
  private dataDir = "";

  constructor(private readonly opts: FuzzStackOptions) {}

  async start(): Promise<this> {
    const { name, creds } = this.opts;
    this.dataDir = await mkdtemp(path.join(tmpdir(), `${name}-`));
    for (const service of ["templates", "claims", "lineage"] as const)
      this.databases[service] = await createTestDatabase(`${name}_${service}`);
    this.templates = await startTemplateService({
      databaseUrl: this.databases.templates!,
      credentials: creds.templates,
      limits: {},
      log: quiet("templates"),
    });
    this.host = await StandInHost.start(creds["instance-host"]);
    this.lineage = await startLineageService({
      databaseUrl: this.databases.lineage!,
      credentials: creds.lineage,
      templatesUrl: this.templates.url,
      log: quiet("lineage"),
    });
    this.claims = await startClaimsService({
      // Numbers and mailboxes without an operator's grant: this measures something else (docs/limits.md).
      budget: OPEN_BUDGET,
      databaseUrl: this.databases.claims!,
      credentials: creds.claims,
      templatesUrl: this.templates.url,
      secretsKey: SecretBox.generateKey(),
      dataDir: this.dataDir,
      smsRange: this.opts.smsRange,
      pool: { hostUrls: [this.host.url], target: 2, intervalMs: 3_600_000 },
      lineageUrl: this.lineage.url,
      limits: {},
      log: quiet("claims"),
    });
    return this;
  }

  /** Stops what started, in reverse, and removes the data directory. */
  async close(): Promise<void> {
    await this.claims?.close();
    await this.lineage?.close();
    await this.host?.kill();
    await this.templates?.close();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
