import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { XmtpInboxResolver } from "@convos-pool/convos";
import {
  createLogger,
  freePort,
  generateServiceCredentials,
  hostCredentials,
  serviceEnv,
  type LimitConfig,
  type Logger,
} from "@convos-pool/kit/server";
import { LOCAL_POOL_ID } from "@convos-pool/kit/signing";
import type { LocalSms } from "@convos-pool/local-providers";
import { startClaimsService, type PoolBudget } from "@convos-pool/claims";
import { startGateway } from "@convos-pool/gateway";
import { startLineageService, type LineageServiceOptions } from "@convos-pool/lineage";
import { startInstanceHost } from "@convos-pool/instance";
import { startKeysService } from "@convos-pool/keys";
import { startTemplateService } from "@convos-pool/templates";
import { Maildirs, startLocalChain, startLocalMail, startLocalPop3, startLocalSms } from "@convos-pool/local-providers";
import { DEFAULT_DEVNODE_PORT, startDevnode } from "@convos-pool/xmtp-devnode";
import { LOCAL_BUDGET } from "./budget.js";
import { startSecondHost } from "./second-host.js";
import { keptPort } from "./kept-ports.js";
import { DEFAULT_CHAIN_PORT, DEFAULT_MAIL_PORT, DEFAULT_POP3_PORT, DEFAULT_SMS_PORT } from "./ports.js";

export interface PoolOptions {
  /** Where embedded databases and local secrets live. */
  dataDir: string;
  /** The gateway's port: the only public one. */
  port?: number | undefined;
  host?: string | undefined;
  /** The URLs the gateway is reached at (POOL_PUBLIC_URL); default its loopback address. */
  publicUrls?: string[] | undefined;
  /** Per service: postgres:// URL; absent means embedded PGlite under dataDir. */
  templatesDatabaseUrl?: string | undefined;
  gatewayDatabaseUrl?: string | undefined;
  xmtpDatabaseUrl?: string | undefined;
  /**
   * The local XMTP node's port: 5556 by default, the `local` environment of
   * @xmtp/node-sdk and of the Convos CLI; 0 picks a free one (tests).
   */
  xmtpPort?: number | undefined;
  /**
   * The port of the XMTP node's Prometheus metrics (GET /metrics, HTTP/1.1:
   * its gRPC port speaks only HTTP/2); default 0, a free one, as the pool's
   * other services serve theirs on their own free ports.
   */
  xmtpMetricsPort?: number | undefined;
  /** The local chain's JSON-RPC port (agents' wallets): 8545 by default, as any local EVM node; 0 picks a free one (tests). */
  chainPort?: number | undefined;
  /** The local mail server's SMTP port (agents' mailboxes): 2525 by default; 0 picks a free one (tests). */
  mailPort?: number | undefined;
  /** Its POP3 port (reading mailboxes): 1110 by default; 0 picks a free one (tests). */
  pop3Port?: number | undefined;
  /** The local stand-in of Telnyx's messaging API (agents' numbers): 8125 by default; 0 picks a free one (tests). */
  smsPort?: number | undefined;
  /** How long an agent waits for its owner's approval of a tool call; default 10 minutes. */
  approvalTimeoutMs?: number | undefined;
  /** How often agents look for new mail; default 30 s. */
  mailPollMs?: number | undefined;
  claimsDatabaseUrl?: string | undefined;
  lineageDatabaseUrl?: string | undefined;
  /** Idle agent instances kept warm; default 3. */
  warmInstances?: number | undefined;
  /** The pool's limits (docs/limits.md); absent: the defaults. */
  limits?: LimitConfig | undefined;
  /**
   * What the pool pays for (docs/limits.md); absent: LOCAL_BUDGET, the local
   * stand-ins' numbers and mailboxes for every template (DEFAULT_BUDGET of
   * @convos-pool/claims is a deployed pool's: an operator's grant for each).
   */
  budget?: PoolBudget | undefined;
  /** The store's operators: inbox ids who curate it (docs/store.md); none by default. */
  operators?: string[] | undefined;
  /** The models templates may name (POOL_MODELS; docs/templates.md, "Models"); default the templates service's. */
  models?: readonly string[] | undefined;
  /** How often the agents' signed days of counts go to lineage (docs/signals.md); default 15 minutes. */
  signalsIntervalMs?: number | undefined;
  /** How often the templates service's watch looks at each live rollout (docs/rollouts.md); default its 10 minutes. */
  rolloutWatchIntervalMs?: number | undefined;
  /** The pattern pool's quorum (docs/patterns.md); what is left out is the lineage service's default. */
  patternQuorum?: LineageServiceOptions["patternQuorum"];
  /** Who the rollout watch counts and how much is enough (docs/rollouts.md); absent: DEMO_WATCH_RULES. */
  watchRules?: LineageServiceOptions["watchRules"];
  /** The built web app for the gateway to serve at / (ensureWebBuild); absent: the API only. */
  webDir?: string | undefined;
  /** An OpenAI-compatible endpoint for the agents; absent: the offline provider. */
  llm?: { baseUrl: string; apiKey: string; model?: string | undefined } | undefined;
  /**
   * A second instance host on the OpenClaw runtime beside the pool's own, for
   * templates that choose it (docs/openclaw.md); needs `llm`. `maxGateways`:
   * OpenClaw gateways running at once.
   */
  openclaw?: { maxGateways?: number | undefined; warmGateways?: number | undefined } | undefined;
  /**
   * Pool hosts (the pool's own runtime): 1 (default) runs it in this process;
   * 2 adds a second one as its own process from the instance host's main.ts,
   * with its own data directory, which can be killed and its disk deleted
   * (docs/running.md, "Two hosts, and one lost").
   */
  poolHosts?: number | undefined;
  /** HOST_LOST_AFTER_SECONDS of the claims service (docs/scaling.md); default 60 here, not production's 30 minutes. */
  hostLostAfterSeconds?: number | undefined;
  log?: Logger | undefined;
}

