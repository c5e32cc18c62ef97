// What the pool pays for, measured (docs/limits.md, "What the pool pays for").
// Run: npm run bench:budget   (starts a throwaway PostgreSQL; prints figures)
//
// Real: the templates and claims services on PostgreSQL, the local chain
// (anvil) whose faucet funds wallets, the claims service's warm pool. A
// stand-in: the instance host (the stand-in host of @convos-pool/testing,
// which joins any invite at once), so that what is measured is the claim and
// its spend, not XMTP. BENCH_INBOXES (50) fresh inboxes, each never seen
// before, claim at once a template asking for a number, a mailbox and a
// wallet, under an operator's grant funding each wallet with FUND; the day's
// budget allows BENCH_FUNDED (5) funded wallets and BENCH_TOOLS_DAY (12) paid
// tools. Printed: what they got against the budget, read back from the
// claims database and the chain, and the claims' latency against an anchor
// measured in the same run: as many claims of a template that costs the pool
// nothing (no grant needed, no budget counted: the batched path).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { createPublicClient, formatEther, http, parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import {
  NO_LIMITS,
  callerHeaders,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  limitExceededOf,
} from "@convos-pool/kit/server";
import { signOperation } from "@convos-pool/kit/signing";
import { startLocalChain } from "@convos-pool/local-providers";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate, tool } from "@convos-pool/kit/testing";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { budgetDay, SecretBox, startClaimsService } from "@convos-pool/claims";
import { startTemplateService } from "@convos-pool/templates";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { figures, fmt, size } from "./lib.js";

const INBOXES = size("BENCH_INBOXES", 50, 10);
const FUNDED = size("BENCH_FUNDED", 5, 2);
const TOOLS_DAY = size("BENCH_TOOLS_DAY", 12, 5);
const FUND = parseEther("0.01");
const FUNDS_DAY = BigInt(FUNDED) * FUND;

const quiet = (name: string) => createLogger(name, { level: "silent" });
const creds = generateServiceCredentials();
const dir = await mkdtemp(join(tmpdir(), "bench-budget-"));
const chain = await startLocalChain();
const operator = newIdentity();
const creator = newIdentity();
const templates = await startTemplateService({
  databaseUrl: await createTestDatabase("bench_budget_templates"),
  credentials: creds.templates,
  operators: [operator.inboxId],
  log: quiet("templates"),
});
const host = await StandInHost.start(creds["instance-host"]);
const claimsDb = await createTestDatabase("bench_budget_claims");
const claims = await startClaimsService({
  databaseUrl: claimsDb,
  credentials: creds.claims,
  templatesUrl: templates.url,
  secretsKey: SecretBox.generateKey(),
  dataDir: join(dir, "claims"),
  smsRange: "+15551000000..+15551000999",
  // The claims' own rate and caps off: fresh inboxes pass them anyway; what is measured is the budget.
  limits: NO_LIMITS,
  budget: { fundsPerDayWei: FUNDS_DAY, toolsPerDay: TOOLS_DAY, withoutGrant: [] },
  chain: { rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey },
  pool: { hostUrls: [host.url], target: INBOXES + 5, intervalMs: 100 },
  log: quiet("claims"),
});
const sql = new pg.Client({ connectionString: claimsDb });
await sql.connect();
const claimsSc = createServiceClient(ClaimService, claims.url, creds.gateway);
const templatesSc = createServiceClient(TemplateService, templates.url, creds.gateway);
const curationSc = createServiceClient(StoreCurationService, templates.url, creds.gateway);
const read = createPublicClient({ transport: http(chain.rpcUrl) });

async function idle(n: number): Promise<void> {
  const until = Date.now() + 120_000;
  for (;;) {
    const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from instances where state = 'idle'`);
    if (rows[0]!.n >= n) return;
    if (Date.now() > until) throw new Error(`the warm pool did not reach ${n} idle instances`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `INBOXES` fresh inboxes claim `templateId` at once: each one's outcome and latency. */
async function burst(templateId: string) {
  await idle(INBOXES);
  return Promise.all(
    Array.from({ length: INBOXES }, async () => {
      const who = newIdentity();
      const started = performance.now();
      const outcome = await claimsSc.client
        .claim(
          {
            requester: who.inboxId,
            templateId,
            conversationInvite: `https://dev.convos.org/v2?i=bench-${randomBytes(6).toString("hex")}`,
          },
          { headers: callerHeaders(who.inboxId) },
        )
        .then(
          (r) => ({ instanceId: r.instanceId, refused: undefined }),
          (err: unknown) => ({ instanceId: undefined, refused: limitExceededOf(err)?.limit ?? String(err) }),
        );
      return { ...outcome, ms: performance.now() - started };
    }),
  );
}

