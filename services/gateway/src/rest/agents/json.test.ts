// The permissions, participation and conversations bodies and answers of the
// agent paths, as plain calls (no server): names in, the proto's values out,
// and back to names.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AgentConversationSchema,
  AgentConversationState,
  ApprovalPlace,
  ConversationTools,
  Grant,
  InstanceSchema,
  OutsiderReply,
  ParticipationMode,
  ParticipationSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { permissionsMessage } from "@convos-pool/kit/content";
import { additionViolations } from "@convos-pool/kit/signing";
import { describe, expect, it } from "vitest";
import {
  ADD_TO_CONVERSATION_FIELDS,
  PARTICIPATION_FIELDS,
  PERMISSIONS_FIELDS,
  addToConversationFromBody,
  conversationToJson,
  instanceToJson,
  participationFromBody,
  participationToJson,
  permissionsFromBody,
  permissionsToJson,
  type AgentJson,
} from "./json.js";
import { ADDITION_NAMES, PARTICIPATION_ERRORS, PERMISSIONS_ERRORS } from "./errors.js";
import { AGENT_ERRORS, RestError, Violations } from "../core/errors.js";
import { JsonObject } from "../core/json.js";

const parse = (body: unknown) => permissionsFromBody(JsonObject.body(body, PERMISSIONS_FIELDS));

const parseParticipation = (body: unknown) => participationFromBody(JsonObject.body(body, PARTICIPATION_FIELDS));

/** The body as its route reads it: REST's own faults, then the claims service's check of the rest (the path's id a good one). */
function parseAdd(body: unknown) {
  const check = new Violations();
  const asked = addToConversationFromBody(JsonObject.body(body, ADD_TO_CONVERSATION_FIELDS), check);
  check.doneWith(ADDITION_NAMES, () => additionViolations({ instanceId: "inst_0123456789abcdef", ...asked }));
  return asked;
}

/** Every field a refused body names, in the body's order. */
function refusedFields(body: unknown, of: (body: unknown) => unknown): string[] {
  try {
    of(body);
  } catch (err) {
    if (err instanceof RestError) return err.violations.map((v) => v.field);
    throw err;
  }
  throw new Error("parsed");
}

function refusal(body: unknown, of: (body: unknown) => unknown = parse): [string | undefined, string] {
  try {
    of(body);
  } catch (err) {
    if (err instanceof RestError) return [err.field, err.message];
    throw err;
  }
  throw new Error("parsed");
}

