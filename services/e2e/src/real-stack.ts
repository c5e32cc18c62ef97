/**
 * TEST HARNESS, NOT PRODUCT CODE. The pool with every part real, wired as
 * `npm start` wires it, for the end-to-end tests (claims-e2e.int.test.ts,
 * sync-e2e.int.test.ts): the local XMTP node on the test's own port
 * (xmtp-port.ts: the Convos CLI reaches it through its bridge), the template service
 * checking signatures against that node, a real instance host whose instances
 * are real XMTP clients, the claims service on PostgreSQL running its warm
 * pool on that host and feeding the lineage service, and the real Convos CLI serving a conversation
 * (`convos agent serve`) whose invite the tests claim agents into.
 *
 * The instance host comes back on the same port and data directory
 * (`host.close()`, then `startHost()`), the claims service on the same port
 * and database (`claims.close()`, then `startClaims()`, with options changed if
 * given: other attestation keys); the clients stay good. Their ports, and
 * lineage's, are held from `start()` to `close()` (kit's reservePort): no
 * other test process is given them before the services listen, nor between a
 * close and a restart.
 *
 * What the tests of a conversation or two share: more conversations, each
 * served by a Convos CLI of its own (`conversation()`), the person a CLI is
 * as a signer (`personOf()`), the claims database (`sql`, `rows()`), and a
 * wait for the warm pool (`idleAgents()`).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createPublicClient, createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { XmtpInboxResolver } from "@convos-pool/convos";
import { ConvosCli, runConvos, type ReadyEvent } from "@convos-pool/testing/convos-cli";
import { startInstanceHost, type InstanceHostOptions, type RunningInstanceHost } from "@convos-pool/instance";
import {
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  hostCredentials,
  type PortReservation,
  reservePort,
  type ServiceClient,
  withHostCredential,
} from "@convos-pool/kit/server";
import { startKeysService, type RunningKeysService } from "@convos-pool/keys";
import { deriveInboxId } from "@convos-pool/kit/signing";
import type { TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { startLineageService, type LineageServiceOptions, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService, type TemplateServiceOptions } from "@convos-pool/templates";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { xmtpPortForTest, type XmtpPort } from "@convos-pool/testing/xmtp-port";
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
import { OPEN_BUDGET, SecretBox, secretAad } from "@convos-pool/claims";
import { startClaimsService, type ClaimsServiceOptions, type RunningClaimsService } from "@convos-pool/claims";

type Sink = (line: string) => void;

export interface RealStackOptions {
  /** Names the directory (`<name>-…`) and the test databases (`<name>_xmtp`, `<name>_templates`, `<name>_claims`). */
  name: string;
  /** How long to wait for the local XMTP port while another test file holds it; default 3 minutes. */
  lockTimeoutMs?: number;
  /** The conversation the Convos CLI creates and serves, as "Saul" (`agent serve --name`). */
  conversationName: string;
  /**
   * Where each part's log lines go, at level debug; a part without one logs
   * nothing (`templates` serves the lineage service too). Without `logs`, every
   * part's lines are kept in `RealStack.logs`.
   */
  logs?: { templates?: Sink; host: Sink; claims: Sink };
  /** The template service's relay of new content versions to the claims service (its URL is filled in). */
  templatesSync?: Omit<NonNullable<TemplateServiceOptions["sync"]>, "claimsUrl">;
  /** The models templates may name (POOL_MODELS); default the templates service's. */
  models?: readonly string[];
  /** More of the instance host's options (join timeout, model server). */
  host?: Partial<InstanceHostOptions>;
  /**
   * The templates service's watch over live rollouts, asking lineage this
   * often (docs/rollouts.md); without it, no rollout halts by itself. It
   * gives the templates service lineage's address, so ratings ask lineage too.
   */
  rolloutWatchMs?: number;
  /** More of the lineage service's options (the pattern pool's quorum, the rollout watch's rules). */
  lineage?: Partial<Pick<LineageServiceOptions, "patternQuorum" | "watchRules">>;
  /** The claims service's warm pool on the instance host (a pass every 200 ms unless said), and more of its options (SMS range, sync). */
  claims: { pool: { target: number; intervalMs?: number } } & Partial<Omit<ClaimsServiceOptions, "pool">>;
  /**
   * Numbers bought from Telnyx and mailboxes made at AgentMail: the production
   * providers, against the stand-ins of those services, instead of the local range and maildirs.
   */
  productionProviders?: boolean;
}

