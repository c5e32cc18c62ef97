// Adding the agent to another conversation and taking it out of one: the
// plans, in memory. The owner's signature is checked as the agent will check
// it (platform/owner-signature.ts, a real verifier) over the planned fields:
// a signature for another invite, tools, participation or instance fails.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConversationTools, ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  AddConversationRequestSchema,
  type AddConversationRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import {
  DerivedInboxResolver,
  LOCAL_POOL_ID,
  SignatureVerifier,
  inviteHash,
  signAddToConversation,
} from "@convos-pool/kit/signing";
import { newIdentity } from "@convos-pool/kit/testing";
import { checkOwnerSignature } from "../../platform/owner-signature.js";
import {
  MAX_CONVERSATIONS,
  nextHome,
  planAdd,
  planLeave,
  type AgentNow,
  type HeldConversation,
} from "./conversations.js";

const OWNER = newIdentity();
const INSTANCE = "inst_agent";
const INVITE = "https://dev.convos.org/v2?i=dinner-club";
const HOME = "aa".repeat(16);
const TRIP = "bb".repeat(16);

const held = (conversationId: string, joinedAt: string, invite?: string): HeldConversation => ({
  conversationId,
  joinedAt,
  inviteHash: invite && inviteHash(invite),
});

const agent = (over: Partial<AgentNow> = {}): AgentNow => ({
  claimed: true,
  home: HOME,
  conversations: [held(HOME, "2026-11-01T00:00:00.000Z", "https://dev.convos.org/v2?i=home")],
  ...over,
});

async function request(
  signed: Parameters<typeof signAddToConversation>[1],
  sent: Partial<Parameters<typeof signAddToConversation>[1]> = {},
): Promise<AddConversationRequest> {
  const signature = await signAddToConversation(OWNER.account, signed, undefined, LOCAL_POOL_ID);
  const s = { ...signed, ...sent };
  return create(AddConversationRequestSchema, {
    conversationInvite: s.conversationInvite,
    authorization: {
      ownerId: s.ownerId,
      ...(s.participation && { participation: s.participation }),
      ...(s.tools !== undefined && { tools: s.tools }),
      ...(s.secondAgent !== undefined && { secondAgent: s.secondAgent }),
      signature,
    },
  });
}

const asSigned = {
  ownerId: OWNER.inboxId,
  instanceId: INSTANCE,
  conversationInvite: INVITE,
  participation: { mode: ParticipationMode.MENTION, cooldownSeconds: 30 },
  tools: ConversationTools.NONE,
};

/** The plan's signature check as the agent makes it: this agent, its owner, a nonce never spent. */
async function check(req: AddConversationRequest, instanceId = INSTANCE) {
  const plan = planAdd(req, agent());
  if (plan.kind !== "join") throw new Error(`planned ${plan.kind}`);
  const spent = new Set<string>();
  return checkOwnerSignature(
    {
      instanceId,
      ownerId: OWNER.inboxId,
      verifier: new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() }),
      spendNonce: async (n) => !spent.has(n) && Boolean(spent.add(n)),
    },
    plan.ownerId,
    "AddToConversation",
    plan.fields,
    req.authorization?.signature,
  );
}

const codeOf = (f: () => unknown) => {
  try {
    f();
    return "planned";
  } catch (e) {
    return `${Code[ConnectError.from(e).code]}: ${ConnectError.from(e).rawMessage}`;
  }
};

const rejected = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => Code[ConnectError.from(e).code],
  );

