// `pool` run as a command line (main.ts `run`): argument errors and their
// usage texts, the local commands (keygen, whoami, sign, content-hash), and
// requests against a stand-in gateway (test/stand-in-gateway.ts): signing in,
// versions, errors, an unreachable pool. Real: the CLI, its key files, the
// signatures (checked with the kit's verifier) and one refused connection;
// stand-in: the gateway's answers. The agent commands' are
// commands/agents/commands.test.ts.
import { readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { DerivedInboxResolver, LOCAL_POOL_ID, SignatureVerifier, signatureDomain } from "@convos-pool/kit/signing";
import { jsonHash } from "@convos-pool/kit/content";
import { describe, expect, it } from "vitest";
import { json, standInGateway, verify } from "../test/stand-in-gateway.js";
import { fillContent } from "./core/content.js";
import { run as runCli } from "./main.js";

/** The CLI as scripts run it (`--json`): these tests read the JSON it prints. */
const run: typeof runCli = (argv, io) => runCli(["--json", ...argv], io);

const TEMPLATE_ID = "tmpl_4Qb1x9ZkT2mW7cPa";

const g = standInGateway();

describe("argument errors (exit 2, usage text)", () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /no command given/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["get"], /get takes 1 argument \(ID\), got 0/],
    [["create", "a.json", "b.json"], /create takes 1 argument/],
    [["publish", TEMPLATE_ID, "--version", "two"], /--version must be a whole number/],
    [["publish", TEMPLATE_ID, "--version", "0"], /--version must be a whole number, 1 or more/],
    [["rollback", TEMPLATE_ID, "x"], /TARGET must be a whole number/],
    [["browse", "--sort", "oldest"], /--sort must be relevance, newest, most_used or top_rated/],
    [["browse", "--force"], /browse takes no --force/],
    [["get", TEMPLATE_ID, "--nope"], /Unknown option '--nope'/],
    [["sign", "Frob", "{}"], /unknown operation "Frob"/],
    [["sign", "ArchiveTemplate", '{"templateId":"x"}'], /version is missing/],
    [["sign", "ArchiveTemplate", "not json"], /not valid JSON/],
    [["trust", "inst_x", "L5"], /LEVEL must be one of "L1", "L2", "L3", "L4" \(got "L5"\)/],
    [["trust", "inst_x", "L4"], /L4 needs --daily-limit ETH/],
    [["trust", "inst_x", "L1", "--daily-limit", "0.05"], /L1 uses no tool, so it has no daily spending limit/],
    [["trust", "inst_x", "L3", "--daily-limit", "0"], /--daily-limit takes an amount of ETH above 0/],
    [["trust", "inst_x", "L4", "--daily-limit", "0"], /--daily-limit takes an amount of ETH above 0/],
    [
      ["trust", "inst_x", "L4", "--daily-limit", "5 ETH"],
      /--daily-limit takes an amount of ETH above 0, such as 0.05 \(got "5 ETH"\)/,
    ],
    [["trust", "inst_x", "L4", "--daily-limit", "0.0000000000000000001"], /--daily-limit takes an amount of ETH/],
    [["activity", "inst_x", "--daily-limit", "1"], /activity takes no --daily-limit/],
    [
      ["permissions", "inst_x"],
      /name what to change: --member-sms, --member-email, --member-crypto, --outsider-reply or --approvals/,
    ],
    [["permissions", "inst_x", "--member-sms", "yes"], /--member-sms takes allow, ask, refuse \(got "yes"\)/],
    [["permissions", "inst_x", "--member-crypto", "none"], /--member-crypto takes allow, ask, refuse \(got "none"\)/],
    [
      ["permissions", "inst_x", "--outsider-reply", "allow"],
      /--outsider-reply takes none, ask, answer \(got "allow"\)/,
    ],
    [["permissions", "inst_x", "--approvals", "dm"], /--approvals takes conversation, direct \(got "dm"\)/],
    [["trust", "inst_x", "L1", "--approvals", "direct"], /trust takes no --approvals/],
    [["permissions", "inst_x", "--member-sms"], /--member-sms <value>' argument missing/],
    [["trust", "inst_x", "L1", "--member-sms", "allow"], /trust takes no --member-sms/],
    [["participation", "inst_x"], /name what to change: --mode or --cooldown/],
    [["participation", "inst_x", "--mode", "loud"], /--mode takes auto, speak, mention, paused \(got "loud"\)/],
    [["participation", "inst_x", "--cooldown=-5"], /--cooldown takes whole seconds from 0 to 86400 \(got "-5"\)/],
    [["participation", "inst_x", "--cooldown", "1.5"], /--cooldown takes whole seconds from 0 to 86400 \(got "1.5"\)/],
    [["participation", "inst_x", "--cooldown", "86401"], /--cooldown takes whole seconds from 0 to 86400/],
    [["participation", "inst_x", "--cooldown", "1m"], /--cooldown takes whole seconds/],
    [["participation", "inst_x", "--mode", "speak", "--conversation", ""], /--conversation takes one of the agent's/],
    [["permissions", "inst_x", "--mode", "speak"], /permissions takes no --mode/],
  ];
  for (const [argv, message] of cases) {
    it(`pool ${argv.join(" ")}`, async () => {
      if (argv[0] === "sign") await g.keygen();
      expect(await run(argv, g.io())).toBe(2);
      expect(g.stderr()).toMatch(message);
      expect(g.stderr()).toMatch(/usage: pool/);
      expect(g.stdout()).toBe("");
      expect(g.calls).toEqual([]);
    });
  }

  it("help prints every command on stdout", async () => {
    expect(await run(["help"], g.io())).toBe(0);
    for (const c of [
      "keygen",
      "whoami",
      "login",
      "create",
      "update",
      "patch",
      "rollback",
      "browse",
      "models",
      "mine",
      "sign",
      "content-hash",
    ]) {
      expect(g.stdout()).toContain(`  ${c} `);
    }
  });
});