/** A Convos conversation and the CLI that created it and serves it (`convos agent serve`). */
export interface Conversation {
  cli: ConvosCli;
  /** Its `ready` event: the conversation, its invite, the CLI's inbox. */
  ready: ReadyEvent;
  /** The CLI's home: its identity (`home/identity.json`) is there. */
  dir: string;
}

const logger = (name: string, sink: Sink | undefined) =>
  sink ? createLogger(name, { level: "debug", sink }) : createLogger(name, { level: "silent" });

export class RealStack {
  /**
   * Each part's own credential; the test's clients act as the gateway (people's calls) or the claims service (the
   * host). The host's own, bound to its address, is added when it is known (start): read this after start.
   */
  creds = generateServiceCredentials();
  /** The claims service's POOL_SECRETS_KEY. */
  readonly secretsKey = SecretBox.generateKey();
  /** The keys service's seed, every agent's wallet's root: 32 bytes of hex (a BIP-39 mnemonic works too). */
  readonly masterSeed = randomBytes(32).toString("hex");
  /** Every part's log lines, when the options name no `logs` of their own. */
  readonly logs: string[] = [];
  private readonly sinks: { templates?: Sink; host: Sink; claims: Sink };

  /** The port of the test's XMTP node (the Convos CLIs of the test pass it to ConvosCli.start). */
  xmtp: XmtpPort | undefined;
  node: RunningDevnode | undefined;
  /** The local chain agents' wallets are on (empty: owners deposit, `deposit`); its faucet funds them only under a grant. */
  chain: RunningChain | undefined;
  /** Agents' mail (SMTP in, POP3 to read) and texts (Telnyx's API), as `npm start` runs them. */
  mail: RunningMail | undefined;
  pop3: RunningPop3 | undefined;
  sms: LocalSms | undefined;
  /** With `productionProviders`: the AgentMail stand-in. */
  agentmail: LocalAgentMail | undefined;
  templates: RunningTemplateService | undefined;
  host: RunningInstanceHost | undefined;
  /** The keys service: it releases each agent's key to the host the claims service places it on. */
  keys: RunningKeysService | undefined;
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
  /** The claims database, opened by the test to read its rows. */
  sql!: pg.Client;
  private claimsPort = 0;
  private hostPort = 0;
  /** The ports this stack's services listen on later (claims, the host, lineage), let go at close(). */
  private readonly ports: PortReservation[] = [];
  /** The CLIs of `conversation()`, stopped by close(). */
  private readonly others: ConvosCli[] = [];

  constructor(private readonly opts: RealStackOptions) {
    const keep = (line: string) => void this.logs.push(line);
    this.sinks = opts.logs ?? { templates: keep, host: keep, claims: keep };
  }

