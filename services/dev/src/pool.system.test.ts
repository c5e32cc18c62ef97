import { mkdtemp, rm, stat } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, expect, it } from "vitest";
import { deriveInboxId, signInJson, signOperation, signSignIn } from "@convos-pool/kit/signing";
import { jsonHash, type TemplateContentJson } from "@convos-pool/kit/content";
import { DEFAULT_BUDGET } from "@convos-pool/claims";
import { startPool, type RunningPool } from "./pool.js";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

// Two starts of the whole pool, each service opening its embedded PGlite (WebAssembly): about 15 s
// each on an idle machine; in a full run beside the other test files it has taken from 125 to 181 s.
it("runs the pool on embedded databases that survive a restart (npm start)", { timeout: 300_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "pool-dev-"));
  dirs.push(dataDir);
  const account = privateKeyToAccount(generatePrivateKey());
  const inboxId = deriveInboxId(account.address);
  const content: TemplateContentJson = {
    agent_name: "Embedded",
    instructions: "Say hello.",
    model: { default: "gpt-oss-20b", allow_override: true },
    tools: [],
    description: "",
    category: "",
    tags: [],
  };

  let pool = await startPool({
    dataDir,
    port: 0,
    xmtpPort: 0,
    chainPort: 0,
    mailPort: 0,
    pop3Port: 0,
    smsPort: 0,
    warmInstances: 1,
  });
  const signature = await signOperation(account, "CreateTemplate", { inboxId, contentHash: jsonHash(content) });
  const created = await fetch(`${pool.gatewayUrl}/api/pool/templates`, {
    method: "POST",
    body: JSON.stringify({
      creator_id: inboxId,
      ...content,
      signature: { signature: signature.signature, issued_at: Number(signature.issuedAt), nonce: signature.nonce },
    }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  // The XMTP node's metrics, on a port of their own (its gRPC port speaks only HTTP/2).
  const scrape = await fetch(`${pool.xmtpMetricsUrl}/metrics`);
  expect(scrape.status).toBe(200);
  expect(await scrape.text()).toMatch(/^xmtp_devnode_subscriptions\{kind="group",pool_service="xmtp-devnode"\} \d+/m);
  // The verified badge's development key, its public half published as the pool's JWKS.
  const jwksOf = async (p: RunningPool) => (await fetch(`${p.gatewayUrl}/.well-known/agents.json`)).json();
  const jwks = (await jwksOf(pool)) as { keys: { kid: string }[] };
  expect(jwks.keys.map((k) => k.kid)).toEqual([expect.stringMatching(/^dev-[0-9a-f]{12}$/)]);
  await pool.close();

  // The session secret is kept private to its owner.
  expect((await stat(join(dataDir, "session-secret"))).mode & 0o077).toBe(0);
  // So is the attestation key, kept for the next start.
  expect((await stat(join(dataDir, "claims", "attestation-key.pem"))).mode & 0o077).toBe(0);
  // The local XMTP node ran too, on its own embedded database in the data directory.
  expect(pool.xmtpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect((await stat(join(dataDir, "xmtp-devnode"))).isDirectory()).toBe(true);
  // And the local chain, its state written where the next start reads it.
  expect(pool.chainRpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect((await stat(join(dataDir, "chain", "state.json"))).isFile()).toBe(true);
  // The local mail server answered on its port while the pool ran (its greeting, below, on the second start).
  expect(pool.smtpUrl).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/);

  pool = await startPool({
    dataDir,
    port: 0,
    xmtpPort: 0,
    chainPort: 0,
    mailPort: 0,
    pop3Port: 0,
    smsPort: 0,
    warmInstances: 1,
    // The creator is an operator too, for what the pool pays for (below), granting nothing
    // without them, as a deployed pool does (npm start with POOL_TOOLS_WITHOUT_GRANT= empty).
    operators: [inboxId],
    budget: DEFAULT_BUDGET,
  });
  try {
    expect(await smtpGreeting(pool.smtpUrl)).toMatch(/^220 agents\.localhost /);
    // The same attestation key after a restart: agents' badges stay valid.
    expect(await jwksOf(pool)).toEqual(jwks);
    // The template is private: its creator, signed in, sees it; nobody else does.
    const session = await fetch(`${pool.gatewayUrl}/api/pool/sessions`, {
      method: "POST",
      body: JSON.stringify(signInJson(await signSignIn(account, inboxId, pool.gatewayUrl))),
    });
    expect(session.status).toBe(200);
    const { token } = (await session.json()) as { token: string };
    const again = await fetch(`${pool.gatewayUrl}/api/pool/templates/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { instructions: string }).instructions).toBe("Say hello.");
    const anonymous = await fetch(`${pool.gatewayUrl}/api/pool/templates/${id}`);
    expect(anonymous.status).toBe(404);
    // The lineage service runs too, on its own embedded database: the creator's dashboard of the template.
    const dashboard = await fetch(`${pool.gatewayUrl}/api/pool/templates/${id}/dashboard`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.json()).toMatchObject({ template_id: id, live_count: 0, total_count: 0 });
    expect((await stat(join(dataDir, "lineage"))).isDirectory()).toBe(true);

    // What the pool pays for, as a deployed pool (docs/limits.md): no number without an operator's grant.
    const auth = { authorization: `Bearer ${token}` };
    const withSms = {
      ...content,
      agent_name: "Texter",
      tools: [{ id: "sms", provisioning: "pool" as const, name: "SMS", description: "", prompt: "", required: false }],
    };
    const sig = await signOperation(account, "CreateTemplate", { inboxId, contentHash: jsonHash(withSms) });
    const texter = await fetch(`${pool.gatewayUrl}/api/pool/templates`, {
      method: "POST",
      body: JSON.stringify({
        creator_id: inboxId,
        ...withSms,
        signature: { signature: sig.signature, issued_at: Number(sig.issuedAt), nonce: sig.nonce },
      }),
    });
    expect(texter.status).toBe(201);
    const { id: texterId } = (await texter.json()) as { id: string };
    const claim = () =>
      fetch(`${pool.gatewayUrl}/api/pool/claim`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ requester: inboxId, template_id: texterId, conversation_invite: "not-an-invite" }),
      });
    const refused = await claim();
    expect(refused.status).toBe(422);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("failed_precondition");
    expect(error.message).toMatch(
      /asks for a phone number \(sms\), which the pool pays for only where its operators allowed it/,
    );
    expect(error.message).toContain(`npm run -s pool -- grant-tools ${texterId} --tools sms`);
    // The operator allows it, signed; a grant applies from the next template read (kept 2 s).
    const fields = { templateId: texterId, creatorId: "", tools: "sms", fundWei: 0n, maxLiveTools: 0 };
    const grantSig = await signOperation(account, "SetToolGrant", { inboxId, ...fields });
    const granted = await fetch(`${pool.gatewayUrl}/api/pool/tool-grants`, {
      method: "PUT",
      body: JSON.stringify({
        operator_id: inboxId,
        template_id: texterId,
        tools: ["sms"],
        signature: { signature: grantSig.signature, issued_at: Number(grantSig.issuedAt), nonce: grantSig.nonce },
      }),
    });
    expect(granted.status).toBe(200);
    expect(await granted.json()).toMatchObject({ grant: { template_id: texterId, tools: ["sms"], fund_wei: "0" } });
    await new Promise((r) => setTimeout(r, 2_500));
    // Past the grant now: what stops this claim is its invite, not the pool's budget.
    const past = await claim();
    const pastBody = await past.text();
    expect(past.status, pastBody).toBe(400);
    expect(JSON.parse(pastBody)).toMatchObject({ error: { field: "conversation_invite" } });
    // An owner's own funded account on the local chain, to deposit into an agent's empty wallet.
    const balance = await fetch(pool.chainRpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getBalance", params: [pool.ownerAccount, "latest"] }),
    });
    expect(BigInt(((await balance.json()) as { result: string }).result)).toBeGreaterThan(0n);
  } finally {
    await pool.close();
  }
});

/** The first line an SMTP server says. */
function smtpGreeting(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.once("data", (d) => {
      resolve(d.toString("utf8").split("\r\n")[0]!);
      socket.end();
    });
    socket.once("error", reject);
  });
}
