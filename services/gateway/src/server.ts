// The gateway: the pool's only public entry point (docs/architecture.md).
// One port serves SessionService, TemplateService, RolloutService, ClaimService,
// LineageService, PatternInsightsService and VersionSignalInsightsService over Connect, gRPC and gRPC-Web (HTTP/1.1 and h2c), and the
// REST paths of docs/rest.md. Template, claim and lineage calls are forwarded
// to the templates, claims and lineage services over gRPC with the gateway's
// own credential (connect/forward.ts);
// the caller's identity travels as x-pool-caller only when the gateway
// verified it (a session token that was not ended). Sign-ins, claims and
// template writes are limited per client address (limits/addresses.ts), counted in the
// gateway's database so that replicas share one allowance. With a built
// web app (webDir), the same port serves it at / (web/app.ts).

import { createHash } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { AttestationKeyService } from "@convos-pool/gen/convos/pool/v1/attestation_service_pb.js";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import {
  type ClientCredentials,
  createLogger,
  connectionLimitsOf,
  createServiceClient,
  DEFAULT_LIMITS,
  DEFAULT_MAX_REQUEST_BYTES,
  type LimitConfig,
  type Logger,
  type ServerRequest,
  type ServerResponse,
  RateLimit,
} from "@convos-pool/kit/server";
import {
  DerivedInboxResolver,
  type InboxResolver,
  SignatureVerifier,
  LOCAL_POOL_ID,
  signatureDomain,
} from "@convos-pool/kit/signing";
import { SIGNATURE_MAX_AGE_SECONDS } from "@convos-pool/kit/content";
import {
  postgresRates,
  rateCountersMigration,
  signatureNoncesMigration,
  pruneRates,
  pruneSpentNonces,
  startService,
  type RunningService,
} from "@convos-pool/kit/service";
import { callInfo, createForwarders, routeForwarded, type CallInfo, type Gate } from "./connect/forward.js";
import { agentsJwks } from "./web/jwks.js";
import { AddressLimits } from "./limits/addresses.js";
import { restRpcOf } from "./rest/core/criticality.js";
import { restApi } from "./rest/routes.js";
import { webApp } from "./web/app.js";
import type { SignInFields } from "./rest/core/request.js";
import { startSignInInbox, type SignInInbox } from "./convos-sign-in/inbox.js";
import { collectConvosSignIn, startConvosSignIn, type ConvosSignInDeps } from "./convos-sign-in/service.js";
import { convosSignInNamesMigration, convosSignInsMigration, pruneSignIns } from "./convos-sign-in/sql.js";
import {
  SessionTokens,
  Sessions,
  createSession,
  endedSessionsMigration,
  originsOf,
  type SessionServiceDeps,
} from "./sessions/service.js";

export interface GatewayOptions {
  /** The pool whose signatures it accepts (POOL_ID, docs/signatures.md); default LOCAL_POOL_ID. */
  poolId?: string | undefined;
  /** 0 or absent: a free port. */
  port?: number | undefined;
  /** Default "127.0.0.1". */
  host?: string | undefined;
  /** The templates service, e.g. http://127.0.0.1:7001 (reached over gRPC, HTTP/2). */
  templatesUrl: string;
  /**
   * The claims service, e.g. http://127.0.0.1:7002 (gRPC). Absent:
   * ClaimService and the claim / "My agents" / template instances REST paths
   * answer UNAVAILABLE (503).
   */
  claimsUrl?: string | undefined;
  /**
   * The lineage service, e.g. http://127.0.0.1:7004 (gRPC). Absent:
   * LineageService and the lineage REST paths answer UNAVAILABLE (503).
   */
  lineageUrl?: string | undefined;
  /** The gateway's own credential, presented to internal services (POOL_SERVICE_TOKEN), and TLS towards them. */
  credentials: ClientCredentials;
  /**
   * Key of the session tokens' HMAC. Absent: random per start, so sessions do
   * not survive a restart (and do not work across several gateway replicas).
   */
  sessionSecret?: string | undefined;
  /** The gateway's own database (used nonces of CreateSession); absent: embedded PGlite. */
  databaseUrl?: string | undefined;
  /** Where the embedded database lives; default .data/gateway. */
  embeddedDir?: string | undefined;
  /** Who owns which wallet; offline XMTP inbox derivation by default. */
  resolver?: InboxResolver | undefined;
  /**
   * The URLs people reach this gateway at (POOL_PUBLIC_URL): a sign-in must
   * name one of their origins (docs/signatures.md, "Sign-in"). Absent: its
   * own address on loopback (http://127.0.0.1:port, http://localhost:port),
   * what `npm start` and the tests use.
   */
  publicUrls?: string[] | undefined;
  /**
   * The pool's sign-in inbox (Sign in with Convos, docs/signatures.md): its
   * wallet key (POOL_SIGN_IN_KEY) and the XMTP node. Absent: Sign in with
   * Convos answers UNAVAILABLE; wallets still sign in.
   */
  signInInbox?:
    | {
        apiUrl: string;
        privateKey: `0x${string}`;
        /** Its XMTP database; null (the default) keeps it in memory: a new installation at every start. */
        dbPath?: string | null;
        dbEncryptionKey?: Uint8Array;
      }
    | undefined;
  /** Browser origins allowed (CORS); default "*". */
  corsOrigins?: string[] | "*" | undefined;
  /** Limits per client address and sign-ins per inbox (docs/limits.md); default DEFAULT_LIMITS. */
  limits?: LimitConfig | undefined;
  /** The built web app (services/web/dist) to serve at /; absent: no web app, the API only. */
  webDir?: string | undefined;
  /** Addresses of proxies in front of the gateway: behind them, X-Forwarded-For names the client. */
  trustedProxies?: string[] | undefined;
  log?: Logger | undefined;
}