/** An instance host of the local pool: its address and, when it is a process of its own, its pid. */
/**
 * The rollout watch's rules on one machine (docs/walkthroughs/rollouts.md):
 * any owner's agents count, an agent counts from its first day of answers,
 * and five conversations with 15 answers a side are a sample. One person who
 * claims 20 agents can halt a rollout here; on a real pool the lineage
 * service's defaults (three days with others, owners of at most three
 * agents, ten conversations and 200 answers a side) leave that person out.
 */
export const DEMO_WATCH_RULES = {
  maxOwnerAgents: Number.MAX_SAFE_INTEGER,
  realUseDays: 0,
  minSample: { conversations: 5, answers: 15 },
} as const satisfies NonNullable<LineageServiceOptions["watchRules"]>;

export interface LocalHost {
  url: string;
  dataDir: string;
  pid?: number | undefined;
}

export interface RunningPool {
  gatewayUrl: string;
  templatesUrl: string;
  claimsUrl: string;
  lineageUrl: string;
  /** The local XMTP node (MlsApi and IdentityApi over gRPC, h2c). */
  xmtpUrl: string;
  /** Where the XMTP node serves its metrics: `${xmtpMetricsUrl}/metrics`. */
  xmtpMetricsUrl: string;
  /** The local EVM chain agents' wallets are on (JSON-RPC). */
  chainRpcUrl: string;
  /** A funded account on it (unlocked: anvil signs for it), an owner's own wallet to deposit from. */
  ownerAccount: string;
  /** The local mail server for agents' mailboxes (SMTP), and for reading them (POP3). */
  smtpUrl: string;
  pop3Url: string;
  /** The local stand-in of Telnyx's messaging API; `phone(number)` texts as a person would. */
  sms: LocalSms;
  /** What the pool pays for (the banner says it). */
  budget: PoolBudget;
  /** The pool hosts, the in-process one first. */
  hosts: LocalHost[];
  /** An operator's hosts command (`list`, `lost URL`, `found URL`, ...), run by the claims service (hosts-cli.ts). */
  hostsCommand(args: string[], out: (line: string) => void): Promise<number>;
  close(): Promise<void>;
}

/**
 * A secret kept in the data directory (mode 0600), so that what depends on it
 * (sessions) survives a restart of the local pool.
 */
async function localSecret(dataDir: string, name: string): Promise<string> {
  const file = join(dataDir, name);
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const secret = randomBytes(32).toString("hex");
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return secret;
  }
}