describe("adding the agent to a conversation", () => {
  it("joins where the owner signed: the invite, its participation and tools there, for this agent", async () => {
    const req = await request(asSigned);
    expect(planAdd(req, agent())).toMatchObject({ kind: "join", invite: INVITE, ownerId: OWNER.inboxId });
    await expect(check(req)).resolves.toBeDefined();
  });

  it("refuses a signature for another invite, other tools, another participation or another agent", async () => {
    const signed = await request(asSigned);
    expect(await rejected(check(await request(asSigned, { conversationInvite: `${INVITE}-b` })))).toBe(
      "PermissionDenied",
    );
    expect(await rejected(check(await request(asSigned, { tools: ConversationTools.SHARED })))).toBe(
      "PermissionDenied",
    );
    expect(
      await rejected(
        check(await request(asSigned, { participation: { mode: ParticipationMode.SPEAK, cooldownSeconds: 30 } })),
      ),
    ).toBe("PermissionDenied");
    expect(await rejected(check(await request(asSigned, { secondAgent: true })))).toBe("PermissionDenied");
    expect(await rejected(check(signed, "inst_another"))).toBe("PermissionDenied");
  });

  it("answers the conversation it is in already for the same invite, with nothing joined", async () => {
    const req = await request(asSigned);
    const there = agent({ conversations: [...agent().conversations, held(TRIP, "2026-11-02T00:00:00.000Z", INVITE)] });
    expect(planAdd(req, there)).toEqual({ kind: "in", conversationId: TRIP });
    // The invite as pasted, with spaces around it, is the same invite.
    expect(planAdd(await request({ ...asSigned, conversationInvite: ` ${INVITE}\n` }), there)).toEqual({
      kind: "in",
      conversationId: TRIP,
    });
  });

  it("refuses, naming the field, what it cannot do", async () => {
    const req = await request(asSigned);
    expect(
      codeOf(() => planAdd(create(AddConversationRequestSchema, { authorization: req.authorization }), agent())),
    ).toMatch(/^InvalidArgument: conversation_invite/);
    expect(
      codeOf(() => planAdd(create(AddConversationRequestSchema, { conversationInvite: INVITE }), agent())),
    ).toMatch(/^InvalidArgument: authorization.signature/);
    expect(codeOf(() => planAdd(req, agent({ claimed: false })))).toMatch(/^FailedPrecondition/);
    const full = Array.from({ length: MAX_CONVERSATIONS }, (_, i) =>
      held(i.toString(16).padStart(32, "0"), "2026-11-01T00:00:00.000Z"),
    );
    expect(codeOf(() => planAdd(req, agent({ conversations: full })))).toMatch(
      /^FailedPrecondition: .*conversation_invite/,
    );
    expect(codeOf(() => planAdd(req, agent({ conversations: full.slice(1) })))).toBe("planned");
  });
});

describe("taking the agent out of a conversation", () => {
  const two = agent({
    conversations: [held(HOME, "2026-11-01T00:00:00.000Z"), held(TRIP, "2026-11-02T00:00:00.000Z")],
  });

  it("leaves an added conversation and keeps its home", () => {
    expect(planLeave(TRIP, two)).toEqual({ conversationId: TRIP, home: HOME });
  });

  it("leaves its home for the oldest conversation left", () => {
    expect(planLeave(HOME, two)).toEqual({ conversationId: HOME, home: TRIP });
  });

  it("refuses its last conversation, one it is not in, and none, naming conversation_id", () => {
    expect(codeOf(() => planLeave(HOME, agent()))).toMatch(/^FailedPrecondition: .*conversation_id/);
    expect(codeOf(() => planLeave("cc".repeat(16), two))).toMatch(/^NotFound: conversation_id/);
    expect(codeOf(() => planLeave("", two))).toMatch(/^InvalidArgument: conversation_id/);
  });
});

describe("the next home", () => {
  const conversations = fc.array(
    fc.record({
      conversationId: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 4, maxLength: 8 }),
      joinedAt: fc.constantFrom("2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z"),
    }),
    { maxLength: 12 },
  );

  it("is the oldest joined, then the smallest id, whatever the order listed; none when none is left", () => {
    fc.assert(
      fc.property(conversations, (cs) => {
        const home = nextHome(cs);
        if (cs.length === 0) return home === undefined;
        const sorted = [...cs].sort((a, b) =>
          a.joinedAt === b.joinedAt
            ? a.conversationId.localeCompare(b.conversationId)
            : a.joinedAt.localeCompare(b.joinedAt),
        );
        return home === sorted[0]!.conversationId && nextHome([...cs].reverse()) === home;
      }),
    );
  });
});