describe("PUT /api/pool/agents/{id}/permissions body", () => {
  it("takes each field by its name and leaves out those not given, for the claims service to fill with the defaults", () => {
    expect(parse({ member_crypto: "refuse", outsider_reply: "answer" }).permissions).toEqual({
      memberCrypto: Grant.REFUSE,
      outsiderReply: OutsiderReply.ANSWER,
    });
    expect(
      parse({ member_sms: "allow", member_email: "ask", member_crypto: "refuse", outsider_reply: "none" }).permissions,
    ).toEqual({
      memberSms: Grant.ALLOW,
      memberEmail: Grant.ASK,
      memberCrypto: Grant.REFUSE,
      outsiderReply: OutsiderReply.NONE,
    });
    expect(parse({ approvals: "direct" }).permissions).toEqual({ approvals: ApprovalPlace.DIRECT });
    expect(parse({ approvals: "conversation" }).permissions).toEqual({ approvals: ApprovalPlace.CONVERSATION });
    expect(parse({})).toEqual({ permissions: {}, ownerSignature: undefined });
    expect(parse({ owner_signature: { signature: "0xab", issued_at: 5, nonce: "0xcd" } }).ownerSignature).toMatchObject(
      { signature: "0xab", issuedAt: 5n, nonce: "0xcd" },
    );
  });

  it("refuses a name it does not know, naming the field and the names it takes", () => {
    expect(refusal({ member_sms: "yes" })).toEqual(["member_sms", 'member_sms: must be "allow" or "ask" or "refuse"']);
    expect(refusal({ member_email: 1 })[0]).toBe("member_email");
    expect(refusal({ member_crypto: "none" })[0]).toBe("member_crypto");
    // A grant is not a reply to an outsider, nor the other way round.
    expect(refusal({ outsider_reply: "allow" })).toEqual([
      "outsider_reply",
      'outsider_reply: must be "none" or "ask" or "answer"',
    ]);
    expect(refusal({ approvals: "dm" })).toEqual(["approvals", 'approvals: must be "conversation" or "direct"']);
    expect(refusal({ approvals: 2 })[0]).toBe("approvals");
    expect(refusal({ member_sms: "refuse", colour: "red" })[0]).toBe("colour");
    expect(refusal({ outsiderReply: "none" })[1]).toBe("outsiderReply: unknown field; did you mean outsider_reply?");
  });

  it("names every bad field of one body at once", () => {
    expect(
      refusedFields({ member_sms: "yes", member_crypto: "refuse", outsider_reply: "allow", approvals: 2 }, parse),
    ).toEqual(["member_sms", "outsider_reply", "approvals"]);
    expect(refusedFields({ member_email: 1, owner_signature: { signature: "0x00", issued_at: 1 } }, parse)).toEqual([
      "member_email",
      "owner_signature.nonce",
    ]);
  });

  it("names the claims service's `permissions.member_sms` as the body does", () => {
    expect(PERMISSIONS_ERRORS.field("permissions.member_sms", () => false)).toBe("member_sms");
    expect(PERMISSIONS_ERRORS.field("owner_signature.nonce", () => false)).toBe("owner_signature.nonce");
  });
});

/** Every field AgentJson declares, once: a field it lacks or adds fails tsc here. */
const AGENT_FIELDS: Record<keyof AgentJson, true> = {
  id: true,
  template_id: true,
  owner_id: true,
  parent_instance_id: true,
  inbox_id: true,
  conversation_id: true,
  state: true,
  model: true,
  model_overridden: true,
  tools: true,
  agent_name: true,
  pending_owner_id: true,
  trust_level: true,
  daily_spend_limit_wei: true,
  daily_spend_limit_kind: true,
  conversation_name: true,
  conversations: true,
  template_delisting: true,
  permissions: true,
  participation: true,
  sync: true,
  created_at: true,
  claimed_at: true,
  inheritance: true,
};

describe("an agent's JSON", () => {
  it("has exactly the fields AgentJson declares, the type the CLI reads it as, with every message field set", () => {
    const now = timestampFromDate(new Date("2026-11-29T10:00:00Z"));
    const full = create(InstanceSchema, {
      id: "inst_1",
      sync: {},
      createdAt: now,
      claimedAt: now,
      inheritance: {},
      templateDelisting: { reason: "spam", delistedAt: now },
    });
    expect(Object.keys(instanceToJson(full)).sort()).toEqual(Object.keys(AGENT_FIELDS).sort());
    // Unset message fields are absent: only the optional ones.
    const bare = Object.keys(instanceToJson(create(InstanceSchema, { id: "inst_2" })));
    expect(
      Object.keys(AGENT_FIELDS)
        .filter((f) => !bare.includes(f))
        .sort(),
    ).toEqual(["claimed_at", "created_at", "inheritance", "sync"].sort());
  });
});