try {
  const free = await signedTemplate(
    templatesSc.client,
    creator,
    sampleContent({ tools: [tool("crypto", "pool")] }),
    "public",
  );
  const paid = await signedTemplate(
    templatesSc.client,
    creator,
    sampleContent({ tools: [tool("sms", "pool"), tool("email", "pool"), tool("crypto", "pool")] }),
    "public",
  );
  const fields = { templateId: paid.id, creatorId: "", tools: "email,sms", fundWei: FUND, maxLiveTools: 0 };
  await curationSc.client.setToolGrant({
    operatorId: operator.inboxId,
    templateId: paid.id,
    tools: ["sms", "email"],
    fundWei: FUND.toString(),
    signature: await signOperation(operator.account, "SetToolGrant", { inboxId: operator.inboxId, ...fields }),
  });
  const faucet = privateKeyToAccount(chain.faucetKey).address;

  const anchor = await burst(free.id);
  const faucetBefore = await read.getBalance({ address: faucet });
  const run = await burst(paid.id);
  const faucetPaid = faucetBefore - (await read.getBalance({ address: faucet }));

  const claimed = run.filter((r) => r.instanceId).map((r) => r.instanceId!);
  const refused = new Map<string, number>();
  for (const r of run) if (r.refused) refused.set(r.refused, (refused.get(r.refused) ?? 0) + 1);
  const { rows: tools } = await sql.query<{ tool_id: string; handle: string }>(
    `select tool_id, handle from provisioned_tools where instance_id = any($1)`,
    [claimed],
  );
  let funded = 0n;
  let fundedWallets = 0;
  for (const t of tools.filter((t) => t.tool_id === "crypto")) {
    const balance = await read.getBalance({ address: t.handle as Hex });
    funded += balance;
    if (balance > 0n) fundedWallets++;
  }
  const paidTools = tools.filter((t) => t.tool_id !== "crypto").length + fundedWallets;
  const { rows: day } = await sql.query<{ funds_wei: string; tools: number }>(
    `select funds_wei, tools from pool_budget_days where day = $1::date`,
    [budgetDay(new Date()).day],
  );
  const a = figures(anchor.map((r) => r.ms));
  const ok = figures(run.filter((r) => r.instanceId).map((r) => r.ms));
  const no = figures(run.filter((r) => r.refused).map((r) => r.ms));

  const lines = [
    `What the pool pays for: ${INBOXES} fresh inboxes claim a template with a number, a mailbox and a wallet funded ${formatEther(FUND)} ETH, at once`,
    `  budget per day                         ${formatEther(FUNDS_DAY)} ETH of funding, ${TOOLS_DAY} paid tools (numbers, mailboxes, funded wallets)`,
    `  claimed                                ${claimed.length} of ${INBOXES}`,
    `  refused                                ${[...refused].map(([k, v]) => `${v} "${k}"`).join(", ") || "none"}`,
    `  wallets funded, read from the chain    ${formatEther(funded)} ETH  (ratio to the budget ${fmt(Number(funded) / Number(FUNDS_DAY), 5)})`,
    `  the faucet paid (funding and fees)     ${formatEther(faucetPaid)} ETH`,
    `  paid tools provisioned                 ${paidTools}  (ratio to the budget ${fmt(paidTools / TOOLS_DAY, 5)})`,
    `  the day's row in the claims database   ${day[0] ? `${formatEther(BigInt(day[0].funds_wei))} ETH, ${day[0].tools} tools` : "none"}`,
    `  anchor: ${INBOXES} claims of a template that costs nothing, at once (ms)   p50 ${fmt(a.p50)}  p99 ${fmt(a.p99)}`,
    `  claims counted in the budget, granted (ms)                              p50 ${fmt(ok.p50)}  p99 ${fmt(ok.p99)}`,
    `  claims counted in the budget, refused (ms)                              p50 ${fmt(no.p50)}  p99 ${fmt(no.p99)}`,
    `  granted / anchor (p50)                 ${fmt(ok.p50 / a.p50, 6)}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (funded > FUNDS_DAY || paidTools > TOOLS_DAY) throw new Error("the budget was passed");
} finally {
  claimsSc.close();
  templatesSc.close();
  curationSc.close();
  await sql.end();
  await claims.close();
  await host.kill();
  await templates.close();
  await chain.close();
  await rm(dir, { recursive: true, force: true });
}
