// The REST paths of an agent's conversations (added, left, participation in
// one) and of sharing its memory across them (docs/rest.md): the real REST dispatcher (routes.ts) on a real
// HTTP server in this process, with STAND-INS for the claims service's
// forwarders (ClaimService, AgentMemoryService) that record what they are
// asked and answer as the test says. What is real: parsing, validation, the
// relayed request, the answer's JSON and the mapping of the service's errors.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AgentConversationSchema,
  AgentConversationState,
  ConversationTools,
  InstanceSchema,
  ParticipationMode,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { FieldViolationSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { failedPreconditionOn, invalidArgument } from "@convos-pool/kit/content";
import { createLogger, limitExceeded } from "@convos-pool/kit/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ClaimsForwarder, MemoryForwarder } from "../../connect/forward.js";
import type { RestDeps } from "../core/request.js";
import { restApi } from "../routes.js";

const INSTANCE = "inst_0123456789abcdef";
const GROUP = "c0ffee".padEnd(32, "0");
const HOME = "feed".padEnd(32, "0");
const INVITE = "https://dev.convos.org/v2?i=dinner-club";
const SIGNATURE = { signature: `0x${"ab".repeat(65)}`, issued_at: 1_764_000_000, nonce: `0x${"cd".repeat(16)}` };
const NOT_CONFIGURED = "this gateway is not connected to a claims service";

/** What the stand-ins were asked, in order: the RPC's name and its request. */
let asked: { rpc: string; req: Record<string, unknown> }[];
/** How the stand-in answers the next call (default: as a claims service that did it). */
let answer: ((rpc: string) => unknown) | undefined;
let logged: string[];

const home = create(AgentConversationSchema, {
  conversationId: HOME,
  name: "Trip",
  home: true,
  state: AgentConversationState.JOINED,
  tools: ConversationTools.SHARED,
  joinedAt: timestampFromDate(new Date("2026-11-28T10:00:00.000Z")),
});
const added = create(AgentConversationSchema, {
  conversationId: GROUP,
  name: "Dinner club",
  state: AgentConversationState.JOINED,
  participation: { mode: ParticipationMode.MENTION, cooldownSeconds: 60 },
  tools: ConversationTools.NONE,
  joinedAt: timestampFromDate(new Date("2026-11-29T10:00:00.000Z")),
});

function standIn(rpc: string, fallback: () => unknown) {
  return async (req: Record<string, unknown>) => {
    asked.push({ rpc, req });
    const a = answer;
    answer = undefined;
    return a ? a(rpc) : fallback();
  };
}

const claims = {
  addToConversation: standIn("addToConversation", () => ({
    conversation: added,
    instance: create(InstanceSchema, { id: INSTANCE, conversations: [home, added] }),
  })),
  removeFromConversation: standIn("removeFromConversation", () => ({
    instance: create(InstanceSchema, { id: INSTANCE, conversations: [home] }),
  })),
  setParticipation: standIn("setParticipation", () => ({
    instance: create(InstanceSchema, {
      id: INSTANCE,
      conversations: [
        home,
        create(AgentConversationSchema, {
          conversationId: GROUP,
          state: AgentConversationState.JOINED,
          participation: { mode: ParticipationMode.PAUSED, cooldownSeconds: 30 },
        }),
      ],
    }),
  })),
} as unknown as ClaimsForwarder;
const memory = {
  shareMemory: standIn("shareMemory", () => ({ changed: 2, notFound: ["mem_000000000009"] })),
} as unknown as MemoryForwarder;

function deps(withClaims: boolean): RestDeps {
  return {
    ...(withClaims ? { claims, memory } : {}),
    claimsNotConfigured: NOT_CONFIGURED,
    lineageNotConfigured: "no lineage",
    log: createLogger("gateway", { level: "info", sink: (line) => logged.push(line) }),
    maxBodyBytes: 64 * 1024,
    signingDomain: { poolId: "local", name: "Convos Agent Pool", version: "1", salt: "0x00" },
    createSession: () => Promise.reject(new Error("not in these tests")),
    endSession: () => Promise.resolve(),
  } as unknown as RestDeps;
}

let servers: Server[] = [];
let url: string;
let bare: string;

async function serve(d: RestDeps): Promise<string> {
  const rest = restApi(d);
  const server = createServer((req, res) => {
    void rest(req, res).then((done) => {
      if (!done) res.writeHead(404).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  url = await serve(deps(true));
  bare = await serve(deps(false));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
});
beforeEach(() => {
  asked = [];
  answer = undefined;
  logged = [];
});

// The answer's JSON is read as any shape, as services/gateway/test/rest.ts reads it.
async function call(method: string, path: string, body?: unknown, on = url): Promise<{ status: number; json: any }> {
  const res = await fetch(`${on}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const conversations = `/api/pool/agents/${INSTANCE}/conversations`;

describe("POST /api/pool/agents/{id}/conversations", () => {
  it("relays the invite, the owner's signature, the participation and tools there and the confirmation, and answers the conversation and the agent", async () => {
    const res = await call("POST", conversations, {
      conversation_invite: INVITE,
      owner_signature: SIGNATURE,
      participation: { mode: "mention", cooldown_seconds: 60 },
      tools: "none",
      confirm_second_agent: true,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.rpc).toBe("addToConversation");
    expect(asked[0]?.req).toMatchObject({
      instanceId: INSTANCE,
      conversationInvite: INVITE,
      ownerSignature: { signature: SIGNATURE.signature, issuedAt: BigInt(SIGNATURE.issued_at), nonce: SIGNATURE.nonce },
      participation: { mode: ParticipationMode.MENTION, cooldownSeconds: 60 },
      tools: ConversationTools.NONE,
      confirmSecondAgent: true,
    });
    const dinner = {
      id: GROUP,
      name: "Dinner club",
      home: false,
      state: "joined",
      participation: { mode: "mention", cooldown_seconds: 60 },
      tools: "none",
      joined_at: "2026-11-29T10:00:00.000Z",
    };
    expect(res.json.conversation).toEqual(dinner);
    expect(res.json.agent).toMatchObject({ id: INSTANCE, conversations: [{ id: HOME, home: true }, dinner] });
  });

  it("leaves out what the owner did not give: the claims service fills the defaults the owner signed", async () => {
    expect(
      (await call("POST", conversations, { conversation_invite: INVITE, owner_signature: SIGNATURE })).status,
    ).toBe(200);
    expect(asked[0]?.req).toMatchObject({
      participation: undefined,
      tools: ConversationTools.UNSPECIFIED,
      confirmSecondAgent: false,
    });
  });

  it("sends an invite left out, empty or a conversation ID on, for the claims service to name beside the rest", async () => {
    for (const body of [{}, { conversation_invite: "" }, { conversation_invite: GROUP }]) {
      asked = [];
      await call("POST", conversations, body);
      expect(
        asked.map((a) => a.rpc),
        JSON.stringify(body),
      ).toEqual(["addToConversation"]);
    }
  });

  it("names a conversation ID for an invite beside a field REST cannot read, and relays nothing", async () => {
    const bad = await call("POST", conversations, { conversation_invite: GROUP, tools: "some" });
    expect(bad.json.error.violations.map((v: { field: string }) => v.field)).toEqual(["tools", "conversation_invite"]);
    expect(asked).toEqual([]);
  });

  it("refuses bad input naming the field, before anything is relayed", async () => {
    for (const [body, field] of [
      [{ conversation_invite: INVITE, participation: { mode: "loud" } }, "participation.mode"],
      [{ conversation_invite: INVITE, participation: { cooldown_seconds: -1 } }, "participation.cooldown_seconds"],
      [{ conversation_invite: INVITE, participation: [] }, "participation"],
      [{ conversation_invite: INVITE, tools: "some" }, "tools"],
      [{ conversation_invite: INVITE, confirm_second_agent: 1 }, "confirm_second_agent"],
      [{ conversation_invite: INVITE, owner_signature: { signature: "0x00", issued_at: 1 } }, "owner_signature.nonce"],
      [{ conversation_invite: INVITE, conversation_id: GROUP }, "conversation_id"],
      [{ conversationInvite: INVITE }, "conversationInvite"],
    ] as const) {
      const bad = await call("POST", conversations, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.json.error, JSON.stringify(body)).toMatchObject({
        type: "invalid_request",
        code: "invalid_argument",
        field,
      });
      expect(bad.json.error.message.startsWith(`${field}: `)).toBe(true);
    }
    const query = await call("POST", `${conversations}?mode=speak`, { conversation_invite: INVITE });
    expect(query.json.error).toMatchObject({ field: "mode" });
    expect(asked).toEqual([]);
  });

  it("answers the claims service's refusals with their codes, naming its fields as the body does", async () => {
    const cases: [ConnectError, number, string, string | undefined][] = [
      [invalidArgument("participation.mode", "must be a mode"), 400, "invalid_request", "participation.mode"],
      [new ConnectError("owner_signature: required", Code.Unauthenticated), 401, "unauthenticated", undefined],
      [new ConnectError("no such agent", Code.NotFound), 404, "not_found", undefined],
      [
        failedPreconditionOn("confirm_second_agent", "another agent of its template is there"),
        422,
        "unprocessable_entity",
        "confirm_second_agent",
      ],
      [
        failedPreconditionOn("conversation_invite", "the agent is in this conversation already"),
        422,
        "unprocessable_entity",
        "conversation_invite",
      ],
      [new ConnectError("settled while the agent joined", Code.Aborted), 409, "conflict", undefined],
      [limitExceeded("agents.conversations", "the agent is in 10 conversations"), 429, "rate_limited", undefined],
      [new ConnectError("not available yet", Code.Unimplemented), 501, "not_implemented", undefined],
      [new ConnectError("the agent's host did not answer", Code.Unavailable), 503, "unavailable", undefined],
    ];
    for (const [err, status, type, field] of cases) {
      answer = () => {
        throw err;
      };
      const res = await call("POST", conversations, { conversation_invite: INVITE, owner_signature: SIGNATURE });
      expect(res.status, err.message).toBe(status);
      expect(res.json.error.type).toBe(type);
      expect(res.json.error.field).toBe(field);
    }
  });

  it("answers 503 on a gateway without the claims service", async () => {
    const res = await call("POST", conversations, { conversation_invite: INVITE }, bare);
    expect(res.status).toBe(503);
    expect(res.json.error).toEqual({ type: "unavailable", code: "unavailable", message: NOT_CONFIGURED });
  });
});

describe("DELETE /api/pool/agents/{id}/conversations/{conversation_id}", () => {
  it("relays the conversation of the path and the owner's signature, and answers the agent in its other conversations", async () => {
    const res = await call("DELETE", `${conversations}/${GROUP}`, { owner_signature: SIGNATURE });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(asked).toEqual([
      {
        rpc: "removeFromConversation",
        req: expect.objectContaining({ instanceId: INSTANCE, conversationId: GROUP }),
      },
    ]);
    expect(asked[0]?.req.ownerSignature).toMatchObject({ signature: SIGNATURE.signature });
    expect(res.json).toMatchObject({ id: INSTANCE, conversations: [{ id: HOME, home: true, state: "joined" }] });
  });

  it("refuses a bad body naming the field, and names the claims service's `conversation_id` as the path does", async () => {
    const bad = await call("DELETE", `${conversations}/${GROUP}`, { owner_signature: "0xab" });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe("owner_signature");
    expect((await call("DELETE", `${conversations}/${GROUP}`, { conversation_id: GROUP })).json.error.field).toBe(
      "conversation_id",
    );
    expect(asked).toEqual([]);
    // As the claims service refuses a conversation the agent is not in, and its last one.
    answer = () => {
      throw new ConnectError("conversation_id: the agent is not in conversation abc", Code.NotFound, undefined, [
        {
          desc: FieldViolationSchema,
          value: { field: "conversation_id", description: "not one of the agent's conversations" },
        },
      ]);
    };
    const unknown = await call("DELETE", `${conversations}/abc`, { owner_signature: SIGNATURE });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({
      type: "not_found",
      field: "conversation_id",
      message: "conversation_id: not one of the agent's conversations",
    });
    answer = () => {
      throw failedPreconditionOn("conversation_id", "is the agent's last conversation");
    };
    const last = await call("DELETE", `${conversations}/${HOME}`, { owner_signature: SIGNATURE });
    expect([last.status, last.json.error.field]).toEqual([422, "conversation_id"]);
    // No such path without a conversation; another method on it is 405.
    expect((await call("DELETE", `${conversations}/`, { owner_signature: SIGNATURE })).status).toBe(404);
    expect((await call("PUT", `${conversations}/${GROUP}`, {})).status).toBe(405);
  });
});

describe("PUT /api/pool/agents/{id}/conversations/{conversation_id}/participation", () => {
  const path = `${conversations}/${GROUP}/participation`;

  it("relays the conversation of the path, the mode and cooldown and the owner's signature, and answers the agent with each conversation's participation", async () => {
    const res = await call("PUT", path, { mode: "paused", cooldown_seconds: 30, owner_signature: SIGNATURE });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(asked).toEqual([
      {
        rpc: "setParticipation",
        req: expect.objectContaining({
          instanceId: INSTANCE,
          conversationId: GROUP,
          participation: { mode: ParticipationMode.PAUSED, cooldownSeconds: 30 },
        }),
      },
    ]);
    expect(asked[0]?.req.ownerSignature).toMatchObject({ signature: SIGNATURE.signature, nonce: SIGNATURE.nonce });
    expect(res.json).toMatchObject({
      id: INSTANCE,
      conversations: [
        { id: HOME, home: true },
        { id: GROUP, participation: { mode: "paused", cooldown_seconds: 30 } },
      ],
    });
    // What the owner left out is left out: the claims service fills the defaults the owner signed.
    await call("PUT", path, { owner_signature: SIGNATURE });
    expect(asked[1]?.req).toMatchObject({ conversationId: GROUP, participation: {} });
  });

  it("refuses bad input naming the field as the body names it, before anything is relayed", async () => {
    for (const [body, field] of [
      [{ mode: "loud" }, "mode"],
      // Past a day alone is the claims service's to refuse; beside a fault of REST's own, named with it.
      [{ mode: "loud", cooldown_seconds: 86_401 }, "mode"],
      [{ owner_signature: "0xab" }, "owner_signature"],
      [{ conversation_id: GROUP }, "conversation_id"],
    ] as const) {
      const bad = await call("PUT", path, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.json.error.field, JSON.stringify(body)).toBe(field);
    }
    expect(asked).toEqual([]);
  });

  it("names a mode word REST has no value for beside the service's check of the path's agent and conversation", async () => {
    const bad = await call("PUT", "/api/pool/agents/inst_x/conversations/ABC/participation", {
      mode: "loud",
      cooldown_seconds: 86_401,
    });
    expect(bad.json.error.violations.map((v: { field: string }) => v.field)).toEqual([
      "mode",
      "instance_id",
      "conversation_id",
      "cooldown_seconds",
    ]);
    expect(asked).toEqual([]);
  });

  it("answers the claims service's refusals, naming `conversation_id` as the path does and `mode` as the body does", async () => {
    answer = () => {
      throw new ConnectError("conversation_id: the agent is not in conversation abc", Code.NotFound, undefined, [
        {
          desc: FieldViolationSchema,
          value: { field: "conversation_id", description: "not one of the agent's conversations" },
        },
      ]);
    };
    const unknown = await call("PUT", `${conversations}/abc/participation`, { owner_signature: SIGNATURE });
    expect([unknown.status, unknown.json.error.type, unknown.json.error.field]).toEqual([
      404,
      "not_found",
      "conversation_id",
    ]);
    expect(asked[0]?.req.conversationId).toBe("abc");
    answer = () => {
      throw invalidArgument("participation.mode", "must be a mode");
    };
    const mode = await call("PUT", path, { owner_signature: SIGNATURE });
    expect([mode.status, mode.json.error.field]).toEqual([400, "mode"]);
    answer = () => {
      throw new ConnectError("no such agent", Code.NotFound);
    };
    const theirs = await call("PUT", path, { owner_signature: SIGNATURE });
    expect([theirs.status, theirs.json.error.field]).toEqual([404, undefined]);
    // Another method on the path is 405; a gateway without the claims service is 503.
    expect((await call("POST", path, {})).status).toBe(405);
    expect((await call("PUT", path, { owner_signature: SIGNATURE }, bare)).status).toBe(503);
  });
});

describe("POST /api/pool/agents/{id}/memory/share", () => {
  const share = `/api/pool/agents/${INSTANCE}/memory/share`;

  it("relays the ids, the mark and the owner's signature, and answers how many changed and the ids the agent did not have", async () => {
    const ids = ["mem_000000000001", "mem_000000000002", "mem_000000000009"];
    const res = await call("POST", share, { entry_ids: ids, share: true, owner_signature: SIGNATURE });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toEqual({ changed: 2, not_found: ["mem_000000000009"] });
    expect(asked[0]).toMatchObject({ rpc: "shareMemory", req: { instanceId: INSTANCE, entryIds: ids, share: true } });
    await call("POST", share, { entry_ids: ids, share: false, owner_signature: SIGNATURE });
    expect(asked[1]?.req.share).toBe(false);
  });

  it("refuses a body without the ids or the mark, naming the field, before anything is relayed", async () => {
    for (const [body, field] of [
      [{ share: true }, "entry_ids"],
      [{ entry_ids: "mem_000000000001", share: true }, "entry_ids"],
      [{ entry_ids: ["mem_000000000001", 2], share: true }, "entry_ids[1]"],
      [{ entry_ids: ["mem_000000000001"] }, "share"],
      [{ entry_ids: ["mem_000000000001"], share: "on" }, "share"],
      [{ entry_ids: ["mem_000000000001"], share: true, everywhere: true }, "everywhere"],
    ] as const) {
      const bad = await call("POST", share, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.json.error, JSON.stringify(body)).toMatchObject({ code: "invalid_argument", field });
    }
    expect(asked).toEqual([]);
    answer = () => {
      throw invalidArgument("entry_ids[0]", 'must be "mem_" and 12 hex characters');
    };
    expect((await call("POST", share, { entry_ids: ["x"], share: true })).json.error.field).toBe("entry_ids[0]");
    expect((await call("POST", share, { entry_ids: ["x"], share: true }, bare)).status).toBe(503);
  });

  it("never writes a signature into the log", async () => {
    await call("POST", share, { entry_ids: ["mem_000000000001"], share: true, owner_signature: SIGNATURE });
    await call("POST", conversations, { conversation_invite: INVITE, owner_signature: SIGNATURE });
    await call("POST", conversations, { conversation_invite: INVITE, owner_signature: { ...SIGNATURE, nonce: 5 } });
    expect(logged.filter((l) => l.includes('"rest"'))).toHaveLength(3);
    expect(logged.join("\n")).not.toMatch(/abababab|cdcdcdcd/);
  });
});
