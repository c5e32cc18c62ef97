// Runs the gateway on its own (production): configuration from the environment.
//   PORT                 default 8080
//   HOST                 default 0.0.0.0
//   TEMPLATES_URL        the templates service (gRPC over h2c), default http://127.0.0.1:7001
//   CLAIMS_URL           the claims service (gRPC over h2c); absent: claims answer 503 / UNAVAILABLE
//   LINEAGE_URL          the lineage service (gRPC over h2c); absent: lineage answers 503 / UNAVAILABLE
//   POOL_ID (required) the deployment every signature names (docs/signatures.md)
//   POOL_SERVICE_TOKEN   the gateway's own credential, presented to internal services (required)
//   POOL_SERVICE_DIGESTS every service's credential digest (required; docs/security.md)
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL]   internal gRPC over TLS
//   POOL_SESSION_SECRET  HMAC key of session tokens, at least 32 bytes; without it sessions end at every restart
//   POOL_METRICS_TOKEN   what GET /metrics asks for (Authorization: Bearer), at least 16 bytes (required, as for every service)
//   DATABASE_URL         postgres:// for the gateway's own table (used login nonces); absent: embedded PGlite
//   POOL_PUBLIC_URL      comma-separated URLs people reach the gateway at (https://pool.example): a sign-in
//                        must name one of their origins; absent: only its loopback address (a warning)
//   CORS_ORIGINS         comma-separated browser origins; default "*"
//   POOL_LIMITS          limits per client address and sign-ins per inbox (docs/limits.md)
//   POOL_TRUSTED_PROXIES addresses of proxies in front of the gateway (their X-Forwarded-For names the client)
//   XMTP_API_URL         the XMTP network: sign-ins are checked against it (without it: inbox derivation only, with a warning)
//   POOL_SIGN_IN_KEY     the pool's sign-in inbox's wallet key (0x and 64 hex digits): Sign in with Convos,
//                        on the node at XMTP_API_URL; absent: wallets only. Set it on one replica.
//   POOL_SIGN_IN_DB      that inbox's XMTP database file; default .data/gateway-sign-in/xmtp.db3
//   WEB_DIR              the built web app (services/web/dist) to serve at /; absent: the API only
import { runService } from "@convos-pool/kit/service";
import { gatewayOptions } from "./config.js";
import { startGateway } from "./server.js";

await runService("gateway", gatewayOptions, startGateway);
