// The whole pool as the browser tests use it (`startPool`, as `npm start`
// runs it, on PostgreSQL and the local XMTP node, serving the built web app):
// started once for the tier by shared-pool.setup.ts, or by a file for itself
// where the local XMTP node cannot be shared (shared-pool.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { OPEN_BUDGET } from "@convos-pool/claims";
import { startPool, type RunningPool } from "@convos-pool/dev";
import { DEFAULT_LIMITS, createLogger, type LimitConfig } from "@convos-pool/kit/server";
import { deriveInboxId } from "@convos-pool/kit/signing";
import type { LocalSms } from "@convos-pool/local-providers";
import { createTestDatabase } from "@convos-pool/testing";
import { xmtpPortForTest } from "@convos-pool/testing/xmtp-port";
import { ensureWebBuild } from "@convos-pool/web";

export interface SharedPoolAddresses {
  gatewayUrl: string;
  chainRpcUrl: string;
  /** The local XMTP node's port, for the Convos CLI (`xmtpPort`). */
  xmtpPort: number;
  /** The services' databases, for a file that checks what a service wrote. */
  templatesDatabaseUrl: string;
  claimsDatabaseUrl: string;
  lineageDatabaseUrl: string;
}

/**
 * Idle agents kept warm: for the tier, as many as the four files that claim
 * had between them (the app's file two), less one; for a file's own pool, two.
 */
export const WARM_AGENTS = { tier: 4, file: 2 };

/**
 * The pool's default limits less those per address: every file's browser and
 * CLIs come from 127.0.0.1, and would count as one caller of the whole tier.
 */
const LIMITS = Object.fromEntries(
  Object.entries(DEFAULT_LIMITS).filter(([name]) => !name.endsWith("PerAddress")),
) as LimitConfig;

/** The pool with what the files read of it; `close()` stops it and frees its port and directory. */
export interface StartedPool {
  addresses: SharedPoolAddresses;
  sms: LocalSms;
  close(): Promise<void>;
}

export async function startBrowserPool(operatorKey: Hex, warmAgents: number): Promise<StartedPool> {
  const xmtp = await xmtpPortForTest({ timeoutMs: 180_000 });
  const dir = await mkdtemp(join(tmpdir(), "pool-web-shared-"));
  let pool: RunningPool | undefined;
  const close = async () => {
    await pool?.close();
    await xmtp.release();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const databases = {
      templatesDatabaseUrl: await createTestDatabase("web_templates"),
      claimsDatabaseUrl: await createTestDatabase("web_claims"),
      lineageDatabaseUrl: await createTestDatabase("web_lineage"),
    };
    pool = await startPool({
      dataDir: join(dir, "pool"),
      port: 0,
      xmtpPort: xmtp.port,
      chainPort: 0,
      mailPort: 0,
      pop3Port: 0,
      smsPort: 0,
      // Numbers without an operator's grant: these files are about the web app (docs/limits.md).
      budget: OPEN_BUDGET,
      warmInstances: warmAgents,
      limits: LIMITS,
      webDir: await ensureWebBuild(),
      // The store's one operator; a file that curates signs as it (shared-pool.ts `poolOperator`).
      operators: [deriveInboxId(privateKeyToAccount(operatorKey).address)],
      ...databases,
      gatewayDatabaseUrl: await createTestDatabase("web_gateway"),
      xmtpDatabaseUrl: await createTestDatabase("web_xmtp"),
      log: createLogger("pool", { level: "silent" }),
    });
    const addresses = { gatewayUrl: pool.gatewayUrl, chainRpcUrl: pool.chainRpcUrl, xmtpPort: xmtp.port, ...databases };
    return { addresses, sms: pool.sms, close };
  } catch (err) {
    await close();
    throw err;
  }
}
