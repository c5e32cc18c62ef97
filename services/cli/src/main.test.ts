import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  claimFields,
  cloneFields,
  LOCAL_POOL_ID,
  signatureDomain,
  type SignedOperation,
} from "@convos-pool/kit/signing";
import { jsonHash } from "@convos-pool/kit/content";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fillContent } from "./core/content.js";
import { POLL_MS, QUIET_MS } from "./commands/agents/claim-progress.js";
import { run, type Io } from "./main.js";

let dir: string;
let out: string[];
let err: string[];
let calls: Array<{ method: string; url: string; headers: Record<string, string>; body: unknown }>;
let replies: Array<(call: (typeof calls)[number]) => Response | Promise<Response>>;
/** What every gateway of these tests names as its signing domain (asked once per URL, not counted in calls). */
let domain: Record<string, unknown>;

function io(extra: Partial<Io> = {}): Io {
  return {
    env: { POOL_URL: "http://gw.test:9999" },
    cwd: dir,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (url.endsWith("/api/pool/signing-domain")) return json(200, domain)();
      const call = {
        method: init?.method ?? "GET",
        url,
        headers: { ...(init?.headers as Record<string, string>) },
        // The CLI sends JSON text.
        body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      };
      calls.push(call);
      const reply = replies.shift();
      if (!reply) throw new Error(`unexpected request ${call.method} ${call.url}`);
      return reply(call);
    },
    ...extra,
  };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const TEMPLATE_ID = "tmpl_4Qb1x9ZkT2mW7cPa";

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-cli-main-"));
  out = [];
  err = [];
  calls = [];
  replies = [];
  domain = { pool_id: LOCAL_POOL_ID, ...signatureDomain(LOCAL_POOL_ID) };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stdout = () => out.join("");
const stderr = () => err.join("");

async function keygen(): Promise<{ address: string; inbox_id: string }> {
  expect(await run(["keygen"], io())).toBe(0);
  const id = JSON.parse(stdout()) as { address: string; inbox_id: string };
  out = [];
  return id;
}

async function verify(
  op: SignedOperation,
  fields: Record<string, unknown>,
  signature: unknown,
  poolId = LOCAL_POOL_ID,
): Promise<string> {
  const s = signature as { signature: string; issued_at: number; nonce: string };
  const verifier = new SignatureVerifier({ poolId, resolver: new DerivedInboxResolver() });
  const v = await verifier.verify(
    op,
    fields as never,
    { signature: s.signature, issuedAt: BigInt(s.issued_at), nonce: s.nonce } as never,
  );
  return v.address;
}

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
      if (argv[0] === "sign") await keygen();
      expect(await run(argv, io())).toBe(2);
      expect(stderr()).toMatch(message);
      expect(stderr()).toMatch(/usage: pool/);
      expect(stdout()).toBe("");
      expect(calls).toEqual([]);
    });
  }

  it("help prints every command on stdout", async () => {
    expect(await run(["help"], io())).toBe(0);
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
      expect(stdout()).toContain(`  ${c} `);
    }
  });
});

