/**
 * TEST HARNESS, NOT PRODUCT CODE. What the claims service's gRPC tests against
 * the STAND-IN instance host (stand-in-host.ts) run on: the real template
 * service in-process on its own test database, the stand-in host, the real
 * claims service on a test database of real PostgreSQL (its real local
 * providers under a temporary data directory), gRPC clients of both, and the
 * claims database opened directly (MikroORM `db`, `pg` client `sql`) to seed
 * and check rows; with `ratings`, also the real lineage service (which the
 * claims service relays to and the templates service asks before an owner
 * rates) on a test database of its own.
 *
 * A test file makes one at load, starts it in beforeAll and closes it in
 * afterAll; its helpers (`seedIdle`, `rows`, …) are bound, so they can be
 * taken apart at load and called once it has started.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@connectrpc/connect";
import pg from "pg";
import { expect } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import {
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type LimitConfig,
} from "@convos-pool/kit/server";
import type { TemplateContentJson } from "@convos-pool/kit/content";
import { sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import { createTestDatabase, freePort } from "@convos-pool/testing";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { answeredOthersOn } from "@convos-pool/lineage/testing/days-with-others";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { OPEN_BUDGET, type PoolBudget } from "../src/budget/policy.js";
import { entities } from "../src/db/entities.js";
import { markIdle, registerInstance } from "../src/pool/sql.js";
import { migrations } from "../src/schema/migrations.js";
import { SecretBox } from "../src/tools/secrets.js";
import { startClaimsService, type ClaimsServiceOptions, type RunningClaimsService } from "../src/server.js";
import { instanceRowOf, leftoversOf, mailboxCount, rowsOf } from "./helpers.js";
import { StandInHost } from "./stand-in-host.js";

export interface StandInStackOptions {
  /** Names the data directory (`claims-<name>-…`) and the test databases (`<name>_templates`, `<name>_claims`). */
  name: string;
  /** The numbers of the claims service's local SMS provider. */
  smsRange: string;
  /** The claims service's fan-out of template releases. */
  sync?: ClaimsServiceOptions["sync"];
  /** Where the claims service's log lines go, at level debug; without it the claims service logs nothing. */
  logSink?: (line: string) => void;
  /** Connections of `db`, the test's own MikroORM on the claims database. Default 2. */
  dbPoolSize?: number;
  /** The claims service's limits; default the service's (DEFAULT_LIMITS). */
  limits?: LimitConfig;
  /** The lineage service the claims service relays its lineage outbox to. */
  lineageUrl?: string;
  /** The templates service's operators (POOL_OPERATORS). */
  operators?: string[];
  /** The models the pool serves (POOL_MODELS); default the templates service's. */
  models?: string[];
  /** How long the claims service's template reads serve the next claims; default the service's. */
  templateCacheMs?: number;
  /** What the pool pays for; default OPEN_BUDGET (numbers and mailboxes without a grant, no daily caps). */
  budget?: PoolBudget;
  /**
   * Ratings: the templates service asks this claims service who owns agents
   * (TemplateOwnershipService), so the claims service gets a port named in
   * advance; and a lineage service of the stack's own, on a port named in
   * advance too, how much others used an owner's agent
   * (OwnerActivityService), fed by this claims service's relay.
   */
  ratings?: boolean;
  /** Wallets on this chain (its faucet funds them under a grant); default generated keys, off any chain. */
  chain?: { rpcUrl: string; faucetKey: `0x${string}` };
  /** How long a claim in flight is another replica's before the sweep takes it back; default the service's. */
  claimLeaseSeconds?: number;
}

export class StandInStack {
  /** Each part's own credential; the test's clients act as the gateway (people's calls), the templates service (sync) or the claims service (hosts). */
  readonly creds = generateServiceCredentials();
  /** The claims service's POOL_SECRETS_KEY. */
  readonly secretsKey = SecretBox.generateKey();

  templates!: RunningTemplateService;
  host!: StandInHost;
  /** The claims service and its clients: new ones after `startClaims` again. */
  claims!: RunningClaimsService;
  claimsClient!: Client<typeof ClaimService>;
  syncClient!: Client<typeof TemplateSyncService>;
  templatesClient!: Client<typeof TemplateService>;
  /** The claims database, opened by the test. */
  db!: Database;
  sql!: pg.Client;
  /** The claims service's data directory (local providers). */
  dataDir!: string;
  claimsDatabaseUrl = "";
  /** With `ratings`: the stack's lineage service and its database. */
  lineage: RunningLineageService | undefined;
  lineageDatabaseUrl = "";
  /** The claims service's port when named in advance (`ratings`); otherwise any. */
  private claimsPort: number | undefined;
  private lineagePort: number | undefined;
  private claimsServiceClients: { close(): void }[] = [];
  private templatesServiceClient: { close(): void } | undefined;

  constructor(private readonly opts: StandInStackOptions) {}

  /** The claims service's budget. */
  get budget(): PoolBudget {
    return this.opts.budget ?? OPEN_BUDGET;
  }