  async start(): Promise<void> {
    const { name } = this.opts;
    this.xmtp = await xmtpPortForTest({ timeoutMs: this.opts.lockTimeoutMs ?? 180_000 });
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
    this.sql = new pg.Client({ connectionString: claimsDb });
    await this.sql.connect();
    this.node = await startDevnode({ port: this.xmtp.port, databaseUrl: nodeDb });
    // The CLI needs only the node, and is the slowest part to come up: it starts first, the stand-ins beside each other.
    this.cli = await this.serve(this.opts.conversationName, "Saul", join(this.dir, "cli"));
    const mailboxes = new Maildirs(join(this.dir, "claims", "mailboxes"));
    const started = await Promise.allSettled([
      startLocalChain().then((c) => (this.chain = c)),
      startLocalMail({ mailboxes }).then((m) => (this.mail = m)),
      startLocalPop3({ mailboxes }).then((p) => (this.pop3 = p)),
      startLocalSms().then((s) => (this.sms = s)),
      this.opts.productionProviders ? startLocalAgentMail().then((a) => (this.agentmail = a)) : undefined,
    ]);
    for (const s of started) if (s.status === "rejected") throw s.reason;
    // The CLI comes up beside the services, and start() ends once both have settled: a service that fails
    // leaves no ready of the CLI unawaited (it fails once close() ends the CLI: a rejection nobody hears
    // fails the run), and close() meets no CLI still starting.
    const [ready, services] = await Promise.allSettled([this.readyOf(this.cli), this.startServices()]);
    if (services.status === "rejected" && ready.status === "rejected")
      throw new AggregateError(
        [services.reason, ready.reason],
        "the stack's services and its Convos CLI failed to start",
      );
    if (services.status === "rejected") throw services.reason;
    if (ready.status === "rejected") throw ready.reason;
    this.ready = ready.value;
  }

  /** The services and the agents' host, on the stack's XMTP node, chain and stand-ins. */
  private async startServices(): Promise<void> {
    const logs = this.sinks;
    // A fixed port: the claims service comes back where the template service sends new versions.
    this.claimsPort = await this.heldPort();
    // The host's address is fixed before any service starts: its credential is its own, bound to it, and every
    // service it calls must know it (docs/security.md).
    this.hostPort = await this.heldPort();
    this.creds = withHostCredential(this.creds, this.hostUrl);
    const sync = this.opts.templatesSync;
    // As `npm start` wires them: signatures checked against the XMTP network.
    const resolver = await XmtpInboxResolver.connect({ apiUrl: this.node!.url });
    // Templates and lineage ask each other (the watch): lineage's address is fixed first.
    const lineagePort = await this.heldPort();
    const watchMs = this.opts.rolloutWatchMs;
    this.templates = await startTemplateService({
      databaseUrl: this.templatesDatabaseUrl,
      credentials: this.creds.templates,
      resolver,
      models: this.opts.models,
      sync: sync && { claimsUrl: `http://127.0.0.1:${this.claimsPort}`, ...sync },
      ...(watchMs ? { lineageUrl: `http://127.0.0.1:${lineagePort}`, watch: { intervalMs: watchMs } } : {}),
      log: logger("templates", logs.templates),
    });
    this.templatesSc = createServiceClient(TemplateService, this.templates.url, this.creds.gateway);
    this.lineage = await startLineageService({
      port: lineagePort,
      databaseUrl: this.lineageDatabaseUrl,
      credentials: this.creds.lineage,
      templatesUrl: this.templates.url,
      resolver,
      ...this.opts.lineage,
      log: logger("lineage", logs.templates),
    });
    this.keys = await startKeysService({
      claimsUrl: `http://127.0.0.1:${this.claimsPort}`,
      masterSeed: this.masterSeed,
      credentials: this.creds.keys,
      log: logger("keys", logs.host),
    });
    await this.startHost();
    await this.startClaims();
    this.claimsSc = createServiceClient(ClaimService, this.claims!.url, this.creds.gateway);
  }