describe("an agent's permissions in its JSON", () => {
  it("are by name, the defaults when its owner never set them", () => {
    expect(instanceToJson(create(InstanceSchema, { id: "inst_1" }))).toMatchObject({
      id: "inst_1",
      permissions: {
        member_sms: "ask",
        member_email: "ask",
        member_crypto: "ask",
        outsider_reply: "none",
        approvals: "conversation",
      },
    });
    const set = permissionsMessage({
      memberSms: Grant.REFUSE,
      outsiderReply: OutsiderReply.ASK,
      approvals: ApprovalPlace.DIRECT,
    });
    expect(instanceToJson(create(InstanceSchema, { id: "inst_2", permissions: set }))).toMatchObject({
      permissions: {
        member_sms: "refuse",
        member_email: "ask",
        member_crypto: "ask",
        outsider_reply: "ask",
        approvals: "direct",
      },
    });
    // A value this gateway does not know (a newer agent's): shown as that field's default.
    expect(
      permissionsToJson({
        ...set,
        memberEmail: 9 as Grant,
        outsiderReply: 9 as OutsiderReply,
        approvals: 9 as ApprovalPlace,
      }),
    ).toMatchObject({ member_email: "ask", outsider_reply: "none", approvals: "conversation" });
    // An agent's permissions set before an owner could choose where: asked in the conversation.
    const before = create(InstanceSchema, { permissions: { ...set, approvals: ApprovalPlace.UNSPECIFIED } });
    expect(instanceToJson(before)).toMatchObject({ permissions: { approvals: "conversation" } });
  });
});

describe("PUT /api/pool/agents/{id}/participation body", () => {
  it("takes the mode by its name and the cooldown in seconds, and leaves out those not given, for the claims service to fill with the defaults", () => {
    expect(parseParticipation({ mode: "mention", cooldown_seconds: 60 }).participation).toEqual({
      mode: ParticipationMode.MENTION,
      cooldownSeconds: 60,
    });
    expect(parseParticipation({ mode: "auto" }).participation).toEqual({ mode: ParticipationMode.UNSPECIFIED });
    expect(parseParticipation({ cooldown_seconds: 86_400 }).participation).toEqual({ cooldownSeconds: 86_400 });
    expect(parseParticipation({})).toEqual({ participation: {}, ownerSignature: undefined });
  });

  it("refuses a mode it does not know and a cooldown that is not 0 to a day in whole seconds, naming the field", () => {
    expect(refusal({ mode: "loud" }, parseParticipation)).toEqual([
      "mode",
      'mode: must be "auto" or "speak" or "mention" or "paused"',
    ]);
    expect(refusal({ mode: "PARTICIPATION_MODE_SPEAK" }, parseParticipation)[0]).toBe("mode");
    expect(refusal({ mode: 2 }, parseParticipation)[0]).toBe("mode");
    expect(refusal({ cooldown_seconds: -1 }, parseParticipation)).toEqual([
      "cooldown_seconds",
      "cooldown_seconds: must be at least 0",
    ]);
    expect(refusal({ cooldown_seconds: 1.5 }, parseParticipation)[0]).toBe("cooldown_seconds");
    expect(refusal({ cooldown_seconds: "60" }, parseParticipation)[0]).toBe("cooldown_seconds");
    expect(refusal({ cooldown_seconds: 2 ** 32 }, parseParticipation)).toEqual([
      "cooldown_seconds",
      'cooldown_seconds: must be at most 86400 (a day; "paused" is longer)',
    ]);
    // Past a day, but a uint32: the claims service's to refuse, beside the request's other faults.
    expect(parseParticipation({ cooldown_seconds: 86_401 }).participation).toEqual({ cooldownSeconds: 86_401 });
    expect(refusal({ cooldownSeconds: 5 }, parseParticipation)[1]).toBe(
      "cooldownSeconds: unknown field; did you mean cooldown_seconds?",
    );
  });

  it("names a bad mode and a bad cooldown at once", () => {
    expect(refusedFields({ mode: "loud", cooldown_seconds: 86_401 }, parseParticipation)).toEqual([
      "mode",
      "cooldown_seconds",
    ]);
    expect(refusedFields({ mode: 2, cooldown_seconds: "60", owner_signature: 1 }, parseParticipation)).toEqual([
      "mode",
      "cooldown_seconds",
      "owner_signature",
    ]);
  });

  it("names the claims service's `participation.cooldown_seconds` as the body does", () => {
    expect(PARTICIPATION_ERRORS.field("participation.cooldown_seconds", () => false)).toBe("cooldown_seconds");
    expect(PARTICIPATION_ERRORS.field("participation.mode", () => false)).toBe("mode");
  });
});

