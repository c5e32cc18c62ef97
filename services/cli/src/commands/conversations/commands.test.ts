// The commands of an agent in several conversations, run as `pool` runs
// them (main.ts) against a STAND-IN gateway: a fetch that records each
// request and answers as the test says. What is real: the key, the
// signatures (checked with the kit's verifier), the bodies and paths sent,
// and what is printed. The listing's rendering is a pure function, tested
// as one.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DerivedInboxResolver,
  LOCAL_POOL_ID,
  SignatureVerifier,
  addToConversationFields,
  shareMemoryFields,
  signatureDomain,
  type SignedOperation,
} from "@convos-pool/kit/signing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addToRequest, conversationsListing } from "./commands.js";
import { run as runCli, type Io } from "../../main.js";

/** The CLI as scripts run it (`--json`): these tests read the JSON it prints. */
const run: typeof runCli = (argv, io) => runCli(["--json", ...argv], io);

const INSTANCE = "inst_Q2w3E4r5T6y7U8i9";
const INVITE = "https://dev.convos.org/v2?i=dinner-club";
const HOME = "feed".padEnd(32, "0");
const GROUP = "c0ffee".padEnd(32, "0");

let dir: string;
let out: string[];
let err: string[];
let calls: { method: string; url: string; auth: string | undefined; body: unknown }[];
let replies: (() => Response)[];

const json = (status: number, body: unknown) => () =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const SESSION = json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" });