/** The whole pool in one process, each service on its own port and its own database. */
export async function startPool(opts: PoolOptions): Promise<RunningPool> {
  const log = opts.log ?? createLogger("pool");
  const budget = opts.budget ?? LOCAL_BUDGET;
  const host = opts.host ?? "127.0.0.1";
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  // Each service has its own credential, as across machines (docs/security.md), and each
  // host that keeps its agents' states in the vault one bound to its address: fixed first.
  // Kept across starts: an agent's key goes only to the host address it runs on (kept-ports.ts).
  const hostUrl = `http://${host}:${await keptPort(opts.dataDir, "pool", host)}`;
  const secondUrl =
    (opts.poolHosts ?? 1) >= 2 ? `http://${host}:${await keptPort(opts.dataDir, "second", host)}` : undefined;
  const openclawUrl = opts.openclaw ? `http://${host}:${await keptPort(opts.dataDir, "openclaw", host)}` : undefined;
  const credentials = generateServiceCredentials(
    undefined,
    [hostUrl, secondUrl, openclawUrl].filter((u) => u !== undefined),
  );
  // The XMTP node first: instances and identity checks talk to it.
  const xmtp = await startDevnode({
    port: opts.xmtpPort ?? DEFAULT_DEVNODE_PORT,
    host,
    databaseUrl: opts.xmtpDatabaseUrl,
    embeddedDir: join(opts.dataDir, "xmtp-devnode"),
    metricsPort: opts.xmtpMetricsPort ?? 0,
    log: log.child({ service: "xmtp-devnode" }),
  });
  const started: { close(): Promise<void> }[] = [xmtp];
  const closeAll = async () => {
    // The public entry first (no new work comes in), the XMTP node last.
    for (const s of started.reverse()) await s.close();
  };
  /** A service started, closed with the pool in the reverse order. */
  const up = async <S extends { close(): Promise<void> }>(starting: Promise<S>): Promise<S> => {
    const service = await starting;
    started.push(service);
    return service;
  };
  /** Where a service listens on this machine, and its log. */
  const local = (service: string, port: number) => ({ host, port, log: log.child({ service }) });
  try {
    const xmtpMetricsUrl = xmtp.metricsUrl;
    if (!xmtpMetricsUrl) throw new Error("the XMTP node serves no metrics, though the pool gave it a metrics port");
    // A local chain for agents' wallets, kept in the data directory; its faucet funds each new wallet.
    const chain = await up(
      startLocalChain({
        ...local("chain", opts.chainPort ?? DEFAULT_CHAIN_PORT),
        stateFile: join(opts.dataDir, "chain", "state.json"),
      }),
    );
    // SMTP for agents' mailboxes: the ones the claims service's mailbox provider makes (claims/mailboxes).
    const mailboxes = new Maildirs(join(opts.dataDir, "claims", "mailboxes"));
    const mail = await up(startLocalMail({ mailboxes, ...local("mail", opts.mailPort ?? DEFAULT_MAIL_PORT) }));
    const pop3 = await up(startLocalPop3({ mailboxes, ...local("pop3", opts.pop3Port ?? DEFAULT_POP3_PORT) }));
    // Telnyx stands in locally: numbers text each other, and a person's "phone" can text an agent.
    const sms = await up(startLocalSms(local("sms", opts.smsPort ?? DEFAULT_SMS_PORT)));
    // Signatures are checked against the XMTP network: the local node here.
    const resolver = await XmtpInboxResolver.connect({ apiUrl: xmtp.url });
    // Templates push instruction updates to claims, and claims read templates:
    // the claims service's address is fixed before either starts.
    const claimsPort = await freePort(host);
    // Templates ask lineage whether an owner's agent answered others (ratings), and lineage asks
    // templates who created a template: the lineage service's address is fixed first too.
    const lineagePort = await freePort(host);
    const templates = await up(
      startTemplateService({
        sync: { claimsUrl: `http://${host}:${claimsPort}` },
        lineageUrl: `http://${host}:${lineagePort}`,
        ...(opts.rolloutWatchIntervalMs !== undefined ? { watch: { intervalMs: opts.rolloutWatchIntervalMs } } : {}),
        resolver,
        databaseUrl: opts.templatesDatabaseUrl,
        embeddedDir: join(opts.dataDir, "templates"),
        credentials: credentials.templates,
        ...(opts.limits ? { limits: opts.limits } : {}),
        operators: opts.operators,
        models: opts.models,
        log: log.child({ service: "templates" }),
      }),
    );
    // Lineage: fed by the claims service's outbox, read through the gateway.
    const lineage = await up(
      startLineageService({
        ...local("lineage", lineagePort),
        databaseUrl: opts.lineageDatabaseUrl,
        embeddedDir: join(opts.dataDir, "lineage"),
        credentials: credentials.lineage,
        templatesUrl: templates.url,
        resolver,
        ...(opts.patternQuorum ? { patternQuorum: opts.patternQuorum } : {}),
        watchRules: opts.watchRules ?? DEMO_WATCH_RULES,
      }),
    );
    // The keys service: the only holder of the seed every agent's wallet derives from, kept in the
    // data directory (recoverable: docs/security.md, "Agents' keys"); it releases each agent's key
    // to the host the claims service places it on, and to no other.
    const keys = await up(
      startKeysService({
        host,
        claimsUrl: `http://${host}:${claimsPort}`,
        masterSeed: await localSecret(opts.dataDir, "master-seed"),
        credentials: credentials.keys,
        log: log.child({ service: "keys" }),
      }),
    );
    // The claims service before the hosts: a host restoring its agents asks the keys service for
    // their keys, which asks the claims service where each runs (and at a new address, the claims
    // service's warm pool adopts them there first).
    const claims = await up(
      startClaimsService({
        ...local("claims", claimsPort),
        databaseUrl: opts.claimsDatabaseUrl,
        embeddedDir: join(opts.dataDir, "claims", "db"),
        dataDir: join(opts.dataDir, "claims"),
        credentials: credentials.claims,
        ...(opts.limits ? { limits: opts.limits } : {}),
        budget,
        templatesUrl: templates.url,
        secretsKey: await localSecret(opts.dataDir, "secrets-key"),
        pool: {
          hostUrls: [hostUrl, ...(secondUrl ? [secondUrl] : []), ...(openclawUrl ? [openclawUrl] : [])],
          target: opts.warmInstances ?? 3,
          lostAfterSeconds: opts.hostLostAfterSeconds ?? 60,
        },
        lineageUrl: lineage.url,
        chain: { rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey },
        // Owners' signatures (pinning) are checked against the XMTP network too.
        resolver,
      }),
    );
    // Agents: one host process runs them all, each with its key from the keys service.
    const instances = await up(
      startInstanceHost({
        host,
        xmtpApiUrl: xmtp.url,
        keysUrl: keys.url,
        dataDir: join(opts.dataDir, "instances"),
        port: Number(new URL(hostUrl).port),
        credentials: hostCredentials(credentials, hostUrl),
        // Each claimed agent's sealed state goes to the claims service as it changes (docs/scaling.md).
        vaultUrl: `http://${host}:${claimsPort}`,
        // Agents whose owners opt in offer and adopt lessons there (docs/patterns.md).
        patternPoolUrl: lineage.url,
        // Each agent's signed day of counts goes there too (docs/signals.md), and its state marks (docs/scaling.md).
        signalsUrl: lineage.url,
        stateMarksUrl: lineage.url,
        // Its agents keep what people ask of time there (docs/schedules.md): the claims service's HostScheduleService.
        schedulesUrl: `http://${host}:${claimsPort}`,
        ...(opts.signalsIntervalMs !== undefined ? { signalsIntervalMs: opts.signalsIntervalMs } : {}),
        ...(opts.llm ? { llm: opts.llm } : {}),
        tools: {
          mail: { smtpUrl: mail.url, pop3Url: pop3.url },
          // Its agents' payments signed by the claims service, where their keys are (docs/security.md).
          chain: { rpcUrl: chain.rpcUrl, signerUrl: `http://${host}:${claimsPort}` },
          sms: { apiUrl: sms.url, apiKey: sms.apiKey, webhookPublicKey: sms.webhookPublicKey, webhookHost: host },
          ...(opts.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: opts.approvalTimeoutMs } : {}),
          ...(opts.mailPollMs !== undefined ? { mailPollMs: opts.mailPollMs } : {}),
        },
        log: log.child({ service: "instance-host" }),
      }),
    );
    // A second pool host, in a process of its own, its agents' keys from the same keys service (docs/running.md).
    const second =
      secondUrl !== undefined
        ? await startSecondHost({
            host,
            port: Number(new URL(secondUrl).port),
            dataDir: join(opts.dataDir, "instances-2"),
            env: {
              XMTP_API_URL: xmtp.url,
              POOL_KEYS_URL: keys.url,
              POOL_ID: LOCAL_POOL_ID,
              ...serviceEnv(hostCredentials(credentials, secondUrl)),
              POOL_METRICS_TOKEN: process.env.POOL_METRICS_TOKEN || (await localSecret(opts.dataDir, "metrics-token")),
              // Where it keeps its agents' sealed states: the claims service (docs/scaling.md).
              VAULT_URL: `http://${host}:${claimsPort}`,
              MAIL_SMTP_URL: mail.url,
              MAIL_POP3_URL: pop3.url,
              CHAIN_RPC_URL: chain.rpcUrl,
              PAYMENT_SIGNER_URL: `http://${host}:${claimsPort}`,
              SCHEDULES_URL: `http://${host}:${claimsPort}`,
              PATTERN_POOL_URL: lineage.url,
              SIGNALS_URL: lineage.url,
              ...(opts.signalsIntervalMs !== undefined ? { SIGNALS_INTERVAL_MS: String(opts.signalsIntervalMs) } : {}),
              ...(opts.llm
                ? {
                    LLM_BASE_URL: opts.llm.baseUrl,
                    LLM_API_KEY: opts.llm.apiKey,
                    ...(opts.llm.model ? { LLM_MODEL: opts.llm.model } : {}),
                  }
                : {}),
            },
            log: log.child({ service: "instance-host-2" }),
          })
        : undefined;
    if (second) started.push(second);
    // OpenClaw agents: a host of their own, its agents' keys from the same keys service (wallet
    // indexes are the claims service's, never reused).
    const openclawHost =
      opts.openclaw &&
      openclawUrl &&
      (await startInstanceHost({
        host,
        port: Number(new URL(openclawUrl).port),
        xmtpApiUrl: xmtp.url,
        keysUrl: keys.url,
        dataDir: join(opts.dataDir, "instances-openclaw"),
        credentials: hostCredentials(credentials, openclawUrl),
        patternPoolUrl: lineage.url,
        signalsUrl: lineage.url,
        stateMarksUrl: lineage.url,
        schedulesUrl: `http://${host}:${claimsPort}`,
        ...(opts.signalsIntervalMs !== undefined ? { signalsIntervalMs: opts.signalsIntervalMs } : {}),
        llm: opts.llm,
        runtime: "openclaw",
        openclawMaxGateways: opts.openclaw.maxGateways,
        openclawWarmGateways: opts.openclaw.warmGateways,
        tools: {
          mail: { smtpUrl: mail.url, pop3Url: pop3.url },
          chain: { rpcUrl: chain.rpcUrl, signerUrl: `http://${host}:${claimsPort}` },
          // A messaging profile of its own: texts to its agents' numbers come to its webhook.
          sms: {
            apiUrl: sms.url,
            apiKey: sms.apiKey,
            webhookPublicKey: sms.webhookPublicKey,
            webhookHost: host,
            profileName: "convos-pool-host-openclaw",
          },
          ...(opts.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: opts.approvalTimeoutMs } : {}),
          ...(opts.mailPollMs !== undefined ? { mailPollMs: opts.mailPollMs } : {}),
        },
        log: log.child({ service: "instance-host-openclaw" }),
      }));
    if (openclawHost) started.push(openclawHost);
    // The warm pool's first pass ran while the hosts were not up yet: one now, not in its next interval.
    claims.pool?.kick();
    const signInDir = join(opts.dataDir, "sign-in-inbox");
    await mkdir(signInDir, { recursive: true, mode: 0o700 });
    const gateway = await up(
      startGateway({
        ...local("gateway", opts.port ?? 8080),
        publicUrls: opts.publicUrls,
        templatesUrl: templates.url,
        claimsUrl: claims.url,
        lineageUrl: lineage.url,
        credentials: credentials.gateway,
        ...(opts.limits ? { limits: opts.limits } : {}),
        sessionSecret: await localSecret(opts.dataDir, "session-secret"),
        ...(opts.webDir ? { webDir: opts.webDir } : {}),
        resolver,
        databaseUrl: opts.gatewayDatabaseUrl,
        embeddedDir: join(opts.dataDir, "gateway"),
        // Sign in with Convos: the pool's sign-in inbox on the local node, one installation kept across restarts.
        signInInbox: {
          apiUrl: xmtp.url,
          privateKey: `0x${await localSecret(opts.dataDir, "sign-in-key")}`,
          dbPath: join(signInDir, "xmtp.db3"),
        },
      }),
    );
    let closing: Promise<void> | undefined;
    return {
      gatewayUrl: gateway.url,
      templatesUrl: templates.url,
      claimsUrl: claims.url,
      lineageUrl: lineage.url,
      xmtpUrl: xmtp.url,
      xmtpMetricsUrl,
      chainRpcUrl: chain.rpcUrl,
      ownerAccount: chain.ownerAddress,
      smtpUrl: mail.url,
      pop3Url: pop3.url,
      sms,
      budget,
      hosts: [
        { url: instances.url, dataDir: join(opts.dataDir, "instances") },
        ...(second ? [{ url: second.url, dataDir: second.dataDir, pid: second.pid }] : []),
      ],
      hostsCommand: (args, out) => claims.hostsCommand(args, out),
      close() {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