describe("when an agent speaks, in its JSON", () => {
  it("is its mode by name and its cooldown, auto and 0 when its owner never set them", () => {
    expect(instanceToJson(create(InstanceSchema, { id: "inst_1" }))).toMatchObject({
      participation: { mode: "auto", cooldown_seconds: 0 },
    });
    const set = create(ParticipationSchema, { mode: ParticipationMode.PAUSED, cooldownSeconds: 30 });
    expect(instanceToJson(create(InstanceSchema, { id: "inst_2", participation: set }))).toMatchObject({
      participation: { mode: "paused", cooldown_seconds: 30 },
    });
    // A mode this gateway does not know (a newer agent's): shown as the default.
    expect(participationToJson({ ...set, mode: 9 as ParticipationMode })).toEqual({
      mode: "auto",
      cooldown_seconds: 30,
    });
  });
});

const INVITE = "https://dev.convos.org/v2?i=dinner-club";
const GROUP = "c0ffee".padEnd(32, "0");

describe("POST /api/pool/agents/{id}/conversations body", () => {
  it("takes the invite, the participation and tools there by name, and the second agent's confirmation", () => {
    const sig = { signature: "0xab", issued_at: 5, nonce: "0xcd" };
    expect(
      parseAdd({
        conversation_invite: INVITE,
        owner_signature: sig,
        participation: { mode: "mention", cooldown_seconds: 60 },
        tools: "none",
        confirm_second_agent: true,
      }),
    ).toMatchObject({
      conversationInvite: INVITE,
      ownerSignature: { signature: "0xab", issuedAt: 5n, nonce: "0xcd" },
      participation: { mode: ParticipationMode.MENTION, cooldownSeconds: 60 },
      tools: ConversationTools.NONE,
      confirmSecondAgent: true,
    });
    expect(parseAdd({ conversation_invite: INVITE, tools: "shared" }).tools).toBe(ConversationTools.SHARED);
    // Left out: unset, for the claims service to fill with the defaults the owner signed (auto, 0; shared).
    expect(parseAdd({ conversation_invite: INVITE })).toEqual({
      conversationInvite: INVITE,
      ownerSignature: undefined,
      participation: undefined,
      tools: ConversationTools.UNSPECIFIED,
      confirmSecondAgent: false,
    });
    expect(parseAdd({ conversation_invite: INVITE, participation: { mode: "paused" } }).participation).toEqual({
      mode: ParticipationMode.PAUSED,
    });
  });

  it("sends an invite left out, blank or a conversation ID on for the service, which names it beside REST's own faults", () => {
    expect(parseAdd({}).conversationInvite).toBe("");
    expect(parseAdd({ conversation_invite: GROUP }).conversationInvite).toBe(GROUP);
    expect(refusedFields({ conversation_invite: " ", tools: "all" }, parseAdd)).toEqual([
      "tools",
      "conversation_invite",
    ]);
    expect(refusal({ conversation_invite: GROUP, tools: "all" }, parseAdd)[1]).toMatch(
      /; conversation_invite: is a conversation ID; an agent joins a conversation through its invite/,
    );
  });

  it("refuses a bad participation or tools, naming the field", () => {
    expect(refusal({ conversation_invite: 7 }, parseAdd)).toEqual([
      "conversation_invite",
      "conversation_invite: must be a string",
    ]);
    expect(refusal({ conversation_invite: INVITE, participation: { mode: "loud" } }, parseAdd)).toEqual([
      "participation.mode",
      'participation.mode: must be "auto" or "speak" or "mention" or "paused"',
    ]);
    // Past a day: the claims service's to refuse, but named beside a fault REST refuses itself.
    expect(
      parseAdd({ conversation_invite: INVITE, participation: { cooldown_seconds: 86_401 } }).participation,
    ).toEqual({
      cooldownSeconds: 86_401,
    });
    expect(
      refusedFields(
        { conversation_invite: INVITE, participation: { cooldown_seconds: 86_401 }, tools: "some" },
        parseAdd,
      ),
    ).toEqual(["tools", "participation.cooldown_seconds"]);
    expect(refusal({ conversation_invite: INVITE, participation: { cooldownSeconds: 5 } }, parseAdd)[1]).toBe(
      "participation.cooldownSeconds: unknown field; did you mean cooldown_seconds?",
    );
    expect(refusal({ conversation_invite: INVITE, participation: "mention" }, parseAdd)[0]).toBe("participation");
    expect(refusal({ conversation_invite: INVITE, tools: "all" }, parseAdd)).toEqual([
      "tools",
      'tools: must be "shared" or "none"',
    ]);
    expect(refusal({ conversation_invite: INVITE, tools: 2 }, parseAdd)[0]).toBe("tools");
    expect(refusal({ conversation_invite: INVITE, confirm_second_agent: "yes" }, parseAdd)[0]).toBe(
      "confirm_second_agent",
    );
    expect(refusal({ conversation_invite: INVITE, owner_signature: { signature: "0x00" } }, parseAdd)[0]).toBe(
      "owner_signature.issued_at",
    );
    expect(refusal({ conversationInvite: INVITE }, parseAdd)[1]).toBe(
      "conversationInvite: unknown field; did you mean conversation_invite?",
    );
  });

  it("names every bad field of one body at once", () => {
    expect(
      refusedFields(
        { conversation_invite: GROUP, participation: { mode: "loud", cooldown_seconds: -1 }, tools: "all" },
        parseAdd,
      ),
    ).toEqual(["participation.mode", "participation.cooldown_seconds", "tools", "conversation_invite"]);
    expect(refusedFields({ tools: 2, confirm_second_agent: "yes" }, parseAdd)).toEqual([
      "tools",
      "confirm_second_agent",
      "conversation_invite",
    ]);
  });

  it("names the claims service's fields as the body and the path do", () => {
    for (const field of ["participation.mode", "tools", "conversation_invite", "conversation_id"])
      expect(AGENT_ERRORS.field(field, () => false)).toBe(field);
  });
});