function io(): Io {
  return {
    env: { POOL_URL: "http://gw.test:9999" },
    cwd: dir,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (url.endsWith("/api/pool/signing-domain"))
        return json(200, { pool_id: LOCAL_POOL_ID, ...signatureDomain(LOCAL_POOL_ID) })();
      const headers = (init?.headers ?? {}) as Record<string, string>;
      calls.push({
        method: init?.method ?? "GET",
        url,
        auth: headers.authorization,
        body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      });
      const reply = replies.shift();
      if (!reply) throw new Error(`unexpected request ${init?.method ?? "GET"} ${url}`);
      return reply();
    },
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-cli-conversations-"));
  out = [];
  err = [];
  calls = [];
  replies = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keygen(): Promise<{ address: string; inbox_id: string }> {
  expect(await run(["keygen"], io())).toBe(0);
  const id = JSON.parse(out.join("")) as { address: string; inbox_id: string };
  out = [];
  return id;
}

/** The address that signed `op` over `fields`; throws when the signature is not over them. */
async function signer(op: SignedOperation, fields: Record<string, unknown>, signature: unknown): Promise<string> {
  const s = signature as { signature: string; issued_at: number; nonce: string };
  const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
  const v = await verifier.verify(
    op,
    fields as never,
    { signature: s.signature, issuedAt: BigInt(s.issued_at), nonce: s.nonce } as never,
  );
  return v.address;
}

describe("pool add-to", () => {
  it("signs AddToConversation as the owner over the invite, the participation and tools there and the confirmation, and sends no session", async () => {
    const me = await keygen();
    const answer = { conversation: { id: GROUP, name: "Dinner club" }, agent: { id: INSTANCE } };
    replies.push(json(200, answer));
    const argv = ["add-to", INSTANCE, INVITE, "--mode", "mention", "--cooldown", "60", "--tools", "none"];
    expect(await run([...argv, "--second-agent"], io())).toBe(0);
    expect(JSON.parse(out.join(""))).toEqual(answer);
    const [post] = calls;
    expect([post?.method, post?.url, post?.auth]).toEqual([
      "POST",
      `http://gw.test:9999/api/pool/agents/${INSTANCE}/conversations`,
      undefined,
    ]);
    const { owner_signature, ...body } = (post?.body ?? {}) as Record<string, unknown>;
    expect(body).toEqual({
      conversation_invite: INVITE,
      participation: { mode: "mention", cooldown_seconds: 60 },
      tools: "none",
      confirm_second_agent: true,
    });
    const add = { ownerId: me.inbox_id, instanceId: INSTANCE, conversationInvite: INVITE };
    const signed = { ...add, participation: { mode: 2, cooldownSeconds: 60 }, tools: 2, secondAgent: true };
    expect(await signer("AddToConversation", addToConversationFields(signed), owner_signature)).toBe(me.address);
    // Over other tools, or unconfirmed, it is another signature.
    await expect(
      signer("AddToConversation", addToConversationFields({ ...signed, tools: 1 }), owner_signature),
    ).rejects.toThrow();
    await expect(
      signer("AddToConversation", addToConversationFields({ ...signed, secondAgent: false }), owner_signature),
    ).rejects.toThrow();
  });

  it("without options sends only the invite, signed over the defaults the claims service fills in (auto, 0, shared)", async () => {
    const me = await keygen();
    replies.push(json(200, {}));
    expect(await run(["add-to", INSTANCE, INVITE], io())).toBe(0);
    const { owner_signature, ...body } = (calls[0]?.body ?? {}) as Record<string, unknown>;
    expect(body).toEqual({ conversation_invite: INVITE });
    const fields = addToConversationFields({ ownerId: me.inbox_id, instanceId: INSTANCE, conversationInvite: INVITE });
    expect(fields).toMatchObject({ mode: 0, cooldownSeconds: 0, tools: 1, secondAgent: false });
    expect(await signer("AddToConversation", fields, owner_signature)).toBe(me.address);
  });

  it("prints the gateway's refusal and exits 1", async () => {
    await keygen();
    const refusal = {
      error: { type: "invalid_request", code: "invalid_argument", message: "tools: …", field: "tools" },
    };
    replies.push(json(400, refusal));
    expect(await run(["add-to", INSTANCE, INVITE], io())).toBe(1);
    expect(JSON.parse(err.join(""))).toEqual(refusal);
  });
});

describe("pool leave", () => {
  it("signs RemoveFromConversation as the owner over the conversation, sends it in the path, and prints the agent", async () => {
    const me = await keygen();
    replies.push(json(200, { id: INSTANCE, conversations: [{ id: HOME, home: true }] }));
    expect(await run(["leave", INSTANCE, GROUP], io())).toBe(0);
    expect(JSON.parse(out.join(""))).toMatchObject({ id: INSTANCE });
    const [del] = calls;
    expect([del?.method, del?.url]).toEqual([
      "DELETE",
      `http://gw.test:9999/api/pool/agents/${INSTANCE}/conversations/${GROUP}`,
    ]);
    const body = del?.body as { owner_signature: unknown };
    expect(Object.keys(body)).toEqual(["owner_signature"]);
    const fields = { inboxId: me.inbox_id, instanceId: INSTANCE, conversationId: GROUP };
    expect(await signer("RemoveFromConversation", fields, body.owner_signature)).toBe(me.address);
    await expect(
      signer("RemoveFromConversation", { ...fields, conversationId: HOME }, body.owner_signature),
    ).rejects.toThrow();
  });
});

describe("pool conversations", () => {
  it("reads the agent signed in and prints its conversations, one a line", async () => {
    await keygen();
    replies.push(SESSION);
    replies.push(
      json(200, {
        id: INSTANCE,
        conversations: [
          {
            id: HOME,
            name: "Trip",
            home: true,
            state: "joined",
            participation: { mode: "auto", cooldown_seconds: 0 },
            tools: "shared",
          },
          {
            id: GROUP,
            name: "Dinner club",
            home: false,
            state: "joined",
            participation: { mode: "mention", cooldown_seconds: 60 },
            tools: "none",
          },
        ],
      }),
    );
    expect(await run(["conversations", INSTANCE], io())).toBe(0);
    expect(`${calls[1]?.method} ${calls[1]?.url} ${calls[1]?.auth}`).toBe(
      `GET http://gw.test:9999/api/pool/agents/${INSTANCE} Bearer v2.tok`,
    );
    expect(out.join("").split("\n")).toEqual([
      `${HOME}\tTrip (home)\tjoined\tauto\ttools shared`,
      `${GROUP}\tDinner club\tjoined\tmention, 60 s cooldown\tno tools`,
      "",
    ]);
  });
});

describe("the listing of pool conversations", () => {
  it("puts the home first, marked, and says a joining one, an unnamed one and missing values plainly", () => {
    const lines = conversationsListing([
      {
        id: GROUP,
        name: "",
        state: "rejoining",
        participation: { mode: "paused", cooldown_seconds: 0 },
        tools: "none",
      },
      { id: "", name: "Book club", state: "joining" },
      { id: HOME, name: "Trip", home: true, state: "joined", participation: { mode: "speak", cooldown_seconds: 5 } },
    ]).split("\n");
    expect(lines).toEqual([
      `${HOME}\tTrip (home)\tjoined\tspeak, 5 s cooldown\ttools shared`,
      `${GROUP}\t(no name)\trejoining\tpaused\tno tools`,
      "(joining)\tBook club\tjoining\tauto\ttools shared",
    ]);
    expect(conversationsListing([{ id: GROUP }])).toBe(`${GROUP}\t(no name)\tunknown\tauto\ttools shared`);
    expect(conversationsListing([])).toBe("(in no conversation)");
  });
});

describe("the request of pool add-to", () => {
  it("sends only what was given and signs the values the body means, the defaults filled in", () => {
    const { body, signed } = addToRequest("owner", INSTANCE, INVITE, { participation: { mode: "paused" } });
    expect(body).toEqual({ conversation_invite: INVITE, participation: { mode: "paused" } });
    expect(signed).toMatchObject({ inboxId: "owner", instanceId: INSTANCE, mode: 3, cooldownSeconds: 0, tools: 1 });
    expect(addToRequest("owner", INSTANCE, INVITE, { tools: "shared" }).body).toEqual({
      conversation_invite: INVITE,
      tools: "shared",
    });
  });
});

describe("pool memory-share", () => {
  it("signs ShareMemory as the owner over the ids in the order sent and the mark, signed in; --off takes them back", async () => {
    const me = await keygen();
    const ids = ["mem_000000000002", "mem_000000000001"];
    replies.push(SESSION);
    replies.push(json(200, { changed: 2, not_found: [] }));
    expect(await run(["memory-share", INSTANCE, ids.join(",")], io())).toBe(0);
    expect(JSON.parse(out.join(""))).toEqual({ changed: 2, not_found: [] });
    const post = calls[1];
    expect([post?.method, post?.url, post?.auth]).toEqual([
      "POST",
      `http://gw.test:9999/api/pool/agents/${INSTANCE}/memory/share`,
      "Bearer v2.tok",
    ]);
    const body = post?.body as { entry_ids: string[]; share: boolean; owner_signature: unknown };
    expect(body).toMatchObject({ entry_ids: ids, share: true });
    const share = { ownerId: me.inbox_id, instanceId: INSTANCE, entryIds: ids, share: true };
    expect(await signer("ShareMemory", shareMemoryFields(share), body.owner_signature)).toBe(me.address);
    await expect(
      signer("ShareMemory", shareMemoryFields({ ...share, share: false }), body.owner_signature),
    ).rejects.toThrow();

    replies.push(json(200, { changed: 1, not_found: [] }));
    expect(await run(["memory-share", INSTANCE, ids[0] as string, "--off"], io())).toBe(0);
    const off = calls[2]?.body as { entry_ids: string[]; share: boolean; owner_signature: unknown };
    expect(off).toMatchObject({ entry_ids: [ids[0]], share: false });
    const back = { ...share, entryIds: [ids[0] as string], share: false };
    expect(await signer("ShareMemory", shareMemoryFields(back), off.owner_signature)).toBe(me.address);
  });
});
