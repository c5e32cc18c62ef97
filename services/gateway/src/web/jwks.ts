// The pool's attestation keys as a JWKS at /.well-known/agents.json, where
// Convos clients and `convos attestation verify --jwks-url` fetch them
// (docs/signatures.md, "The verified badge"). The claims service holds the
// keys and hands the gateway their public halves (AttestationKeyService);
// the gateway keeps them a minute, so a burst of clients costs one call.
import type { Client } from "@connectrpc/connect";
import type { AttestationKeyService } from "@convos-pool/gen/convos/pool/v1/attestation_service_pb.js";
import { JWKS_PATH, toJwks } from "@convos-pool/kit/signing";
import type { Logger, ServerRequest, ServerResponse } from "@convos-pool/kit/server";

const CACHE_MS = 60_000;

/** Answers GET /.well-known/agents.json; false for any other request. */
export function agentsJwks(
  client: Client<typeof AttestationKeyService> | undefined,
  log: Logger,
): (req: ServerRequest, res: ServerResponse) => Promise<boolean> {
  let cached: { body: string; until: number } | undefined;
  const body = async (keyService: Client<typeof AttestationKeyService>) => {
    if (cached && cached.until > Date.now()) return cached.body;
    const { keys } = await keyService.listAttestationKeys({}, { timeoutMs: 5_000 });
    const text = JSON.stringify(toJwks(keys.map((k) => ({ kid: k.kid, x: k.x, expiresAt: k.expiresAt }))));
    cached = { body: text, until: Date.now() + CACHE_MS };
    return text;
  };
  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (new URL(req.url ?? "/", "http://gateway.invalid").pathname !== JWKS_PATH) return false;
    const send = (status: number, text: string, cache: string) => {
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(text)),
        "cache-control": cache,
        // Any client may check a badge, from any origin.
        "access-control-allow-origin": "*",
      });
      if (req.method === "HEAD") res.end();
      else res.end(text);
    };
    if (!client) {
      send(503, JSON.stringify({ error: "this gateway is not connected to a claims service" }), "no-store");
      return true;
    }
    try {
      send(200, await body(client), "public, max-age=300");
    } catch (err) {
      log.warn("attestation keys unavailable", { err });
      send(503, JSON.stringify({ error: "the pool's attestation keys are unavailable; try again" }), "no-store");
    }
    return true;
  };
}
