/**
 * TEST HARNESS, NOT PRODUCT CODE. The pool with every part real, wired as
 * `npm start` wires it, for the end-to-end tests (e2e.int.test.ts,
 * sync-e2e.int.test.ts): the local XMTP node on the test's own port
 * (xmtp-port.ts: the Convos CLI reaches it through its bridge), the template service
 * checking signatures against that node, a real instance host whose instances
 * are real XMTP clients, the claims service on PostgreSQL running its warm
 * pool on that host and feeding the lineage service, and the real Convos CLI serving a conversation
 * (`convos agent serve`) whose invite the tests claim agents into.
 *
 * The instance host comes back on the same port and data directory
 * (`host.close()`, then `startHost()`), the claims service on the same port
 * and database (`claims.close()`, then `startClaims()`); the clients stay good.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { XmtpInboxResolver } from "@convos-pool/convos";
import { ConvosCli, type ReadyEvent } from "./convos.js";
import { startInstanceHost, type InstanceHostOptions, type RunningInstanceHost } from "@convos-pool/instance";
import {
  createLogger,
  createServiceClient,
  freePort,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit";
import { createTestDatabase } from "./index.js";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService, type TemplateServiceOptions } from "@convos-pool/templates";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { xmtpPortForTest, type XmtpPort } from "./xmtp-port.js";
import {
  Maildirs,
  startLocalAgentMail,
  startLocalChain,
  startLocalMail,
  startLocalPop3,
  startLocalSms,
  type LocalAgentMail,
  type LocalSms,
  type RunningChain,
  type RunningMail,
  type RunningPop3,
} from "@convos-pool/local-providers";
import { SecretBox } from "@convos-pool/claims";
import { startClaimsService, type ClaimsServiceOptions, type RunningClaimsService } from "@convos-pool/claims";

type Sink = (line: string) => void;

export interface RealStackOptions {
  /** Names the directory (`<name>-…`) and the test databases (`<name>_xmtp`, `<name>_templates`, `<name>_claims`). */
  name: string;
  /** How long to wait for the local XMTP port while another test file holds it. */
  lockTimeoutMs: number;
  /** The conversation the Convos CLI creates and serves, as "Saul" (`agent serve --name`). */
  conversationName: string;
  /** Where each part's log lines go, at level debug; a part without one logs nothing. */
  logs: { templates?: Sink; host: Sink; claims: Sink };
  /** The template service's relay of new content versions to the claims service (its URL is filled in). */
  templatesSync?: Omit<NonNullable<TemplateServiceOptions["sync"]>, "claimsUrl">;
  /** More of the instance host's options (join timeout, model server). */
  host?: Partial<InstanceHostOptions>;
  /** The claims service's warm pool on the instance host, and more of its options (SMS range, sync). */
  claims: { pool: { target: number; intervalMs?: number } } & Partial<Omit<ClaimsServiceOptions, "pool">>;
  /**
   * Numbers bought from Telnyx and mailboxes made at AgentMail: the production
   * providers, against the stand-ins of those services, instead of the local range and maildirs.
   */
  productionProviders?: boolean;
}

const logger = (name: string, sink: Sink | undefined) =>
  sink ? createLogger(name, { level: "debug", sink }) : createLogger(name, { level: "silent" });

export class RealStack {
  /** Each part's own credential; the test's clients act as the gateway (people's calls) or the claims service (the host). */
  readonly creds = generateServiceCredentials();
  /** The claims service's POOL_SECRETS_KEY. */
  readonly secretsKey = SecretBox.generateKey();
  /** The pool's master seed: 32 bytes of hex (a BIP-39 mnemonic works too). */
  readonly masterSeed = randomBytes(32).toString("hex");

  /** The port of the test's XMTP node (the Convos CLIs of the test pass it to ConvosCli.start). */
  xmtp: XmtpPort | undefined;
  node: RunningDevnode | undefined;
  /** The local chain agents' wallets are on, funded from its faucet. */
  chain: RunningChain | undefined;
  /** Agents' mail (SMTP in, POP3 to read) and texts (Telnyx's API), as `npm start` runs them. */
  mail: RunningMail | undefined;
  pop3: RunningPop3 | undefined;
  sms: LocalSms | undefined;
  /** With `productionProviders`: the AgentMail stand-in. */
  agentmail: LocalAgentMail | undefined;
  templates: RunningTemplateService | undefined;
  host: RunningInstanceHost | undefined;
  claims: RunningClaimsService | undefined;
  /** The lineage service the claims service feeds. */
  lineage: RunningLineageService | undefined;
  lineageDatabaseUrl = "";
  /** The Convos CLI serving the conversation, and its `ready` event (the conversation, its invite, the CLI's inbox). */
  cli: ConvosCli | undefined;
  ready!: ReadyEvent;
  /** Everything on disk: `host/` (instance workspaces), `claims/` (local providers), `cli/`. */
  dir = "";
  claimsDatabaseUrl = "";
  templatesDatabaseUrl = "";
  /** The local XMTP node's database: what the node stores (ciphertext only). */
  nodeDatabaseUrl = "";
  templatesSc: ServiceClient<typeof TemplateService> | undefined;
  claimsSc: ServiceClient<typeof ClaimService> | undefined;
  private claimsPort = 0;

  constructor(private readonly opts: RealStackOptions) {}