describe("an agent's conversations, in its JSON", () => {
  it("are each by id and name, the home marked, its state, participation and tools by name", () => {
    const joinedAt = new Date("2026-11-28T10:00:00.000Z");
    const home = create(AgentConversationSchema, {
      conversationId: GROUP,
      name: "Trip",
      home: true,
      state: AgentConversationState.JOINED,
      participation: { mode: ParticipationMode.SPEAK, cooldownSeconds: 30 },
      tools: ConversationTools.SHARED,
      joinedAt: timestampFromDate(joinedAt),
    });
    const joining = create(AgentConversationSchema, { state: AgentConversationState.JOINING });
    expect(instanceToJson(create(InstanceSchema, { id: "inst_1", conversations: [home, joining] }))).toMatchObject({
      conversations: [
        {
          id: GROUP,
          name: "Trip",
          home: true,
          state: "joined",
          participation: { mode: "speak", cooldown_seconds: 30 },
          tools: "shared",
          joined_at: "2026-11-28T10:00:00.000Z",
        },
        {
          id: "",
          name: "",
          home: false,
          state: "joining",
          participation: { mode: "auto", cooldown_seconds: 0 },
          tools: "shared",
          joined_at: null,
        },
      ],
    });
    expect(instanceToJson(create(InstanceSchema, { id: "inst_2" }))).toMatchObject({ conversations: [] });
    const states = [
      AgentConversationState.REJOINING,
      AgentConversationState.LEAVING,
      AgentConversationState.UNSPECIFIED,
      9 as AgentConversationState,
    ].map((state) => conversationToJson({ ...home, state }).state);
    expect(states).toEqual(["rejoining", "leaving", "", ""]);
    // Tools off there; unset is shared, as the proto says; a value this gateway does not know is the default.
    expect(conversationToJson({ ...home, tools: ConversationTools.NONE }).tools).toBe("none");
    expect(conversationToJson({ ...home, tools: ConversationTools.UNSPECIFIED }).tools).toBe("shared");
    expect(conversationToJson({ ...home, tools: 9 as ConversationTools }).tools).toBe("shared");
  });
});