describe("local commands", () => {
  it("keygen prints the identity, never the key; whoami prints the same; a second keygen is refused", async () => {
    const id = await keygen();
    const file = join(dir, ".data/cli/key.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { private_key } = JSON.parse(await readFile(file, "utf8")) as { private_key: string };
    expect(await run(["whoami"], io())).toBe(0);
    expect(JSON.parse(stdout())).toEqual(id);
    expect(stdout()).not.toContain(private_key.slice(2));
    out = [];
    expect(await run(["keygen"], io())).toBe(1);
    expect(stderr()).toMatch(/already exists; use --force/);
  });

  it("takes the key file from --key or POOL_KEY_FILE", async () => {
    expect(await run(["keygen", "--key", "k1.json"], io())).toBe(0);
    const a = JSON.parse(out.join(""));
    out = [];
    expect(await run(["whoami"], io({ env: { POOL_KEY_FILE: join(dir, "k1.json") } }))).toBe(0);
    expect(JSON.parse(stdout())).toEqual(a);
  });

  it("sign prints a signature object the server's verifier accepts", async () => {
    const id = await keygen();
    const fields = { templateId: TEMPLATE_ID, version: 2, visibility: "public" };
    expect(await run(["sign", "SetTemplateVisibility", JSON.stringify(fields)], io())).toBe(0);
    const sig = JSON.parse(stdout());
    expect(Object.keys(sig).sort()).toEqual(["issued_at", "nonce", "signature"]);
    const address = await verify(
      "SetTemplateVisibility",
      { inboxId: id.inbox_id, templateId: TEMPLATE_ID, version: 2n, visibility: "public" },
      sig,
    );
    expect(address).toBe(id.address);
  });

  it("sign takes a field signed only when set, and signs without it when it is left out", async () => {
    const id = await keygen();
    const fields = { templateId: TEMPLATE_ID, version: 2, contentHash: `0x${"ab".repeat(32)}` };
    const signed = { inboxId: id.inbox_id, templateId: TEMPLATE_ID, version: 2n, contentHash: fields.contentHash };
    expect(
      await run(["sign", "UpdateTemplate", JSON.stringify({ ...fields, acknowledgeWalletRemoval: true })], io()),
    ).toBe(0);
    await verify("UpdateTemplate", { ...signed, acknowledgeWalletRemoval: true }, JSON.parse(stdout()));
    out = [];
    expect(await run(["sign", "UpdateTemplate", JSON.stringify(fields)], io())).toBe(0);
    await verify("UpdateTemplate", signed, JSON.parse(stdout()));
  });

  it("signs for the pool its gateway names, or POOL_ID's, and refuses a domain it would not build itself", async () => {
    const id = await keygen();
    const fields = { templateId: TEMPLATE_ID, version: 2, visibility: "public" };
    const signed = { inboxId: id.inbox_id, templateId: TEMPLATE_ID, version: 2n, visibility: "public" };
    domain = { pool_id: "pool-east", ...signatureDomain("pool-east") };
    const east = io({ env: { POOL_URL: "http://east.test:9999" } });
    expect(await run(["sign", "SetTemplateVisibility", JSON.stringify(fields)], east)).toBe(0);
    const sig = JSON.parse(stdout());
    expect(await verify("SetTemplateVisibility", signed, sig, "pool-east")).toBe(id.address);
    await expect(verify("SetTemplateVisibility", signed, sig)).rejects.toThrow(/in pool "local"/);
    out = [];
    const named = io({ env: { POOL_URL: "http://none.test:9999", POOL_ID: "pool-west" } });
    expect(await run(["sign", "SetTemplateVisibility", JSON.stringify(fields)], named)).toBe(0);
    expect(await verify("SetTemplateVisibility", signed, JSON.parse(stdout()), "pool-west")).toBe(id.address);
    // A gateway whose salt is not its pool id's: nothing is signed.
    domain = { ...signatureDomain("pool-east"), pool_id: "pool-south" };
    const odd = io({ env: { POOL_URL: "http://south.test:9999" } });
    expect(await run(["sign", "SetTemplateVisibility", JSON.stringify(fields)], odd)).toBe(1);
    expect(stderr()).toMatch(/names a signing domain this CLI does not build/);
  });

  it("content-hash prints the hash of the filled content", async () => {
    await writeFile(join(dir, "t.json"), JSON.stringify({ agent_name: "A", instructions: "B" }));
    expect(await run(["content-hash", "t.json"], io())).toBe(0);
    expect(stdout().trim()).toBe(jsonHash(fillContent({ agent_name: "A", instructions: "B" })));
  });

  it("a bad content file is an error (exit 1) that names the file and field", async () => {
    await writeFile(join(dir, "t.json"), JSON.stringify({ agent_name: "A" }));
    expect(await run(["content-hash", "t.json"], io())).toBe(1);
    expect(stderr()).toBe("pool: t.json: instructions: is required\n");
  });
});

describe("requests (fake gateway)", () => {
  it("create signs the filled content for the key's inbox", async () => {
    const id = await keygen();
    await writeFile(join(dir, "t.json"), JSON.stringify({ agent_name: "A", instructions: "B" }));
    replies.push(json(201, { id: TEMPLATE_ID, version: 1 }, { etag: '"1"' }));
    expect(await run(["create", "t.json"], io())).toBe(0);
    expect(JSON.parse(stdout())).toEqual({ id: TEMPLATE_ID, version: 1 });
    const [call] = calls;
    expect(call?.method).toBe("POST");
    expect(call?.url).toBe("http://gw.test:9999/api/pool/templates");
    const body = call?.body as Record<string, unknown>;
    const { signature, creator_id, ...content } = body;
    expect(creator_id).toBe(id.inbox_id);
    expect(content).toEqual(fillContent({ agent_name: "A", instructions: "B" }));
    await verify("CreateTemplate", { inboxId: id.inbox_id, contentHash: jsonHash(content) }, signature);
  });

  it("update without --version fetches the current one (signed in) and sends it as If-Match", async () => {
    const id = await keygen();
    await writeFile(join(dir, "t.json"), JSON.stringify({ agent_name: "A", instructions: "B2" }));
    replies.push(json(200, { token: "v1.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(json(200, { id: TEMPLATE_ID, version: 4 }, { etag: '"4"' }));
    replies.push(json(200, { id: TEMPLATE_ID, version: 5 }, { etag: '"5"' }));
    expect(await run(["update", TEMPLATE_ID, "t.json"], io())).toBe(0);
    const [loginCall, getCall, putCall] = calls;
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
    expect(stdout()).not.toContain("v1.tok");
    // The token is stored beside the key, 0600, and reused.
    const sessionFile = join(dir, ".data/cli/key.session.json");
    expect((await stat(sessionFile)).mode & 0o777).toBe(0o600);
    calls = [];
    out = [];
    replies.push(json(200, { templates: [], next_cursor: null }));
    expect(await run(["mine"], io())).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(`http://gw.test:9999/api/pool/templates?creator=${id.inbox_id}`);
    expect(calls[0]?.headers.authorization).toBe("Bearer v1.tok");
  });

  it("update --acknowledge-wallet-removal signs the acknowledgment with the change and sends it", async () => {
    const id = await keygen();
    await writeFile(join(dir, "t.json"), JSON.stringify({ agent_name: "A", instructions: "No wallet now." }));
    replies.push(json(200, { id: TEMPLATE_ID, version: 5 }, { etag: '"5"' }));
    expect(await run(["update", TEMPLATE_ID, "t.json", "--version", "4", "--acknowledge-wallet-removal"], io())).toBe(
      0,
    );
    const { signature, acknowledge_wallet_removal, ...content } = calls[0]!.body as Record<string, unknown>;
    expect(acknowledge_wallet_removal).toBe(true);
    const fields = { inboxId: id.inbox_id, templateId: TEMPLATE_ID, version: 4n, contentHash: jsonHash(content) };
    await verify("UpdateTemplate", { ...fields, acknowledgeWalletRemoval: true }, signature);
    // Signed with it: not a signature of the change without it.
    await expect(verify("UpdateTemplate", fields, signature)).rejects.toThrow();
  });

  it("signs in again when the stored token is refused", async () => {
    await keygen();
    replies.push(json(200, { token: "v1.old", expires_at: "2999-01-01T00:00:00.000Z" }));
    expect(await run(["login"], io())).toBe(0);
    expect(stdout()).not.toContain("v1.old");
    replies.push(
      json(401, { error: { type: "unauthenticated", code: "unauthenticated", message: "session expired" } }),
    );
    replies.push(json(200, { token: "v1.new", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(json(200, { versions: [], next_cursor: null }));
    expect(await run(["versions", TEMPLATE_ID, "--limit", "5"], io())).toBe(0);
    expect(calls.map((c) => `${c.method} ${c.url} ${c.headers.authorization ?? ""}`)).toEqual([
      "POST http://gw.test:9999/api/pool/sessions ",
      `GET http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}/versions?limit=5 Bearer v1.old`,
      "POST http://gw.test:9999/api/pool/sessions ",
      `GET http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}/versions?limit=5 Bearer v1.new`,
    ]);
  });

  it("prints an HTTP error's JSON on stderr and exits 1", async () => {
    await keygen();
    const error = { error: { type: "conflict", code: "aborted", message: "template is at version 3, not 2" } };
    replies.push(json(409, error));
    expect(await run(["publish", TEMPLATE_ID, "--version", "2"], io())).toBe(1);
    expect(JSON.parse(stderr())).toEqual(error);
    expect(stdout()).toBe("");
    expect(calls[0]?.url).toBe(`http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}/visibility`);
    expect(calls[0]?.headers["if-match"]).toBe('"2"');
  });

  it("models is anonymous and prints the pool's list", async () => {
    replies.push(json(200, { models: ["gpt-oss-20b", "gpt-oss-120b"] }));
    expect(await run(["models"], io())).toBe(0);
    expect(calls[0]?.url).toBe("http://gw.test:9999/api/pool/models");
    expect(calls[0]?.headers.authorization).toBeUndefined();
    expect(JSON.parse(stdout())).toEqual({ models: ["gpt-oss-20b", "gpt-oss-120b"] });
  });

  it("browse is anonymous and passes its filters", async () => {
    replies.push(json(200, { templates: [], next_cursor: null }));
    expect(
      await run(["browse", "--q", "trip plan", "--category", "travel", "--sort", "newest", "--limit", "3"], io()),
    ).toBe(0);
    expect(calls[0]?.url).toBe(
      "http://gw.test:9999/api/pool/templates?visibility=public&q=trip+plan&category=travel&sort=newest&limit=3",
    );
    expect(calls[0]?.headers.authorization).toBeUndefined();
  });

  it("instances asks for the template's instances signed in, with --live and paging", async () => {
    await keygen();
    replies.push(json(200, { token: "v1.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    const page = {
      instances: [{ id: "inst_a", sync: { state: "SYNC_STATE_PINNED", applied_version: "3", pending_version: "5" } }],
      total_count: 1,
      next_cursor: null,
    };
    replies.push(json(200, page));
    expect(await run(["instances", TEMPLATE_ID, "--live", "--limit", "10"], io())).toBe(0);
    expect(calls[1]?.url).toBe(`http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}/instances?live=true&limit=10`);
    expect(calls[1]?.headers.authorization).toBe("Bearer v1.tok");
    expect(JSON.parse(stdout())).toEqual(page);
    expect(await run(["instances", TEMPLATE_ID, "--archived"], io())).toBe(2);
  });

  it("delete is permanent (204) and prints what it deleted", async () => {
    await keygen();
    replies.push(() => new Response(null, { status: 204 }));
    expect(await run(["delete", TEMPLATE_ID, "--version", "7"], io())).toBe(0);
    expect(calls[0]?.method).toBe("DELETE");
    expect(calls[0]?.url).toBe(`http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}?permanent=true`);
    expect(JSON.parse(stdout())).toEqual({ id: TEMPLATE_ID, deleted: true });
  });

  it("an unreachable server is an error, exit 1", async () => {
    const failing = (async () => {
      throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    }) as typeof fetch;
    expect(await run(["browse"], io({ fetch: failing }))).toBe(1);
    expect(stderr()).toBe(
      "pool: the pool is not running at http://gw.test:9999 (nothing answers there): start it with `npm start` in the pool's folder, or point at another with POOL_URL or --url\n",
    );
  });

  it("with no pool running at the URL, claim says so and how to start one, not to set POOL_ID (a real refused connection)", async () => {
    await keygen();
    // A port that was free a moment ago: nothing listens there now.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const url = `http://127.0.0.1:${port}`;
    const { fetch: _stub, ...real } = io({ env: { POOL_URL: url } });
    for (const argv of [["claim", TEMPLATE_ID, "https://dev.convos.org/v2?i=abc"], ["browse"]]) {
      err.length = 0;
      expect(await run(argv, real)).toBe(1);
      expect(stderr()).toBe(
        `pool: the pool is not running at ${url} (nothing answers there): start it with \`npm start\` in the pool's folder, or point at another with POOL_URL or --url\n`,
      );
    }
  });

  it("a gateway that cannot be found names its cause and where the URL comes from", async () => {
    const failing = (async () => {
      throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND" } });
    }) as typeof fetch;
    expect(await run(["browse"], io({ fetch: failing }))).toBe(1);
    expect(stderr()).toBe(
      "pool: cannot reach http://gw.test:9999: ENOTFOUND (the gateway is set by POOL_URL or --url)\n",
    );
  });
});

describe("agents", () => {
  const INSTANCE_ID = "inst_Q2w3E4r5T6y7U8i9";
  const INVITE = "https://dev.convos.org/v2?i=abc";
  const noContent = () => new Response(null, { status: 204 });

  const template = (tools: unknown[]) => json(200, { id: TEMPLATE_ID, content: { tools } });
  const EMAIL_TOOL = {
    id: "personal-email",
    name: "",
    provisioning: "user",
    description: "",
    prompt: "Mail?",
    required: true,
  };

  it("claim signs the claim as its requester (ClaimAgent) and sends no session", async () => {
    const id = await keygen();
    replies.push(template([EMAIL_TOOL]));
    replies.push(json(200, { instance_id: INSTANCE_ID }));
    expect(
      await run(
        [
          "claim",
          TEMPLATE_ID,
          INVITE,
          "--model",
          "gpt-oss-120b",
          "--config",
          "personal-email=saul@example.com",
          "--config",
          "note=a=b",
        ],
        io(),
      ),
    ).toBe(0);
    expect(JSON.parse(stdout())).toEqual({ instance_id: INSTANCE_ID });
    const [read, call] = calls;
    expect(read?.method).toBe("GET");
    expect(read?.url).toBe(`http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}`);
    expect(call?.method).toBe("POST");
    expect(call?.url).toBe("http://gw.test:9999/api/pool/claim");
    expect(call?.headers.authorization).toBeUndefined();
    const { signature, ...claim } = call!.body as {
      signature: { signature: string; issued_at: number; nonce: string };
    } & Record<string, unknown>;
    expect(claim).toEqual({
      requester: id.inbox_id,
      template_id: TEMPLATE_ID,
      conversation_invite: INVITE,
      model: "gpt-oss-120b",
      user_config: { "personal-email": "saul@example.com", note: "a=b" },
    });
    const fields = claimFields({
      requester: id.inbox_id,
      templateId: TEMPLATE_ID,
      conversationInvite: INVITE,
      model: "gpt-oss-120b",
      userConfig: { "personal-email": "saul@example.com", note: "a=b" },
    });
    expect(await verify("ClaimAgent", fields, signature)).toBe(id.address);
  });

  it("claim --second-agent sends confirm_second_agent and signs it (ClaimAgent's secondAgent)", async () => {
    const id = await keygen();
    replies.push(json(200, { instance_id: INSTANCE_ID }));
    expect(await run(["claim", TEMPLATE_ID, INVITE, "--second-agent"], io())).toBe(0);
    const { signature, ...body } = calls[0]!.body as { signature: unknown } & Record<string, unknown>;
    expect(body).toMatchObject({ confirm_second_agent: true });
    const fields = {
      requester: id.inbox_id,
      templateId: TEMPLATE_ID,
      conversationInvite: INVITE,
      model: "",
      userConfig: {},
    };
    expect(await verify("ClaimAgent", claimFields({ ...fields, confirmSecondAgent: true }), signature)).toBe(
      id.address,
    );
    // The same claim unconfirmed is another signature.
    await expect(verify("ClaimAgent", claimFields(fields), signature)).rejects.toThrow();
  });

  it("claim refuses a --config value not of its tool's kind before signing, naming the tool and never repeating the value", async () => {
    await keygen();
    const tools = [EMAIL_TOOL, { ...EMAIL_TOOL, id: "budget", kind: "number", required: false }];
    replies.push(template(tools));
    expect(await run(["claim", TEMPLATE_ID, INVITE, "--config", "personal-email=not-an-email"], io())).toBe(2);
    expect(stderr()).toMatch(/^pool: --config personal-email is not a mail address: write it as name@example.com\n/);
    expect(stderr()).not.toContain("not-an-email");
    expect(calls.map((c) => c.method)).toEqual(["GET"]);
    replies.push(template(tools));
    expect(
      await run(["claim", TEMPLATE_ID, INVITE, "--config", "personal-email=a@b.co", "--config", "budget=lots"], io()),
    ).toBe(2);
    expect(stderr()).toContain("pool: --config budget is not a number");
  });

  it("claim leaves the values of a template it cannot read to the claims service", async () => {
    await keygen();
    replies.push(json(404, { error: { type: "not_found", code: "not_found", message: "template not found" } }));
    replies.push(json(200, { instance_id: INSTANCE_ID }));
    expect(await run(["claim", TEMPLATE_ID, INVITE, "--config", "personal-email=not-an-email"], io())).toBe(0);
    expect(calls.map((c) => c.method)).toEqual(["GET", "POST"]);
  });

  it("claim says on stderr what a long claim waits on, and Ctrl-C cancels it by its key: the claim answers 409 cancelled, stdout stays empty", async () => {
    await keygen();
    let interrupt: (() => void) | undefined;
    let answer: ((r: Response) => void) | undefined;
    // The claim's POST waits, as for a creator who does not let the agent in, until it is cancelled.
    replies.push(() => new Promise<Response>((r) => (answer = r)));
    replies.push(json(200, { token: "v1.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(json(200, { stage: "joining", started_at: new Date().toISOString(), cancel_requested: false }));
    const cancelledBody = {
      error: { type: "cancelled", code: "canceled", message: "you cancelled the claim; nothing was claimed" },
    };
    replies.push(() => {
      answer?.(json(409, cancelledBody)());
      return json(200, { stage: "joining" })();
    });
    // The quiet wait and the first poll pass at once; the next waits on the claim's answer, as a person waits.
    let pauses = 0;
    const pause = () => (++pauses <= 2 ? Promise.resolve() : new Promise(() => undefined));
    const running = run(["claim", TEMPLATE_ID, INVITE], io({ onInterrupt: (c) => (interrupt = c), pause }));
    await expect
      .poll(stderr, { timeout: 8_000 })
      .toMatch(/^pool: Waiting for the conversation's creator to let the agent in .*… \(\d+ s\)\n$/);
    interrupt?.();
    expect(await running).toBe(1);
    const key = calls[0]?.headers["idempotency-key"];
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      "POST /api/pool/claim",
      "POST /api/pool/sessions",
      `GET /api/pool/claims/${key}`,
      `DELETE /api/pool/claims/${key}`,
    ]);
    expect(calls[3]?.headers.authorization).toBe("Bearer v1.tok");
    expect(stdout()).toBe("");
    expect(stderr()).toContain("pool: cancelling the claim…");
    expect(stderr()).toContain("you cancelled the claim; nothing was claimed");
  });

  it("claim sends an Idempotency-Key, and the same request with the same key again when the connection broke", async () => {
    await keygen();
    replies.push(() => {
      throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
    });
    replies.push(json(200, { instance_id: INSTANCE_ID }));
    const waited: number[] = [];
    // The retry's wait passes at once; the progress's quiet wait lasts until the claim answers.
    const pause = (ms: number) => {
      waited.push(ms);
      return ms === QUIET_MS - POLL_MS ? new Promise(() => undefined) : Promise.resolve();
    };
    expect(await run(["claim", TEMPLATE_ID, INVITE], io({ pause }))).toBe(0);
    expect(waited, "one wait before the second attempt").toContain(1_000);
    expect(JSON.parse(stdout())).toEqual({ instance_id: INSTANCE_ID });
    expect(calls).toHaveLength(2);
    const key = calls[0]?.headers["idempotency-key"];
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(calls[1]?.headers["idempotency-key"]).toBe(key);
    expect(calls[1]?.body).toEqual(calls[0]?.body);
  });

  it("clone signs the clone as the owner (CloneAgent over exactly what it sends, with its parent's template and creator) and refuses an unknown --carry before sending", async () => {
    const id = await keygen();
    const CREATOR = "c".repeat(64);
    replies.push(json(200, { token: "v1.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(json(200, { id: INSTANCE_ID, template_id: TEMPLATE_ID }));
    replies.push(json(200, { id: TEMPLATE_ID, creator_id: CREATOR }));
    replies.push(
      json(200, {
        instance_id: INSTANCE_ID,
        inheritance: { state: "INHERITANCE_STATE_SENT", carry: ["training"], error: "" },
      }),
    );
    const argv = [
      "clone",
      INSTANCE_ID,
      INVITE,
      "--directive",
      "not the Japan details",
      "--carry",
      "training",
      "--config",
      "personal-email=saul@example.com",
    ];
    expect(await run(argv, io())).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ inheritance: { state: "INHERITANCE_STATE_SENT" } });
    expect(calls.map((c) => c.url)).toEqual([
      "http://gw.test:9999/api/pool/sessions",
      `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}`,
      `http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}`,
      "http://gw.test:9999/api/pool/claim",
    ]);
    const { owner_signature: ownerSignature, ...body } = calls[3]!.body as {
      owner_signature: { signature: string; issued_at: number; nonce: string };
    } & Record<string, unknown>;
    expect(body).toEqual({
      requester: id.inbox_id,
      clone_from: INSTANCE_ID,
      template_id: TEMPLATE_ID,
      template_creator_id: CREATOR,
      conversation_invite: INVITE,
      context_prompt: "not the Japan details",
      carry: ["training"],
      model: "",
      user_config: { "personal-email": "saul@example.com" },
    });
    const fields = cloneFields({
      ownerId: id.inbox_id,
      parentInstanceId: INSTANCE_ID,
      templateId: TEMPLATE_ID,
      templateCreatorId: CREATOR,
      conversationInvite: INVITE,
      contextPrompt: "not the Japan details",
      carry: ["training"],
      model: "",
      userConfig: { "personal-email": "saul@example.com" },
    });
    expect(await verify("CloneAgent", fields, ownerSignature)).toBe(id.address);
    calls = [];
    err = [];
    expect(await run(["clone", INSTANCE_ID, INVITE, "--carry", "training,secrets"], io())).toBe(2);
    expect(stderr()).toMatch(/--carry takes kinds of memory/);
    expect(calls).toEqual([]);
  });

  it("claim refuses a --config that is not TOOL_ID=VALUE, or the same tool twice, before sending anything", async () => {
    await keygen();
    for (const [config, message] of [
      [["personal-email"], /--config takes TOOL_ID=VALUE/],
      [["=x"], /--config takes TOOL_ID=VALUE/],
      [["a=1", "a=2"], /--config a is given twice/],
    ] as const) {
      err = [];
      expect(await run(["claim", TEMPLATE_ID, INVITE, ...config.flatMap((c) => ["--config", c])], io())).toBe(2);
      expect(stderr()).toMatch(message);
    }
    expect(calls).toEqual([]);
  });

  it("pin, unpin and remove are signed by the key as the owner; remove prints what it removed", async () => {
    const id = await keygen();
    replies.push(json(200, { id: INSTANCE_ID, sync: { state: "SYNC_STATE_PINNED" } }));
    replies.push(json(200, { id: INSTANCE_ID, sync: { state: "SYNC_STATE_CURRENT" } }));
    replies.push(noContent);
    expect(await run(["pin", INSTANCE_ID], io())).toBe(0);
    expect(await run(["unpin", INSTANCE_ID], io())).toBe(0);
    out = [];
    expect(await run(["remove", INSTANCE_ID], io())).toBe(0);
    expect(JSON.parse(stdout())).toEqual({ id: INSTANCE_ID, removed: true });
    const [pin, unpin, remove] = calls;
    expect([pin?.method, pin?.url]).toEqual(["PUT", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/pin`]);
    const pinBody = pin?.body as { pinned: boolean; owner_signature: never };
    expect(pinBody.pinned).toBe(true);
    expect(
      await verify(
        "SetInstancePin",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, pinned: true },
        pinBody.owner_signature,
      ),
    ).toBe(id.address);
    const unpinBody = unpin?.body as { pinned: boolean; owner_signature: never };
    expect(
      await verify(
        "SetInstancePin",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, pinned: false },
        unpinBody.owner_signature,
      ),
    ).toBe(id.address);
    expect([remove?.method, remove?.url]).toEqual(["DELETE", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}`]);
    const removeBody = remove?.body as { owner_signature: never };
    expect(
      await verify("RemoveAgent", { inboxId: id.inbox_id, instanceId: INSTANCE_ID }, removeBody.owner_signature),
    ).toBe(id.address);
  });

  it("withdraw signs WithdrawFunds as the owner and prints the amount, the destination and the transaction", async () => {
    const id = await keygen();
    const answer = {
      amount_wei: "499979000000000000",
      to_address: id.address,
      transaction_hash: `0x${"ab".repeat(32)}`,
    };
    replies.push(json(200, answer));
    expect(await run(["withdraw", INSTANCE_ID], io())).toBe(0);
    expect(JSON.parse(stdout())).toEqual({ id: INSTANCE_ID, ...answer });
    const [call] = calls;
    expect([call?.method, call?.url]).toEqual(["POST", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/withdraw`]);
    const body = call?.body as { owner_signature: never };
    expect(await verify("WithdrawFunds", { inboxId: id.inbox_id, instanceId: INSTANCE_ID }, body.owner_signature)).toBe(
      id.address,
    );
  });

  it("trust signs SetTrustLevel as the owner, with the daily limit converted from ETH to wei at L4", async () => {
    const id = await keygen();
    replies.push(json(200, { id: INSTANCE_ID, trust_level: "L1" }));
    replies.push(json(200, { id: INSTANCE_ID, trust_level: "L4", daily_spend_limit_wei: "50000000000000000" }));
    expect(await run(["trust", INSTANCE_ID, "L1"], io())).toBe(0);
    out = [];
    expect(await run(["trust", INSTANCE_ID, "l4", "--daily-limit", "0.05"], io())).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ trust_level: "L4" });
    const [l1, l4] = calls;
    expect([l1?.method, l1?.url]).toEqual(["PUT", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/trust`]);
    const l1Body = l1?.body as { trust_level: string; owner_signature: never };
    expect(Object.keys(l1Body).sort()).toEqual(["owner_signature", "trust_level"]);
    expect(l1Body.trust_level).toBe("L1");
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 1, dailySpendLimitWei: 0n },
        l1Body.owner_signature,
      ),
    ).toBe(id.address);
    const l4Body = l4?.body as { trust_level: string; daily_spend_limit_wei: string; owner_signature: never };
    expect(l4Body).toMatchObject({ trust_level: "L4", daily_spend_limit_wei: "50000000000000000" });
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 4, dailySpendLimitWei: 50_000_000_000_000_000n },
        l4Body.owner_signature,
      ),
    ).toBe(id.address);
    // No session: the signature is the proof.
    expect(calls.every((c) => c.headers.authorization === undefined)).toBe(true);
  });

  it("trust signs a daily limit at L3 too, where each payment also waits for the owner's yes; at L2 it may be left out", async () => {
    const id = await keygen();
    replies.push(json(200, { id: INSTANCE_ID, trust_level: "L3", daily_spend_limit_wei: "20000000000000000" }));
    replies.push(json(200, { id: INSTANCE_ID, trust_level: "L2" }));
    expect(await run(["trust", INSTANCE_ID, "L3", "--daily-limit", "0.02"], io())).toBe(0);
    const body = calls[0]?.body as { trust_level: string; daily_spend_limit_wei: string; owner_signature: never };
    expect(body).toMatchObject({ trust_level: "L3", daily_spend_limit_wei: "20000000000000000" });
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 3, dailySpendLimitWei: 20_000_000_000_000_000n },
        body.owner_signature,
      ),
    ).toBe(id.address);
    // None: no field sent, 0 signed (the agent then pays nothing).
    expect(await run(["trust", INSTANCE_ID, "L2"], io())).toBe(0);
    const l2Body = calls[1]?.body as { trust_level: string; owner_signature: never };
    expect(Object.keys(l2Body).sort()).toEqual(["owner_signature", "trust_level"]);
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 2, dailySpendLimitWei: 0n },
        l2Body.owner_signature,
      ),
    ).toBe(id.address);
  });

  it("permissions reads the agent first (signed in) and signs SetPermissions as the owner over all five: those named, the rest as they were", async () => {
    const id = await keygen();
    replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(
      json(200, {
        id: INSTANCE_ID,
        permissions: {
          member_sms: "allow",
          member_email: "refuse",
          member_crypto: "ask",
          outsider_reply: "ask",
          approvals: "direct",
        },
      }),
    );
    const after = {
      member_sms: "allow",
      member_email: "refuse",
      member_crypto: "refuse",
      outsider_reply: "answer",
      approvals: "direct",
    };
    replies.push(json(200, { id: INSTANCE_ID, permissions: after }));
    expect(
      await run(["permissions", INSTANCE_ID, "--member-crypto", "refuse", "--outsider-reply", "answer"], io()),
    ).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ permissions: after });
    const [, read, put] = calls;
    expect(`${read?.method} ${read?.url} ${read?.headers.authorization}`).toBe(
      `GET http://gw.test:9999/api/pool/agents/${INSTANCE_ID} Bearer v2.tok`,
    );
    expect([put?.method, put?.url]).toEqual(["PUT", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/permissions`]);
    // No session on the change: the signature is the proof.
    expect(put?.headers.authorization).toBeUndefined();
    const body = put?.body as Record<string, unknown> & { owner_signature: never };
    expect(Object.keys(body).sort()).toEqual([
      "approvals",
      "member_crypto",
      "member_email",
      "member_sms",
      "outsider_reply",
      "owner_signature",
    ]);
    expect(body).toMatchObject(after);
    const signed = { inboxId: id.inbox_id, instanceId: INSTANCE_ID, memberSms: 1, memberEmail: 3, memberCrypto: 3 };
    expect(await verify("SetPermissions", { ...signed, outsiderReply: 3, approvals: 2 }, body.owner_signature)).toBe(
      id.address,
    );
    // Signed over what the body says, not what the agent had: the old reply ("ask", 2) is not what it signed.
    await expect(
      verify("SetPermissions", { ...signed, outsiderReply: 2, approvals: 2 }, body.owner_signature),
    ).rejects.toThrow();
    // Where it asks me kept as it was ("direct", 2), not the default ("conversation", 1).
    await expect(
      verify("SetPermissions", { ...signed, outsiderReply: 3, approvals: 1 }, body.owner_signature),
    ).rejects.toThrow();
  });

  it("permissions with all five named reads nothing first, and an agent value it does not know is an error, not a change", async () => {
    const id = await keygen();
    replies.push(json(200, { id: INSTANCE_ID }));
    expect(
      await run(
        [
          "permissions",
          INSTANCE_ID,
          "--member-sms",
          "refuse",
          "--member-email",
          "allow",
          "--member-crypto",
          "ask",
          "--outsider-reply",
          "none",
          "--approvals",
          "direct",
        ],
        io(),
      ),
    ).toBe(0);
    expect(calls.map((c) => c.method)).toEqual(["PUT"]);
    const body = calls[0]?.body as { owner_signature: never };
    expect(body).toMatchObject({
      member_sms: "refuse",
      member_email: "allow",
      member_crypto: "ask",
      outsider_reply: "none",
      approvals: "direct",
    });
    expect(
      await verify(
        "SetPermissions",
        {
          inboxId: id.inbox_id,
          instanceId: INSTANCE_ID,
          memberSms: 3,
          memberEmail: 1,
          memberCrypto: 2,
          outsiderReply: 1,
          approvals: 2,
        },
        body.owner_signature,
      ),
    ).toBe(id.address);

    calls = [];
    replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(json(200, { id: INSTANCE_ID, permissions: { member_sms: "sometimes" } }));
    expect(await run(["permissions", INSTANCE_ID, "--member-email", "refuse"], io())).toBe(1);
    expect(stderr()).toMatch(/the agent's member_sms is "sometimes", which this CLI does not know: give --member-sms/);
    expect(calls.map((c) => c.method)).toEqual(["POST", "GET"]);

    // An agent that does not say where it asks (a gateway from before the choice): the default, as the agent takes it.
    calls = [];
    replies.push(
      json(200, {
        id: INSTANCE_ID,
        permissions: { member_sms: "ask", member_email: "ask", member_crypto: "ask", outsider_reply: "none" },
      }),
    );
    replies.push(json(200, { id: INSTANCE_ID }));
    expect(await run(["permissions", INSTANCE_ID, "--member-sms", "allow"], io())).toBe(0);
    // Signed in still (the session kept from the read above).
    expect(calls.map((c) => c.method)).toEqual(["GET", "PUT"]);
    const kept = calls[1]?.body as { owner_signature: never };
    expect(kept).toMatchObject({ member_sms: "allow", approvals: "conversation" });
    expect(
      await verify(
        "SetPermissions",
        {
          inboxId: id.inbox_id,
          instanceId: INSTANCE_ID,
          memberSms: 1,
          memberEmail: 2,
          memberCrypto: 2,
          outsiderReply: 1,
          approvals: 1,
        },
        kept.owner_signature,
      ),
    ).toBe(id.address);
  });

  it("participation reads the agent first (signed in) and signs SetParticipation as the owner over the mode named and the cooldown as it was", async () => {
    const id = await keygen();
    replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(json(200, { id: INSTANCE_ID, participation: { mode: "speak", cooldown_seconds: 45 } }));
    const after = { mode: "mention", cooldown_seconds: 45 };
    replies.push(json(200, { id: INSTANCE_ID, participation: after }));
    expect(await run(["participation", INSTANCE_ID, "--mode", "mention"], io())).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ participation: after });
    const [, read, put] = calls;
    expect(`${read?.method} ${read?.url} ${read?.headers.authorization}`).toBe(
      `GET http://gw.test:9999/api/pool/agents/${INSTANCE_ID} Bearer v2.tok`,
    );
    expect([put?.method, put?.url]).toEqual([
      "PUT",
      `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/participation`,
    ]);
    // No session on the change: the signature is the proof.
    expect(put?.headers.authorization).toBeUndefined();
    const body = put?.body as Record<string, unknown> & { owner_signature: never };
    expect(Object.keys(body).sort()).toEqual(["cooldown_seconds", "mode", "owner_signature"]);
    expect(body).toMatchObject(after);
    const signed = { inboxId: id.inbox_id, instanceId: INSTANCE_ID, mode: 2 };
    expect(await verify("SetParticipation", { ...signed, cooldownSeconds: 45 }, body.owner_signature)).toBe(id.address);
    await expect(verify("SetParticipation", { ...signed, cooldownSeconds: 0 }, body.owner_signature)).rejects.toThrow();
  });

  it("participation --conversation reads that conversation's, signs SetConversationParticipation over it, and sets it on the conversation's path", async () => {
    const id = await keygen();
    const group = "c0ffee".padEnd(32, "0");
    const home = "feed".padEnd(32, "0");
    replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(
      json(200, {
        id: INSTANCE_ID,
        participation: { mode: "speak", cooldown_seconds: 5 },
        conversations: [
          { id: home, home: true, participation: { mode: "speak", cooldown_seconds: 5 } },
          { id: group, home: false, participation: { mode: "mention", cooldown_seconds: 90 } },
        ],
      }),
    );
    replies.push(json(200, { id: INSTANCE_ID }));
    expect(await run(["participation", INSTANCE_ID, "--conversation", group, "--mode", "paused"], io())).toBe(0);
    const put = calls[2];
    expect([put?.method, put?.url, put?.headers.authorization]).toEqual([
      "PUT",
      `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/conversations/${group}/participation`,
      undefined,
    ]);
    const body = put?.body as Record<string, unknown> & { owner_signature: never };
    // The cooldown kept is that conversation's, not the home's.
    expect(body).toMatchObject({ mode: "paused", cooldown_seconds: 90 });
    const signed = { inboxId: id.inbox_id, instanceId: INSTANCE_ID, mode: 3, cooldownSeconds: 90 };
    expect(
      await verify("SetConversationParticipation", { ...signed, conversationId: group }, body.owner_signature),
    ).toBe(id.address);
    // Good for that conversation only: not the home's, nor another's.
    await expect(
      verify("SetConversationParticipation", { ...signed, conversationId: home }, body.owner_signature),
    ).rejects.toThrow();
    await expect(verify("SetParticipation", signed, body.owner_signature)).rejects.toThrow();

    // A conversation the agent is not in: said before anything is signed or sent.
    calls = [];
    replies.push(json(200, { id: INSTANCE_ID, conversations: [{ id: home, home: true }] }));
    expect(await run(["participation", INSTANCE_ID, "--conversation", group, "--cooldown", "10"], io())).toBe(1);
    expect(stderr()).toMatch(/the agent is not in conversation c0ffee0+ \(`pool conversations/);
    // Signed in already: the one read, nothing put.
    expect(calls.map((c) => c.method)).toEqual(["GET"]);
  });

  it("participation with both named reads nothing first, and a mode of the agent it does not know is an error, not a change", async () => {
    const id = await keygen();
    replies.push(json(200, { id: INSTANCE_ID }));
    expect(await run(["participation", INSTANCE_ID, "--mode", "auto", "--cooldown", "0"], io())).toBe(0);
    expect(calls.map((c) => c.method)).toEqual(["PUT"]);
    const body = calls[0]?.body as { owner_signature: never };
    expect(body).toMatchObject({ mode: "auto", cooldown_seconds: 0 });
    expect(
      await verify(
        "SetParticipation",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, mode: 0, cooldownSeconds: 0 },
        body.owner_signature,
      ),
    ).toBe(id.address);

    calls = [];
    replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(json(200, { id: INSTANCE_ID, participation: { mode: "whisper", cooldown_seconds: 0 } }));
    expect(await run(["participation", INSTANCE_ID, "--cooldown", "60"], io())).toBe(1);
    expect(stderr()).toMatch(/the agent's mode is "whisper", which this CLI does not know: give --mode/);
    expect(calls.map((c) => c.method)).toEqual(["POST", "GET"]);
  });

  it("activity reads the log whole, signed in and signing ReadAgentActivity as the owner, and prints it as a table: time, tool, action, target, amount in ETH, outcome in words, detail, level, approved", async () => {
    const id = await keygen();
    replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(
      json(200, {
        entries: [
          {
            id: "a2",
            at: "2026-11-23T09:31:05.123Z",
            tool_id: "crypto",
            action: "send_payment",
            target: "0x00000000000000000000000000000000000000aa",
            amount_wei: "10000000000000000",
            outcome: "denied",
            detail: "the owner said no",
            trust_level: "L3",
            approved: false,
          },
          {
            id: "a1",
            at: "2026-11-23T09:30:00.000Z",
            tool_id: "trust",
            action: "set_trust_level",
            target: "",
            amount_wei: "",
            outcome: "done",
            detail: "L2 → L3,\nset by the owner",
            trust_level: "L3",
            approved: false,
          },
          {
            id: "a0",
            at: "2026-11-23T09:29:00.000Z",
            tool_id: "sms",
            action: "send_sms",
            target: "+15550100042",
            amount_wei: "",
            outcome: "timed_out",
            detail: "",
            trust_level: "L2",
            approved: true,
          },
        ],
        next_cursor: "next-page",
        detailed: true,
      }),
    );
    expect(await run(["activity", INSTANCE_ID, "--limit", "3"], io())).toBe(0);
    expect(calls[1]).toMatchObject({
      method: "POST",
      url: `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/activity/list?limit=3`,
      headers: { authorization: "Bearer v2.tok" },
    });
    const body = calls[1]?.body as { owner_signature: never };
    expect(Object.keys(body)).toEqual(["owner_signature"]);
    expect(
      await verify("ReadAgentActivity", { inboxId: id.inbox_id, instanceId: INSTANCE_ID }, body.owner_signature),
    ).toBe(id.address);
    const lines = stdout().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+TOOL\s+ACTION\s+TARGET\s+AMOUNT \(ETH\)\s+OUTCOME\s+DETAIL\s+LEVEL\s+APPROVED$/);
    expect(lines[1]).toMatch(
      /^2026-11-23 09:31:05Z\s+crypto\s+send_payment\s+0x0{38}aa\s+0\.01\s+denied by you\s+the owner said no\s+L3\s+no$/,
    );
    expect(lines[2]).toMatch(
      /^2026-11-23 09:30:00Z\s+trust\s+set_trust_level\s+done\s+L2 → L3, set by the owner\s+L3\s+no$/,
    );
    expect(lines[3]).toMatch(/^2026-11-23 09:29:00Z\s+sms\s+send_sms\s+\+15550100042\s+no answer in time\s+L2\s+yes$/);
    // Columns line up: every row's level sits where the heading's does.
    const at = lines[0]!.indexOf("LEVEL");
    for (const l of lines.slice(1, 4)) expect(l.slice(at, at + 2)).toMatch(/^L\d$/);
    expect(lines.at(-1)).toBe("More: --cursor next-page");

    replies.push(json(200, { entries: [], next_cursor: null, detailed: true }));
    out = [];
    expect(await run(["activity", INSTANCE_ID], io())).toBe(0);
    expect(stdout()).toBe("No activity yet.\n");
    // Each read is signed afresh: a signature is spent once.
    const again = calls[2]?.body as { owner_signature: { nonce: string } };
    expect(again.owner_signature.nonce).not.toBe((body.owner_signature as { nonce: string }).nonce);
  });

  it("activity prints, under the log, what the pool's payment signer signed for the agent's wallet", async () => {
    await keygen();
    replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(
      json(200, {
        entries: [],
        next_cursor: null,
        detailed: true,
        signed_payments: [
          {
            sequence: "12",
            chain_id: "31337",
            to: "0x00000000000000000000000000000000000000bb",
            value_wei: "15000000000000000",
            max_fee_wei: "42000000000000",
            nonce: "3",
            transaction_hash: `0x${"ab".repeat(32)}`,
            host_url: "http://host-a:7100",
            signed_at: "2026-11-23T09:40:00.000Z",
          },
        ],
      }),
    );
    expect(await run(["activity", INSTANCE_ID], io())).toBe(0);
    const lines = stdout().trimEnd().split("\n");
    expect(lines.slice(0, 3)).toEqual(["No activity yet.", "", "Payments the pool signed for its wallet:"]);
    expect(lines[3]).toMatch(/^SIGNED\s+TO\s+AMOUNT \(ETH\)\s+GAS AT MOST \(ETH\)\s+TRANSACTION$/);
    expect(lines[4]).toMatch(/^2026-11-23 09:40:00Z\s+0x0{38}bb\s+0\.015\s+0\.000042\s+0x(ab){32}$/);
  });

  it("agents and agent read as the signed-in owner", async () => {
    const id = await keygen();
    replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    replies.push(json(200, { agents: [], next_cursor: null }));
    replies.push(json(200, { id: INSTANCE_ID }));
    expect(await run(["agents", "--limit", "5"], io())).toBe(0);
    expect(await run(["agent", INSTANCE_ID], io())).toBe(0);
    expect(calls.slice(1).map((c) => `${c.method} ${c.url} ${c.headers.authorization}`)).toEqual([
      `GET http://gw.test:9999/api/pool/agents?owner=${id.inbox_id}&limit=5 Bearer v2.tok`,
      `GET http://gw.test:9999/api/pool/agents/${INSTANCE_ID} Bearer v2.tok`,
    ]);
  });

  it("logout ends the stored session on the server and deletes it here; without one it sends nothing; an ended one is deleted all the same", async () => {
    await keygen();
    const sessionFile = join(dir, ".data/cli/key.session.json");
    expect(await run(["logout"], io())).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ signed_out: false });
    expect(calls).toEqual([]);

    replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    expect(await run(["login"], io())).toBe(0);
    replies.push(noContent);
    out = [];
    expect(await run(["logout"], io())).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ signed_out: true });
    expect(calls.at(-1)).toMatchObject({
      method: "DELETE",
      url: "http://gw.test:9999/api/pool/sessions",
      headers: { authorization: "Bearer v2.tok" },
    });
    await expect(stat(sessionFile)).rejects.toThrow();
    expect(stdout()).not.toContain("v2.tok");

    replies.push(json(200, { token: "v2.gone", expires_at: "2999-01-01T00:00:00.000Z" }));
    expect(await run(["login"], io())).toBe(0);
    replies.push(json(401, { error: { type: "unauthenticated", code: "unauthenticated", message: "session ended" } }));
    expect(await run(["logout"], io())).toBe(0);
    await expect(stat(sessionFile)).rejects.toThrow();
  });

  it("sign ClaimAgent takes the claim as it will be sent and prints the signature object every REST body takes", async () => {
    const id = await keygen();
    const claim = { template_id: TEMPLATE_ID, conversation_invite: INVITE, user_config: { nickname: "Trippy" } };
    expect(await run(["sign", "ClaimAgent", JSON.stringify(claim)], io())).toBe(0);
    const sig = JSON.parse(stdout());
    expect(Object.keys(sig).sort()).toEqual(["issued_at", "nonce", "signature"]);
    const fields = claimFields({
      requester: id.inbox_id,
      model: "",
      templateId: TEMPLATE_ID,
      conversationInvite: INVITE,
      userConfig: { nickname: "Trippy" },
    });
    expect(await verify("ClaimAgent", fields, sig)).toBe(id.address);
    out = [];
    expect(await run(["sign", "SetInstancePin", JSON.stringify({ instanceId: INSTANCE_ID, pinned: true })], io())).toBe(
      0,
    );
    expect(
      await verify(
        "SetInstancePin",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, pinned: true },
        JSON.parse(stdout()),
      ),
    ).toBe(id.address);
    out = [];
    expect(
      await run(
        [
          "sign",
          "SetTrustLevel",
          JSON.stringify({ instanceId: INSTANCE_ID, trustLevel: 4, dailySpendLimitWei: "50000000000000000" }),
        ],
        io(),
      ),
    ).toBe(0);
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 4, dailySpendLimitWei: 50_000_000_000_000_000n },
        JSON.parse(stdout()),
      ),
    ).toBe(id.address);
    err = [];
    expect(await run(["sign", "ClaimAgent", JSON.stringify({ ...claim, requester: "x" })], io())).toBe(2);
    expect(stderr()).toMatch(/unknown field requester/);
  });
});