  /** The instance host on its data directory; after `host.close()`, again on the same port (with `more` options, for example a model). */
  async startHost(more: Partial<InstanceHostOptions> = {}): Promise<RunningInstanceHost> {
    this.host = await startInstanceHost({
      port: this.hostPort,
      xmtpApiUrl: this.node!.url,
      keysUrl: this.keys!.url,
      dataDir: join(this.dir, "host"),
      credentials: hostCredentials(this.creds, this.hostUrl),
      log: logger("instance-host", this.sinks.host),
      // As `npm start`: inert until an owner opts in (a test sets patternQueryIntervalMs low to see it soon).
      patternPoolUrl: this.lineage!.url,
      // As `npm start`: each agent's signed day of counts goes to lineage (every 15 minutes unless said).
      signalsUrl: this.lineage!.url,
      // As `npm start`: each state the vault kept is marked there, and a restore opens nothing older.
      stateMarksUrl: this.lineage!.url,
      ...this.opts.host,
      ...more,
      tools: {
        mail: { smtpUrl: this.mail!.url, pop3Url: this.pop3!.url },
        // Payments signed by the claims service, where the wallets' keys are (docs/security.md).
        chain: { rpcUrl: this.chain!.rpcUrl, signerUrl: `http://127.0.0.1:${this.claimsPort}` },
        sms: { apiUrl: this.sms!.url, apiKey: this.sms!.apiKey, webhookPublicKey: this.sms!.webhookPublicKey },
        ...(this.agentmail ? { agentmail: { apiUrl: this.agentmail.url } } : {}),
        mailPollMs: 500,
        ...this.opts.host?.tools,
        ...more.tools,
      },
    });
    return this.host;
  }

  /** The host's address, as the claims service names it. */
  get hostUrl(): string {
    return `http://127.0.0.1:${this.hostPort}`;
  }

  /** The claims service with its warm pool on the host; after `claims.close()`, again on the same port and database. */
  async startClaims(changed: Partial<Omit<ClaimsServiceOptions, "pool">> = {}): Promise<RunningClaimsService> {
    const { pool, ...options } = this.opts.claims;
    const more = { ...options, ...changed };
    this.claims = await startClaimsService({
      port: this.claimsPort,
      databaseUrl: this.claimsDatabaseUrl,
      credentials: this.creds.claims,
      templatesUrl: this.templates!.url,
      secretsKey: this.secretsKey,
      dataDir: join(this.dir, "claims"),
      log: logger("claims", this.sinks.claims),
      lineageUrl: this.lineage!.url,
      chain: { rpcUrl: this.chain!.rpcUrl, faucetKey: this.chain!.faucetKey },
      // Numbers and mailboxes without an operator's grant, wallets empty (docs/limits.md); a test may ask for another budget.
      budget: OPEN_BUDGET,
      ...(this.opts.productionProviders
        ? {
            telnyx: { apiUrl: this.sms!.url, apiKey: this.sms!.apiKey },
            agentmail: { apiUrl: this.agentmail!.url, apiKey: this.agentmail!.apiKey },
          }
        : {}),
      ...more,
      // Agents post their statement of what they may do only where a test asks: most read the agent's next text.
      attestation: { statements: false, ...more.attestation },
      pool: { hostUrls: [this.host!.url], intervalMs: 200, ...pool },
    });
    return this.claims;
  }

  /**
   * Another conversation, created and served by a Convos CLI of its own as
   * `profileName` (`agent serve --name name`); close() stops it.
   */
  async conversation(name: string, profileName: string): Promise<Conversation> {
    const dir = join(this.dir, `cli-${this.others.length + 2}`);
    const cli = await this.serve(name, profileName, dir);
    this.others.push(cli);
    return { cli, ready: await this.readyOf(cli), dir };
  }

  /**
   * Another person joins a conversation (the first by default) by its invite,
   * as `profileName` (`convos conversations join`, accepted by the serving
   * CLI), then takes part in it through a CLI of their own (`agent serve
   * <conversation id>`); close() stops it.
   */
  async join(profileName: string, c: Pick<Conversation, "ready"> = { ready: this.ready }): Promise<Conversation> {
    const dir = join(this.dir, `cli-${this.others.length + 2}`);
    const joined = await runConvos<{ status: string; conversationId?: string }>(
      ["conversations", "join", c.ready.inviteUrl, "--profile-name", profileName, "--timeout", "25"],
      dir,
      { xmtpPort: this.xmtp!.port },
    );
    if (joined.status !== "joined" || !joined.conversationId)
      throw new Error(`${profileName} could not join ${c.ready.conversationId}: ${JSON.stringify(joined)}`);
    const cli = await ConvosCli.start(["agent", "serve", joined.conversationId, "--no-invite"], dir, {
      xmtpPort: this.xmtp!.port,
    });
    this.others.push(cli);
    return { cli, ready: await this.readyOf(cli), dir };
  }