  async start(): Promise<void> {
    const { name } = this.opts;
    this.dataDir = await mkdtemp(path.join(tmpdir(), `claims-${name}-`));
    if (this.opts.ratings) [this.claimsPort, this.lineagePort] = [await freePort(), await freePort()];
    this.templates = await startTemplateService({
      ...(this.claimsPort ? { claimsUrl: `http://127.0.0.1:${this.claimsPort}` } : {}),
      ...(this.lineagePort ? { lineageUrl: `http://127.0.0.1:${this.lineagePort}` } : {}),
      databaseUrl: await createTestDatabase(`${name}_templates`),
      credentials: this.creds.templates,
      operators: this.opts.operators,
      ...(this.opts.models ? { models: this.opts.models } : {}),
      log: createLogger("templates", { level: "silent" }),
    });
    const templatesSc = createServiceClient(TemplateService, this.templates.url, this.creds.gateway);
    this.templatesServiceClient = templatesSc;
    this.templatesClient = templatesSc.client;
    if (this.lineagePort) {
      this.lineageDatabaseUrl = await createTestDatabase(`${name}_lineage`);
      this.lineage = await startLineageService({
        databaseUrl: this.lineageDatabaseUrl,
        port: this.lineagePort,
        host: "127.0.0.1",
        credentials: this.creds.lineage,
        templatesUrl: this.templates.url,
        log: createLogger("lineage", { level: "silent" }),
      });
    }
    this.host = await StandInHost.start(this.creds["instance-host"]);
    this.claimsDatabaseUrl = await createTestDatabase(`${name}_claims`);
    await this.startClaims();
    this.db = await openDatabase({
      name: "claims",
      url: this.claimsDatabaseUrl,
      entities,
      migrations,
      poolSize: this.opts.dbPoolSize ?? 2,
    });
    this.sql = new pg.Client({ connectionString: this.claimsDatabaseUrl });
    await this.sql.connect();
  }

  /**
   * Starts the claims service and its clients; again after `claims.close()`:
   * on the same database and data directory, with other limits if given.
   */
  async startClaims(limits: LimitConfig | undefined = this.opts.limits): Promise<void> {
    const { smsRange, sync, logSink } = this.opts;
    // The lineage service its outbox is relayed to: the test's, or the stack's own (`ratings`).
    const lineageUrl = this.opts.lineageUrl ?? this.lineage?.url;
    this.claims = await startClaimsService({
      ...(limits ? { limits } : {}),
      databaseUrl: this.claimsDatabaseUrl,
      ...(this.claimsPort ? { port: this.claimsPort, host: "127.0.0.1" } : {}),
      credentials: this.creds.claims,
      templatesUrl: this.templates.url,
      secretsKey: this.secretsKey,
      dataDir: this.dataDir,
      smsRange,
      sync,
      budget: this.budget,
      ...(this.opts.chain ? { chain: this.opts.chain } : {}),
      ...(this.opts.claimLeaseSeconds !== undefined ? { claimLeaseSeconds: this.opts.claimLeaseSeconds } : {}),
      // The tests run the sweep themselves, when their rows are ready for it.
      sweepIntervalMs: 3_600_000,
      ...(lineageUrl ? { lineageUrl } : {}),
      ...(this.opts.templateCacheMs !== undefined ? { templateCacheMs: this.opts.templateCacheMs } : {}),
      log: logSink
        ? createLogger("claims", { level: "debug", sink: logSink })
        : createLogger("claims", { level: "silent" }),
    });
    for (const sc of this.claimsServiceClients) sc.close();
    const claimsSc = createServiceClient(ClaimService, this.claims.url, this.creds.gateway);
    const syncSc = createServiceClient(TemplateSyncService, this.claims.url, this.creds.templates);
    this.claimsServiceClients = [claimsSc, syncSc];
    this.claimsClient = claimsSc.client;
    this.syncClient = syncSc.client;
  }

  /** Idle instances as the pool manager makes them: a row, started on the host, then idle. */
  readonly seedIdle = async (n: number, on: StandInHost = this.host): Promise<string[]> => {
    const hostClient = createServiceClient(InstanceHostService, on.url, this.creds.claims);
    const ids: string[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const r = await registerInstance(this.db.em.fork(), on.url);
        const started = await hostClient.client.startInstance({ instanceId: r.id, walletIndex: r.walletIndex });
        expect(await markIdle(this.db.em.fork(), r.id, started.inboxId)).toBe(true);
        ids.push(r.id);
      }
    } finally {
      hostClient.close();
    }
    return ids;
  };

  /** A template of `c` (sampleContent, `over` over it) made through the templates service, published unless private. */
  readonly createTemplate = (
    c: TestIdentity,
    over: Partial<TemplateContentJson> = {},
    visibility: "public" | "private" = "public",
  ) => signedTemplate(this.templatesClient, c, sampleContent(over), visibility);

  readonly rows = <T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> =>
    rowsOf<T>(this.sql, text, params);
  readonly instanceRow = (id: string) => instanceRowOf(this.sql, id);
  /** Where the local mail provider keeps its mailboxes. */
  readonly mailboxRoot = () => path.join(this.dataDir, "mailboxes");
  readonly mailboxCount = () => mailboxCount(this.mailboxRoot());
  readonly leftovers = (instanceId: string) => leftoversOf(this.sql, this.mailboxRoot(), instanceId);

  /**
   * With `ratings`: the agent `instanceId` answered two people besides its
   * owner on each of the UTC days `daysAgo` before today, as its signed
   * counts would have left it in lineage (lineage's
   * test/days-with-others.ts), once the claims service's relay fed lineage
   * the agent.
   */
  readonly answeredOthersOn = async (instanceId: string, daysAgo: readonly number[]): Promise<void> => {
    if (!this.lineage) throw new Error("answeredOthersOn: a stack with `ratings` has a lineage service");
    await this.claims.lineage?.drained();
    await answeredOthersOn(this.lineageDatabaseUrl, instanceId, daysAgo);
  };

  /** Stops what started, in reverse, and removes the data directory. */
  async close(): Promise<void> {
    await this.sql?.end();
    await this.db?.close();
    for (const sc of this.claimsServiceClients) sc.close();
    this.templatesServiceClient?.close();
    await this.claims?.close();
    await this.host?.kill();
    await this.lineage?.close();
    await this.templates?.close();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
