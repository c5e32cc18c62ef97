// The keys service (docs/security.md, "Agents' keys"): the only holder of the
// pool's root key (POOL_MASTER_SEED). Each instance host asks it for the
// wallet key of each agent it runs, under its own credential, and is given
// it only for an agent the claims service places on that host
// (InstancePlacementService), or moves to it from a host marked lost. It has
// no database: the seed is all it keeps, and the seed alone brings every
// wallet back.
import { AgentKeyService } from "@convos-pool/gen/convos/pool/v1/agent_key_service_pb.js";
import { InstancePlacementService } from "@convos-pool/gen/convos/pool/v1/instance_placement_service_pb.js";
import { type AccessPolicy, createServiceClient, type Logger, type ServiceCredentials } from "@convos-pool/kit/server";
import { startService } from "@convos-pool/kit/service";
import { MasterSeed } from "@convos-pool/kit/signing";
import { createAgentKeyService, grpcPlacements } from "./service.js";

export interface KeysServiceOptions {
  port?: number | undefined;
  host?: string | undefined;
  /** Its own credential (presented to the claims service) and whom it recognizes; TLS when configured. */
  credentials: ServiceCredentials;
  /** The claims service: where each agent runs. */
  claimsUrl: string;
  /** The pool's root key: a BIP-39 mnemonic or 32 bytes of hex (parsed once, at start), or one parsed already. */
  masterSeed: string | MasterSeed;
  log?: Logger | undefined;
}

export interface RunningKeysService {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Instance hosts alone; which agent's key each is given is decided per call (policy.ts). */
export const KEYS_ACCESS: AccessPolicy = {
  [AgentKeyService.typeName]: ["instance-host"],
};

export async function startKeysService(opts: KeysServiceOptions): Promise<RunningKeysService> {
  const seed = typeof opts.masterSeed === "string" ? parseSeed(opts.masterSeed) : opts.masterSeed;
  const { server, lifetime } = await startService(
    {
      name: "keys",
      port: opts.port,
      host: opts.host,
      log: opts.log,
      credentials: opts.credentials,
      access: KEYS_ACCESS,
    },
    ({ log, lifetime }) => {
      const claims = createServiceClient(InstancePlacementService, opts.claimsUrl, opts.credentials);
      lifetime.defer(() => claims.close());
      const placements = grpcPlacements(claims.client);
      return (router) => router.service(AgentKeyService, createAgentKeyService({ seed, placements, log }));
    },
  );
  return { url: server.url, port: server.port, close: () => lifetime.close() };
}

/** The seed, or an error that says what is wrong with it and never shows it. */
function parseSeed(text: string): MasterSeed {
  try {
    return MasterSeed.parse(text);
  } catch (err) {
    // MasterSeed.parse's messages name the fault, never the words or bytes.
    throw new Error(`keys: the master seed cannot be used: ${(err as Error).message}`);
  }
}