describe("local commands", () => {
  it("keygen prints the identity, never the key; whoami prints the same; a second keygen is refused", async () => {
    const id = await g.keygen();
    const file = join(g.dir, ".data/cli/key.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { private_key } = JSON.parse(await readFile(file, "utf8")) as { private_key: string };
    expect(await run(["whoami"], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toEqual(id);
    expect(g.stdout()).not.toContain(private_key.slice(2));
    g.out = [];
    expect(await run(["keygen"], g.io())).toBe(1);
    expect(g.stderr()).toMatch(/already exists; use --force/);
  });

  it("takes the key file from --key or POOL_KEY_FILE", async () => {
    expect(await run(["keygen", "--key", "k1.json"], g.io())).toBe(0);
    const a = JSON.parse(g.out.join(""));
    g.out = [];
    expect(await run(["whoami"], g.io({ env: { POOL_KEY_FILE: join(g.dir, "k1.json") } }))).toBe(0);
    expect(JSON.parse(g.stdout())).toEqual(a);
  });

  it("sign prints a signature object the server's verifier accepts", async () => {
    const id = await g.keygen();
    const fields = { templateId: TEMPLATE_ID, version: 2, visibility: "public" };
    expect(await run(["sign", "SetTemplateVisibility", JSON.stringify(fields)], g.io())).toBe(0);
    const sig = JSON.parse(g.stdout());
    expect(Object.keys(sig).sort()).toEqual(["issued_at", "nonce", "signature"]);
    const address = await verify(
      "SetTemplateVisibility",
      { inboxId: id.inbox_id, templateId: TEMPLATE_ID, version: 2n, visibility: "public" },
      sig,
    );
    expect(address).toBe(id.address);
  });

  it("sign takes a field signed only when set, and signs without it when it is left out", async () => {
    const id = await g.keygen();
    const fields = { templateId: TEMPLATE_ID, version: 2, contentHash: `0x${"ab".repeat(32)}` };
    const signed = { inboxId: id.inbox_id, templateId: TEMPLATE_ID, version: 2n, contentHash: fields.contentHash };
    expect(
      await run(["sign", "UpdateTemplate", JSON.stringify({ ...fields, acknowledgeWalletRemoval: true })], g.io()),
    ).toBe(0);
    await verify("UpdateTemplate", { ...signed, acknowledgeWalletRemoval: true }, JSON.parse(g.stdout()));
    g.out = [];
    expect(await run(["sign", "UpdateTemplate", JSON.stringify(fields)], g.io())).toBe(0);
    await verify("UpdateTemplate", signed, JSON.parse(g.stdout()));
  });

  it("signs for the pool its gateway names, or POOL_ID's, and refuses a domain it would not build itself", async () => {
    const id = await g.keygen();
    const fields = { templateId: TEMPLATE_ID, version: 2, visibility: "public" };
    const signed = { inboxId: id.inbox_id, templateId: TEMPLATE_ID, version: 2n, visibility: "public" };
    g.domain = { pool_id: "pool-east", ...signatureDomain("pool-east") };
    const east = g.io({ env: { POOL_URL: "http://east.test:9999" } });
    expect(await run(["sign", "SetTemplateVisibility", JSON.stringify(fields)], east)).toBe(0);
    const sig = JSON.parse(g.stdout());
    expect(await verify("SetTemplateVisibility", signed, sig, "pool-east")).toBe(id.address);
    await expect(verify("SetTemplateVisibility", signed, sig)).rejects.toThrow(/in pool "local"/);
    g.out = [];
    const named = g.io({ env: { POOL_URL: "http://none.test:9999", POOL_ID: "pool-west" } });
    expect(await run(["sign", "SetTemplateVisibility", JSON.stringify(fields)], named)).toBe(0);
    expect(await verify("SetTemplateVisibility", signed, JSON.parse(g.stdout()), "pool-west")).toBe(id.address);
    // A gateway whose salt is not its pool id's: nothing is signed.
    g.domain = { ...signatureDomain("pool-east"), pool_id: "pool-south" };
    const odd = g.io({ env: { POOL_URL: "http://south.test:9999" } });
    expect(await run(["sign", "SetTemplateVisibility", JSON.stringify(fields)], odd)).toBe(1);
    expect(g.stderr()).toMatch(/names a signing domain this CLI does not build/);
  });

  it("content-hash prints the hash of the filled content", async () => {
    await writeFile(join(g.dir, "t.json"), JSON.stringify({ agent_name: "A", instructions: "B" }));
    expect(await run(["content-hash", "t.json"], g.io())).toBe(0);
    expect(g.stdout().trim()).toBe(jsonHash(fillContent({ agent_name: "A", instructions: "B" })));
  });

  it("a bad content file is an error (exit 1) that names the file and field", async () => {
    await writeFile(join(g.dir, "t.json"), JSON.stringify({ agent_name: "A" }));
    expect(await run(["content-hash", "t.json"], g.io())).toBe(1);
    expect(g.stderr()).toBe("pool: t.json: instructions: is required\n");
  });
});

describe("requests (fake gateway)", () => {
  it("create signs the filled content for the key's inbox", async () => {
    const id = await g.keygen();
    await writeFile(join(g.dir, "t.json"), JSON.stringify({ agent_name: "A", instructions: "B" }));
    g.replies.push(json(201, { id: TEMPLATE_ID, version: 1 }, { etag: '"1"' }));
    expect(await run(["create", "t.json"], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toEqual({ id: TEMPLATE_ID, version: 1 });
    const [call] = g.calls;
    expect(call?.method).toBe("POST");
    expect(call?.url).toBe("http://gw.test:9999/api/pool/templates");
    const body = call?.body as Record<string, unknown>;
    const { signature, creator_id, ...content } = body;
    expect(creator_id).toBe(id.inbox_id);
    expect(content).toEqual(fillContent({ agent_name: "A", instructions: "B" }));
    await verify("CreateTemplate", { inboxId: id.inbox_id, contentHash: jsonHash(content) }, signature);
  });

  it("update without --version fetches the current one (signed in) and sends it as If-Match", async () => {
    const id = await g.keygen();
    await writeFile(join(g.dir, "t.json"), JSON.stringify({ agent_name: "A", instructions: "B2" }));
    g.replies.push(json(200, { token: "v1.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(json(200, { id: TEMPLATE_ID, version: 4 }, { etag: '"4"' }));
    g.replies.push(json(200, { id: TEMPLATE_ID, version: 5 }, { etag: '"5"' }));
    expect(await run(["update", TEMPLATE_ID, "t.json"], g.io())).toBe(0);
    const [loginCall, getCall, putCall] = g.calls;
    expect(loginCall?.url).toBe("http://gw.test:9999/api/pool/sessions");
    const loginBody = loginCall?.body as {
      inbox_id: string;
      address: string;
      origin: string;
      uri: string;
      signature: { signature: string; issued_at: number; nonce: string };
    };
    expect(loginBody).toMatchObject({
      inbox_id: id.inbox_id,
      address: id.address,
      origin: "http://gw.test:9999",
      uri: "http://gw.test:9999/",
    });
    // A Sign-In with Ethereum message for that gateway, by the key's wallet.
    const { signature: s, inbox_id: inboxId, ...rest } = loginBody;
    const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
    const signedIn = await verifier.verifySignIn({
      ...rest,
      inboxId,
      signature: { signature: s.signature, issuedAt: BigInt(s.issued_at), nonce: s.nonce } as never,
    });
    expect(signedIn.address).toBe(id.address);
    expect(getCall?.headers.authorization).toBe("Bearer v1.tok");
    expect(putCall?.method).toBe("PUT");
    expect(putCall?.headers["if-match"]).toBe('"4"');
    expect(putCall?.headers.authorization).toBeUndefined();
    const { signature, ...content } = putCall!.body as Record<string, unknown>;
    await verify(
      "UpdateTemplate",
      { inboxId: id.inbox_id, templateId: TEMPLATE_ID, version: 4n, contentHash: jsonHash(content) },
      signature,
    );
    expect(g.stdout()).not.toContain("v1.tok");
    // The token is stored beside the key, 0600, and reused.
    const sessionFile = join(g.dir, ".data/cli/key.session.json");
    expect((await stat(sessionFile)).mode & 0o777).toBe(0o600);
    g.calls = [];
    g.out = [];
    g.replies.push(json(200, { templates: [], next_cursor: null }));
    expect(await run(["mine"], g.io())).toBe(0);
    expect(g.calls).toHaveLength(1);
    expect(g.calls[0]?.url).toBe(`http://gw.test:9999/api/pool/templates?creator=${id.inbox_id}`);
    expect(g.calls[0]?.headers.authorization).toBe("Bearer v1.tok");
  });

  it("update --acknowledge-wallet-removal signs the acknowledgment with the change and sends it", async () => {
    const id = await g.keygen();
    await writeFile(join(g.dir, "t.json"), JSON.stringify({ agent_name: "A", instructions: "No wallet now." }));
    g.replies.push(json(200, { id: TEMPLATE_ID, version: 5 }, { etag: '"5"' }));
    expect(await run(["update", TEMPLATE_ID, "t.json", "--version", "4", "--acknowledge-wallet-removal"], g.io())).toBe(
      0,
    );
    const { signature, acknowledge_wallet_removal, ...content } = g.calls[0]!.body as Record<string, unknown>;
    expect(acknowledge_wallet_removal).toBe(true);
    const fields = { inboxId: id.inbox_id, templateId: TEMPLATE_ID, version: 4n, contentHash: jsonHash(content) };
    await verify("UpdateTemplate", { ...fields, acknowledgeWalletRemoval: true }, signature);
    // Signed with it: not a signature of the change without it.
    await expect(verify("UpdateTemplate", fields, signature)).rejects.toThrow();
  });

  it("signs in again when the stored token is refused", async () => {
    await g.keygen();
    g.replies.push(json(200, { token: "v1.old", expires_at: "2999-01-01T00:00:00.000Z" }));
    expect(await run(["login"], g.io())).toBe(0);
    expect(g.stdout()).not.toContain("v1.old");
    g.replies.push(
      json(401, { error: { type: "unauthenticated", code: "unauthenticated", message: "session expired" } }),
    );
    g.replies.push(json(200, { token: "v1.new", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(json(200, { versions: [], next_cursor: null }));
    expect(await run(["versions", TEMPLATE_ID, "--limit", "5"], g.io())).toBe(0);
    expect(g.calls.map((c) => `${c.method} ${c.url} ${c.headers.authorization ?? ""}`)).toEqual([
      "POST http://gw.test:9999/api/pool/sessions ",
      `GET http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}/versions?limit=5 Bearer v1.old`,
      "POST http://gw.test:9999/api/pool/sessions ",
      `GET http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}/versions?limit=5 Bearer v1.new`,
    ]);
  });

  it("prints an HTTP error's JSON on stderr and exits 1", async () => {
    await g.keygen();
    const error = { error: { type: "conflict", code: "aborted", message: "template is at version 3, not 2" } };
    g.replies.push(json(409, error));
    expect(await run(["publish", TEMPLATE_ID, "--version", "2"], g.io())).toBe(1);
    expect(JSON.parse(g.stderr())).toEqual(error);
    expect(g.stdout()).toBe("");
    expect(g.calls[0]?.url).toBe(`http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}/visibility`);
    expect(g.calls[0]?.headers["if-match"]).toBe('"2"');
  });

  it("models is anonymous and prints the pool's list", async () => {
    g.replies.push(json(200, { models: ["gpt-oss-20b", "gpt-oss-120b"] }));
    expect(await run(["models"], g.io())).toBe(0);
    expect(g.calls[0]?.url).toBe("http://gw.test:9999/api/pool/models");
    expect(g.calls[0]?.headers.authorization).toBeUndefined();
    expect(JSON.parse(g.stdout())).toEqual({ models: ["gpt-oss-20b", "gpt-oss-120b"] });
  });

  it("browse is anonymous and passes its filters", async () => {
    g.replies.push(json(200, { templates: [], next_cursor: null }));
    expect(
      await run(["browse", "--q", "trip plan", "--category", "travel", "--sort", "newest", "--limit", "3"], g.io()),
    ).toBe(0);
    expect(g.calls[0]?.url).toBe(
      "http://gw.test:9999/api/pool/templates?visibility=public&q=trip+plan&category=travel&sort=newest&limit=3",
    );
    expect(g.calls[0]?.headers.authorization).toBeUndefined();
  });

  it("instances asks for the template's instances signed in, with --live and paging", async () => {
    await g.keygen();
    g.replies.push(json(200, { token: "v1.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    const page = {
      instances: [{ id: "inst_a", sync: { state: "SYNC_STATE_PINNED", applied_version: "3", pending_version: "5" } }],
      total_count: 1,
      next_cursor: null,
    };
    g.replies.push(json(200, page));
    expect(await run(["instances", TEMPLATE_ID, "--live", "--limit", "10"], g.io())).toBe(0);
    expect(g.calls[1]?.url).toBe(`http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}/instances?live=true&limit=10`);
    expect(g.calls[1]?.headers.authorization).toBe("Bearer v1.tok");
    expect(JSON.parse(g.stdout())).toEqual(page);
    expect(await run(["instances", TEMPLATE_ID, "--archived"], g.io())).toBe(2);
  });

  it("delete is permanent (204) and prints what it deleted", async () => {
    await g.keygen();
    g.replies.push(() => new Response(null, { status: 204 }));
    expect(await run(["delete", TEMPLATE_ID, "--version", "7"], g.io())).toBe(0);
    expect(g.calls[0]?.method).toBe("DELETE");
    expect(g.calls[0]?.url).toBe(`http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}?permanent=true`);
    expect(JSON.parse(g.stdout())).toEqual({ id: TEMPLATE_ID, deleted: true });
  });

  it("an unreachable server is an error, exit 1", async () => {
    const failing = (async () => {
      throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    }) as typeof fetch;
    expect(await run(["browse"], g.io({ fetch: failing }))).toBe(1);
    expect(g.stderr()).toBe(
      "pool: the pool is not running at http://gw.test:9999 (nothing answers there): start it with `npm start` in the pool's folder, or point at another with POOL_URL or --url\n",
    );
  });

  it("with no pool running at the URL, claim says so and how to start one, not to set POOL_ID (a real refused connection)", async () => {
    await g.keygen();
    // A port that was free a moment ago: nothing listens there now.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const url = `http://127.0.0.1:${port}`;
    const { fetch: _stub, ...real } = g.io({ env: { POOL_URL: url } });
    for (const argv of [["claim", TEMPLATE_ID, "https://dev.convos.org/v2?i=abc"], ["browse"]]) {
      g.err.length = 0;
      expect(await run(argv, real)).toBe(1);
      expect(g.stderr()).toBe(
        `pool: the pool is not running at ${url} (nothing answers there): start it with \`npm start\` in the pool's folder, or point at another with POOL_URL or --url\n`,
      );
    }
  });

  it("a gateway that cannot be found names its cause and where the URL comes from", async () => {
    const failing = (async () => {
      throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND" } });
    }) as typeof fetch;
    expect(await run(["browse"], g.io({ fetch: failing }))).toBe(1);
    expect(g.stderr()).toBe(
      "pool: cannot reach http://gw.test:9999: ENOTFOUND (the gateway is set by POOL_URL or --url)\n",
    );
  });
});
