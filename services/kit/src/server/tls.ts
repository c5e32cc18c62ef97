// TLS for the pool's internal gRPC (docs/security.md, "Transport"). Off by
// default (`npm start` talks plain HTTP/2 on loopback); with certificates
// configured, every server of a service listens with TLS and its clients
// check the peer against the pool's CA; with `mutual`, servers also require
// a client certificate from that CA.

import { readFileSync } from "node:fs";

export interface TlsConfig {
  /** This service's certificate chain (PEM). */
  cert: string;
  /** Its private key (PEM). Never logged. */
  key: string;
  /** The CA (PEM) that signed the pool's certificates: peers are checked against it. */
  ca: string;
  /** Mutual TLS: servers require a client certificate from `ca`, and clients present `cert`. */
  mutual?: boolean;
}

/**
 * TLS from the environment: POOL_TLS_CERT, POOL_TLS_KEY and POOL_TLS_CA name
 * PEM files (all three, or none: plain HTTP/2); POOL_TLS_MUTUAL=true asks for
 * mutual TLS. Throws naming the variable that is missing or unreadable.
 */
export function tlsFromEnv(env: NodeJS.ProcessEnv = process.env): TlsConfig | undefined {
  const names = ["POOL_TLS_CERT", "POOL_TLS_KEY", "POOL_TLS_CA"] as const;
  const given = names.filter((n) => env[n]);
  if (given.length === 0) {
    if (env.POOL_TLS_MUTUAL === "true")
      throw new Error("POOL_TLS_MUTUAL=true needs POOL_TLS_CERT, POOL_TLS_KEY and POOL_TLS_CA");
    return undefined;
  }
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0) throw new Error(`TLS needs ${missing.join(" and ")} too (PEM files), or none of POOL_TLS_*`);
  const read = (name: (typeof names)[number]) => {
    const file = env[name];
    if (!file) throw new Error(`${name}: not set`); // never: a missing one is refused above
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(`${name}: cannot read ${env[name]} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
  };
  if (env.POOL_TLS_MUTUAL && env.POOL_TLS_MUTUAL !== "true" && env.POOL_TLS_MUTUAL !== "false") {
    throw new Error('POOL_TLS_MUTUAL must be "true" or "false"');
  }
  return {
    cert: read("POOL_TLS_CERT"),
    key: read("POOL_TLS_KEY"),
    ca: read("POOL_TLS_CA"),
    mutual: env.POOL_TLS_MUTUAL === "true",
  };
}