  async start(): Promise<void> {
    const { name, logs } = this.opts;
    this.xmtp = await xmtpPortForTest({ timeoutMs: this.opts.lockTimeoutMs });
    this.dir = await mkdtemp(join(tmpdir(), `${name}-`));
    const [nodeDb, templatesDb, claimsDb, lineageDb] = await Promise.all([
      createTestDatabase(`${name}_xmtp`),
      createTestDatabase(`${name}_templates`),
      createTestDatabase(`${name}_claims`),
      createTestDatabase(`${name}_lineage`),
    ]);
    this.lineageDatabaseUrl = lineageDb;
    this.claimsDatabaseUrl = claimsDb;
    this.templatesDatabaseUrl = templatesDb;
    this.nodeDatabaseUrl = nodeDb;
    this.node = await startDevnode({ port: this.xmtp.port, databaseUrl: nodeDb });
    this.chain = await startLocalChain();
    const mailboxes = new Maildirs(join(this.dir, "claims", "mailboxes"));
    this.mail = await startLocalMail({ mailboxes });
    this.pop3 = await startLocalPop3({ mailboxes });
    this.sms = await startLocalSms();
    if (this.opts.productionProviders) this.agentmail = await startLocalAgentMail();
    this.cli = await ConvosCli.start(
      ["agent", "serve", "--name", this.opts.conversationName, "--profile-name", "Saul"],
      join(this.dir, "cli"),
      { xmtpPort: this.xmtp.port },
    );
    const cliReady = this.cli.waitFor<ReadyEvent>("ready", (e) => e.event === "ready", { ms: 30_000 });
    // A fixed port: the claims service comes back where the template service sends new versions.
    this.claimsPort = await freePort();
    const sync = this.opts.templatesSync;
    // As `npm start` wires them: signatures checked against the XMTP network.
    this.templates = await startTemplateService({
      databaseUrl: templatesDb,
      credentials: this.creds.templates,
      resolver: await XmtpInboxResolver.connect({ apiUrl: this.node.url }),
      sync: sync && { claimsUrl: `http://127.0.0.1:${this.claimsPort}`, ...sync },
      log: logger("templates", logs.templates),
    });
    this.templatesSc = createServiceClient(TemplateService, this.templates.url, this.creds.gateway);
    this.lineage = await startLineageService({
      databaseUrl: lineageDb,
      credentials: this.creds.lineage,
      templatesUrl: this.templates.url,
      log: logger("lineage", logs.templates),
    });
    await this.startHost();
    await this.startClaims();
    this.claimsSc = createServiceClient(ClaimService, this.claims!.url, this.creds.gateway);
    this.ready = await cliReady;
  }

  /** The instance host on its data directory; after `host.close()`, again on the same port (with `more` options, for example a model). */
  async startHost(more: Partial<InstanceHostOptions> = {}): Promise<RunningInstanceHost> {
    this.host = await startInstanceHost({
      port: this.host?.port,
      xmtpApiUrl: this.node!.url,
      masterSeed: this.masterSeed,
      dataDir: join(this.dir, "host"),
      credentials: this.creds["instance-host"],
      log: logger("instance-host", this.opts.logs.host),
      // As `npm start`: inert until an owner opts in (a test sets patternQueryIntervalMs low to see it soon).
      patternPoolUrl: this.lineage!.url,
      ...this.opts.host,
      ...more,
      tools: {
        mail: { smtpUrl: this.mail!.url, pop3Url: this.pop3!.url },
        chain: { rpcUrl: this.chain!.rpcUrl },
        sms: { apiUrl: this.sms!.url, apiKey: this.sms!.apiKey, webhookPublicKey: this.sms!.webhookPublicKey },
        ...(this.agentmail ? { agentmail: { apiUrl: this.agentmail.url } } : {}),
        mailPollMs: 500,
        ...this.opts.host?.tools,
        ...more.tools,
      },
    });
    return this.host;
  }

  /** The claims service with its warm pool on the host; after `claims.close()`, again on the same port and database. */
  async startClaims(): Promise<RunningClaimsService> {
    const { pool, ...more } = this.opts.claims;
    this.claims = await startClaimsService({
      port: this.claimsPort,
      databaseUrl: this.claimsDatabaseUrl,
      credentials: this.creds.claims,
      templatesUrl: this.templates!.url,
      secretsKey: this.secretsKey,
      dataDir: join(this.dir, "claims"),
      log: logger("claims", this.opts.logs.claims),
      lineageUrl: this.lineage!.url,
      chain: { rpcUrl: this.chain!.rpcUrl, faucetKey: this.chain!.faucetKey },
      ...(this.opts.productionProviders
        ? {
            telnyx: { apiUrl: this.sms!.url, apiKey: this.sms!.apiKey },
            agentmail: { apiUrl: this.agentmail!.url, apiKey: this.agentmail!.apiKey },
          }
        : {}),
      ...more,
      pool: { hostUrls: [this.host!.url], ...pool },
    });
    return this.claims;
  }

  /** Stops what started, in reverse, gives back the XMTP port and removes the directory. */
  async close(): Promise<void> {
    for (const sc of [this.templatesSc, this.claimsSc]) sc?.close();
    await this.claims?.close();
    await this.host?.close();
    await this.lineage?.close();
    await this.templates?.close();
    await this.cli?.stop();
    await this.node?.close();
    await this.chain?.close();
    await this.mail?.close();
    await this.pop3?.close();
    await this.sms?.close();
    await this.agentmail?.close();
    await this.xmtp?.release();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