export type RunningGateway = RunningService;

/** What a client of a gateway without claimsUrl is told. */
export const CLAIMS_NOT_CONFIGURED =
  "this gateway is not connected to a claims service (claimsUrl / CLAIMS_URL is not set)";
export const LINEAGE_NOT_CONFIGURED =
  "this gateway is not connected to a lineage service (lineageUrl / LINEAGE_URL is not set)";

/** How long a signed login stays acceptable, and so how long its nonce must be remembered. */

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const log = opts.log ?? createLogger("gateway");
  if (!opts.sessionSecret) {
    log.warn("no session secret configured (POOL_SESSION_SECRET): sessions end when the gateway restarts");
  }
  const tokens = new SessionTokens(opts.sessionSecret || undefined);
  const poolId = opts.poolId ?? LOCAL_POOL_ID;
  const signingDomain = { poolId, ...signatureDomain(poolId) };
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const configuredOrigins = opts.publicUrls?.length ? originsOf(opts.publicUrls) : undefined;
  // Without configured URLs, known once the server listens (its port may be chosen then).
  let origins: readonly string[] = configuredOrigins ?? [];
  const { server, running } = await startService(
    {
      name: "gateway",
      port: opts.port,
      host: opts.host,
      log,
      database: {
        url: opts.databaseUrl,
        embeddedDir: opts.embeddedDir,
        entities: [],
        migrations: [
          signatureNoncesMigration,
          endedSessionsMigration,
          rateCountersMigration,
          convosSignInsMigration,
          convosSignInNamesMigration,
        ],
      },
      server: {
        cors: { allowedOrigins: opts.corsOrigins ?? "*" },
        // A REST request is admitted as the RPC its route calls (rest/core/criticality.ts).
        fallbackRpc: restRpcOf,
        // A trusted proxy's connections carry many clients: not capped per address.
        connections: connectionLimitsOf(limits, opts.trustedProxies),
      },
    },
    async ({ db, lifetime }) => {
      // Rates are counted in the gateway's database, which every replica opens (docs/limits.md).
      const rates = postgresRates(db.em);
      const sessionDeps: SessionServiceDeps = {
        tokens,
        origins: () => origins,
        em: db.em,
        verifier: new SignatureVerifier({
          resolver: opts.resolver ?? new DerivedInboxResolver(),
          poolId,
          maxAgeSeconds: SIGNATURE_MAX_AGE_SECONDS,
        }),
        perInbox: new RateLimit("sign-ins per inbox", limits.signInsPerInbox, rates),
      };
      const gate: Gate = {
        sessions: new Sessions(tokens, db.em),
        addresses: new AddressLimits(limits, rates, opts.trustedProxies),
      };
      // Spent login nonces past the window, and ended sessions past their expiry, are never used again.
      pruneSpentNonces(lifetime, db);
      pruneRates(lifetime, db);
      lifetime.every(60_000, "ended-session pruning", () => gate.sessions.prune());
      let inbox: SignInInbox | undefined;
      if (opts.signInInbox) {
        inbox = await startSignInInbox({
          apiUrl: opts.signInInbox.apiUrl,
          privateKey: opts.signInInbox.privateKey,
          dbPath: opts.signInInbox.dbPath ?? null,
          // Derived from the key: whoever has the key is the inbox anyway.
          dbEncryptionKey:
            opts.signInInbox.dbEncryptionKey ??
            createHash("sha256").update(`sign-in inbox database:${opts.signInInbox.privateKey}`).digest(),
          em: db.em,
          perSender: new RateLimit("sign-in codes per inbox", limits.signInsPerInbox, rates),
          log,
        });
        const started = inbox;
        lifetime.defer(() => started.close());
      }
      const convosSignIn: ConvosSignInDeps = { em: db.em, tokens, origins: () => origins, inbox };
      lifetime.every(60_000, "sign-in code pruning", () => pruneSignIns(db.em));
      /** CreateSession on either face: counted against its client address first. */
      const signIn = async (req: SignInFields, call: CallInfo) => {
        await gate.addresses.take(SessionService.typeName, "CreateSession", call);
        return createSession(sessionDeps, { ...req, requestOrigin: call.origin });
      };
      /** A client of an internal service at `url`, closed with the gateway. */
      const connect = <S extends DescService>(service: S, url: string) => {
        const c = createServiceClient(service, url, opts.credentials);
        lifetime.defer(() => c.close());
        return c.client;
      };
      /** As connect, for a service the gateway may run without: none without a url. */
      const upstream = <S extends DescService>(service: S, url: string | undefined) =>
        url ? connect(service, url) : undefined;
      const urls = { templates: opts.templatesUrl, claims: opts.claimsUrl, lineage: opts.lineageUrl };
      const forwarders = createForwarders((service, name) => upstream(service, urls[name]), gate, log);
      const web = opts.webDir ? await webApp(opts.webDir) : undefined;
      const jwks = agentsJwks(upstream(AttestationKeyService, opts.claimsUrl), log);
      const rest = restApi({
        ...forwarders,
        claimsNotConfigured: CLAIMS_NOT_CONFIGURED,
        lineageNotConfigured: LINEAGE_NOT_CONFIGURED,
        createSession: signIn,
        endSession: (authorization) => gate.sessions.end(authorization),
        signingDomain,
        log,
        maxBodyBytes: DEFAULT_MAX_REQUEST_BYTES,
      });
      const fallback = async (req: ServerRequest, res: ServerResponse) =>
        (await jwks(req, res)) || (await rest(req, res)) || (web?.(req, res) ?? false);
      const routes = (router: ConnectRouter) => {
        router.service(SessionService, {
          async createSession(req, ctx) {
            const { inboxId, address, origin, uri, signature } = req;
            const session = await signIn({ inboxId, address, origin, uri, signature }, callInfo(ctx));
            return { token: session.token, expiresAt: timestampFromDate(session.expiresAt) };
          },
          async deleteSession(_req, ctx) {
            await gate.sessions.end(ctx.requestHeader.get("authorization"));
            return {};
          },
          getSigningDomain: () => signingDomain,
          async startConvosSignIn(req, ctx) {
            const call = callInfo(ctx);
            await gate.addresses.take(SessionService.typeName, "StartConvosSignIn", call);
            const s = await startConvosSignIn(convosSignIn, { origin: req.origin, requestOrigin: call.origin });
            return {
              code: s.code,
              secret: s.secret,
              signInInboxId: s.signInInboxId,
              inviteUrl: s.inviteUrl,
              expiresAt: timestampFromDate(s.expiresAt),
            };
          },
          async collectConvosSignIn(req) {
            const c = await collectConvosSignIn(convosSignIn, { code: req.code, secret: req.secret });
            if (c.waiting) return { waiting: true };
            const { session } = c;
            return {
              inboxId: session.inboxId,
              token: session.token,
              expiresAt: timestampFromDate(session.expiresAt),
              name: c.name,
            };
          },
        });
        routeForwarded(router, forwarders, { claims: CLAIMS_NOT_CONFIGURED, lineage: LINEAGE_NOT_CONFIGURED });
      };
      return { routes, fallback };
    },
  );
  if (!configuredOrigins) {
    origins = [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`];
    log.warn("no public URL configured (POOL_PUBLIC_URL): sign-ins are accepted only for its loopback address", {
      origins,
    });
  }
  log.info("gateway upstreams", {
    templates: opts.templatesUrl,
    claims: opts.claimsUrl ?? null,
    lineage: opts.lineageUrl ?? null,
  });
  return running;
}
