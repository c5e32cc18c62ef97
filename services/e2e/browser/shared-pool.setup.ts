// The browser tier's one pool: vitest's globalSetup for the browser project
// (vitest.config.ts). It starts the whole pool once, as `npm start` runs it
// (`startPool`, on PostgreSQL and the local XMTP node, serving the built web
// app), before the tier's first file, and closes it after the last; the files
// read its addresses with `sharedPool()` (shared-pool.ts) and make what they
// need in it themselves: their own keys, templates, owners and conversations,
// so that they hold in any order, beside each other, and alone (one file run
// alone starts the pool too). Files that need a pool set up otherwise (a stand-in
// host, a watch every second, other models) keep their own (docs/testing.md).
//
// The pool starts beside the files, not before them: a small HTTP server of
// this process answers its addresses once it is up, and relays the SMS
// stand-in's phones, which live in this process: a phone's texts, each as one
// JSON line, as they arrive.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { TestProject } from "vitest/node";
import { OPEN_BUDGET } from "@convos-pool/claims";
import { startPool, type RunningPool } from "@convos-pool/dev";
import { DEFAULT_LIMITS, createLogger, type LimitConfig } from "@convos-pool/kit/server";
import { deriveInboxId } from "@convos-pool/kit/signing";
import type { LocalPhone, LocalSms } from "@convos-pool/local-providers";
import { createTestDatabase } from "@convos-pool/testing";
import { xmtpPortForTest } from "@convos-pool/testing/xmtp-port";
import { ensureWebBuild } from "@convos-pool/web";
import type { SharedPoolAddresses } from "./shared-pool.js";

/** Idle agents kept warm: as many as the four files that claim had between them (app.test.ts two), less one. */
const WARM_AGENTS = 4;

/**
 * The pool's default limits less those per address: every file's browser and
 * CLIs come from 127.0.0.1, and would count as one caller of the whole tier.
 */
const LIMITS = Object.fromEntries(
  Object.entries(DEFAULT_LIMITS).filter(([name]) => !name.endsWith("PerAddress")),
) as LimitConfig;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const operatorKey = generatePrivateKey();
  // Started, not awaited: vitest runs every project's globalSetup before any file of any tier, and the other
  // tiers (and this tier's files with services of their own) need not wait for this pool; its files ask for it.
  const starting = startSharedPool(operatorKey);
  const control = await startControl(starting);
  project.provide("sharedPool", { controlUrl: control.url, operatorKey });
  return async () => {
    await control.close();
    const started = await starting.catch(() => undefined);
    await started?.close();
  };
}

/** The pool with what the files read of it; `close()` stops it and frees its port and directory. */
export interface StartedPool {
  addresses: SharedPoolAddresses;
  sms: LocalSms;
  close(): Promise<void>;
}

async function startSharedPool(operatorKey: Hex): Promise<StartedPool> {
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
      warmInstances: WARM_AGENTS,
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

/**
 * The files' way to the pool, up before it is: `GET /pool` answers its
 * addresses once it is up (or why it did not start, with 500), and
 * `GET /phones/<number>` what that phone received and then receives, one JSON
 * line a text, until the file hangs up (shared-pool.ts `remotePhone`).
 */
export async function startControl(starting: Promise<StartedPool>): Promise<{ url: string; close(): Promise<void> }> {
  // A pool that failed is told to each file that asks (and at teardown), not left an unhandled rejection.
  starting.catch(() => undefined);
  const server = createServer((req, res) => {
    void starting.then(
      ({ addresses, sms }) => {
        if (req.url === "/pool")
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(addresses));
        else relayPhone(sms, req.url ?? "", res);
      },
      (err: unknown) => res.writeHead(500).end(`the browser tier's pool did not start: ${String(err)}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the control server has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function relayPhone(sms: LocalSms, url: string, res: ServerResponse): void {
  const number = decodeURIComponent(/^\/phones\/([^/]+)$/.exec(url)?.[1] ?? "");
  let phone: LocalPhone;
  try {
    phone = sms.phone(number);
  } catch (err) {
    res.writeHead(400).end(String(err));
    return;
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  let open = true;
  res.on("close", () => (open = false));
  void (async () => {
    let sent = 0;
    while (open) {
      const texts = phone.messages();
      for (; sent < texts.length; sent++) res.write(`${JSON.stringify(texts[sent])}\n`);
      // Wakes on the next text, or each second to notice a file that hung up.
      await phone.waitForMessage((m) => phone.messages().indexOf(m) >= sent, 1_000).catch(() => undefined);
    }
  })();
}