  /** The person a conversation's CLI is, as a signer: its own wallet key, from its home (the first conversation's by default). */
  async personOf(c: Pick<Conversation, "ready" | "dir"> = { ready: this.ready, dir: join(this.dir, "cli") }) {
    const { walletKey } = JSON.parse(await readFile(join(c.dir, "home", "identity.json"), "utf8")) as {
      walletKey: Hex;
    };
    const account = privateKeyToAccount(walletKey);
    if (deriveInboxId(account.address) !== c.ready.inboxId)
      throw new Error(`the key in ${c.dir} is not the CLI's inbox ${c.ready.inboxId}`);
    return { account, inboxId: c.ready.inboxId } satisfies TestIdentity;
  }

  /**
   * An owner deposits into an agent's wallet from their own funded account
   * on the local chain (new wallets are empty: docs/limits.md); resolves
   * once the transfer is in a block.
   */
  async deposit(to: string, wei: bigint): Promise<void> {
    const transport = http(this.chain!.rpcUrl);
    const owner = createWalletClient({ account: privateKeyToAccount(this.chain!.ownerKey), transport });
    const hash = await owner.sendTransaction({ to: to as Hex, value: wei, chain: null });
    await createPublicClient({ transport }).waitForTransactionReceipt({ hash });
  }

  /** An agent's wallet key, opened from its sealed tool row in the claims database, the only place it is kept. */
  async walletKey(instanceId: string): Promise<Hex> {
    const [row] = await this.rows<{ secret: Buffer }>(
      `select secret from provisioned_tools where instance_id = $1 and tool_id = 'crypto'`,
      [instanceId],
    );
    if (!row) throw new Error(`${instanceId} holds no wallet the pool made`);
    return SecretBox.fromConfig(this.secretsKey).open(row.secret, secretAad(instanceId, "crypto")).private_key as Hex;
  }

  /** The rows of a query of the claims database. */
  async rows<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.sql.query(text, params)).rows as T[];
  }

  /**
   * Resolves once `n` agents are idle both where a claim takes them (the
   * claims database) and on the host (running, unclaimed): the warm pool has
   * them ready.
   */
  async idleAgents(n: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${n} idle agents`,
      async () => {
        const idle = await this.rows<{ id: string }>(`select id from instances where state = 'idle'`);
        return idle.filter((r) => this.host?.instances.get(r.id)?.state === InstanceState.IDLE).length >= n;
      },
      timeoutMs,
      100,
    );
  }

  private serve(name: string, profileName: string, dir: string): Promise<ConvosCli> {
    return ConvosCli.start(["agent", "serve", "--name", name, "--profile-name", profileName], dir, {
      xmtpPort: this.xmtp!.port,
    });
  }

  private async heldPort(): Promise<number> {
    const reserved = await reservePort();
    this.ports.push(reserved);
    return reserved.port;
  }

  private readyOf(cli: ConvosCli): Promise<ReadyEvent> {
    return cli.ready();
  }

  /** Stops what started, in reverse, gives back the XMTP port and the services' ports, and removes the directory. */
  async close(): Promise<void> {
    // In three steps, each one's parts side by side: what claims and is claimed by people; the services
    // and the agents' host; the networks and stand-ins they used.
    for (const sc of [this.templatesSc, this.claimsSc]) sc?.close();
    await Promise.all([...this.others.map((cli) => cli.stop()), this.sql?.end(), this.claims?.close()]);
    await Promise.all([this.host?.close(), this.lineage?.close(), this.templates?.close(), this.cli?.stop()]);
    await this.keys?.close();
    await Promise.all([
      this.node?.close(),
      this.chain?.close(),
      this.mail?.close(),
      this.pop3?.close(),
      this.sms?.close(),
      this.agentmail?.close(),
    ]);
    await this.xmtp?.release();
    for (const reserved of this.ports.splice(0)) reserved.release();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
