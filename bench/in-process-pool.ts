// The pool in this process, as the clone benchmark and the soak run it: the
// local XMTP node (its own process), the templates service, one instance host
// with the offline model and the claims service running its warm pool on it
// (in this process, each service on a test database of its own), a Convos
// conversation's creator (`startCreator`: it makes the conversations, adds
// whoever asks to join and owns the agents), and the gateway's clients of the
// claims and templates services. What it starts goes into the caller's
// `children` and `closers`, which the caller ends in reverse.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { XmtpInboxResolver } from "@convos-pool/convos";
import { startCreator } from "@convos-pool/convos/testing";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { OPEN_BUDGET, SecretBox, startClaimsService, type ClaimsServiceOptions } from "@convos-pool/claims";
import { startInstanceHost } from "@convos-pool/instance";
import {
  NO_LIMITS,
  createServiceClient,
  type Logger,
  type Principal,
  type ServiceCredentials,
} from "@convos-pool/kit/server";
import { startTemplateService, type TemplateServiceOptions } from "@convos-pool/templates";
import { createTestDatabase } from "@convos-pool/testing";
import { startChild, type Child, NODE_WITHOUT_RATE_LIMITS } from "./lib.js";

export interface InProcessPoolOptions {
  /** Prefixes the test databases' names (`<name>_xmtp`, `<name>_templates`, `<name>_claims`). */
  name: string;
  /** Where the host and the claims service keep their files, and the creator its database. */
  dir: string;
  creds: Record<Principal, ServiceCredentials>;
  /** Each service's log. */
  log: (service: string) => Logger;
  /** The warm pool's target and how often it refills. */
  pool: { target: number; intervalMs: number };
  /** More of the templates service's options, and of the claims service's. */
  templates?: Partial<TemplateServiceOptions>;
  claims?: Partial<ClaimsServiceOptions>;
  children: Child[];
  closers: (() => Promise<unknown>)[];
}

export async function startInProcessPool(opts: InProcessPoolOptions) {
  const { name, dir, creds, log, children, closers } = opts;
  const [nodeDb, templatesDb, claimsDb] = await Promise.all([
    createTestDatabase(`${name}_xmtp`),
    createTestDatabase(`${name}_templates`),
    createTestDatabase(`${name}_claims`),
  ]);
  const node = await startChild(
    "services/xmtp-devnode/src/main.ts",
    { DATABASE_URL: nodeDb, ...NODE_WITHOUT_RATE_LIMITS },
    { readyPrefix: "XMTP devnode:" },
  );
  children.push(node);
  const templates = await startTemplateService({
    databaseUrl: templatesDb,
    credentials: creds.templates,
    resolver: await XmtpInboxResolver.connect({ apiUrl: node.url }),
    log: log("templates"),
    ...opts.templates,
  });
  closers.push(() => templates.close());
  const host = await startInstanceHost({
    xmtpApiUrl: node.url,
    masterSeed: randomBytes(32).toString("hex"),
    dataDir: join(dir, "host"),
    credentials: creds["instance-host"],
    joinTimeoutMs: 60_000,
    log: log("instance-host"),
  });
  closers.push(() => host.close());
  const claims = await startClaimsService({
    // Numbers and mailboxes without an operator's grant: this measures something else (docs/limits.md).
    budget: OPEN_BUDGET,
    databaseUrl: claimsDb,
    credentials: creds.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir: join(dir, "claims"),
    pool: { hostUrls: [host.url], ...opts.pool },
    // One owner claims again and again: the per-caller rate limit is not what is measured.
    limits: NO_LIMITS,
    log: log("claims"),
    ...opts.claims,
  });
  closers.push(() => claims.close());
  const creator = await startCreator(node.url, dir);
  closers.push(() => creator.close());
  const claimsSc = createServiceClient(ClaimService, claims.url, creds.gateway);
  const templatesSc = createServiceClient(TemplateService, templates.url, creds.gateway);
  closers.push(async () => {
    claimsSc.close();
    templatesSc.close();
  });
  return { node, templates, host, claims, creator, claimsSc, templatesSc };
}
