// The owner's calls of one agent in several conversations
// (docs/design/one-agent-many-conversations.md): the real ClaimService
// handlers composed with these calls as the server composes them
// (server.ts), over an in-memory Connect transport, with no database,
// verifier or host behind them: what is refused before any is reached. The
// flows themselves: conversations.int.test.ts and participation.int.test.ts.
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { createLogger, DEFAULT_LIMITS } from "@convos-pool/kit/server";
import { refusal } from "@convos-pool/kit/testing";
import { createClaimService, type ClaimServiceDeps } from "../claim/service.js";
import { ConversationFlow, type ConversationFlowDeps } from "./flow.js";
import { createConversationService } from "./service.js";

const flow = new ConversationFlow({
  limits: DEFAULT_LIMITS,
  log: createLogger("claims", { level: "silent" }),
} as ConversationFlowDeps);
const transport = createRouterTransport((router) => {
  router.service(
    ClaimService,
    createClaimService({ conversations: createConversationService(flow) } as ClaimServiceDeps),
  );
});
const claims = createClient(ClaimService, transport);

describe("adding an agent to a conversation and removing it from one, over Connect", () => {
  const signature = { signature: "0x00", issuedAt: 1n, nonce: "0x00" };

  it("refuses a missing field with INVALID_ARGUMENT naming it, before anything is read", async () => {
    const noId = await refusal(
      claims.addToConversation({ conversationInvite: "https://x", ownerSignature: signature }),
    );
    expect([noId.code, noId.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^instance_id:/)]);
    const noInvite = await refusal(claims.addToConversation({ instanceId: "inst_0123456789abcdef" }));
    expect([noInvite.code, noInvite.rawMessage]).toEqual([
      Code.InvalidArgument,
      expect.stringMatching(/^conversation_invite:/),
    ]);
    const noGroup = await refusal(claims.removeFromConversation({ instanceId: "inst_0123456789abcdef" }));
    expect([noGroup.code, noGroup.rawMessage]).toEqual([
      Code.InvalidArgument,
      expect.stringMatching(/^conversation_id:/),
    ]);
  });

  it("refuses either without the owner's signature with UNAUTHENTICATED naming owner_signature", async () => {
    const add = await refusal(
      claims.addToConversation({ instanceId: "inst_0123456789abcdef", conversationInvite: "https://x" }),
    );
    expect([add.code, add.rawMessage]).toEqual([Code.Unauthenticated, expect.stringMatching(/^owner_signature:/)]);
    const remove = await refusal(
      claims.removeFromConversation({ instanceId: "inst_0123456789abcdef", conversationId: "ab".repeat(16) }),
    );
    expect([remove.code, remove.rawMessage]).toEqual([
      Code.Unauthenticated,
      expect.stringMatching(/^owner_signature:/),
    ]);
  });

  it("refuses an invite that is not a Convos invite, naming conversation_invite", async () => {
    const err = await refusal(
      claims.addToConversation({
        instanceId: "inst_0123456789abcdef",
        conversationInvite: "not an invite",
        ownerSignature: signature,
      }),
    );
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^conversation_invite:/)]);
  });
});

describe("participation in a named conversation, over Connect", () => {
  it("refuses a conversation_id that is no group id with INVALID_ARGUMENT naming it, before anything is read", async () => {
    const err = await refusal(
      claims.setParticipation({ instanceId: "inst_0123456789abcdef", conversationId: "ab12", ownerSignature: {} }),
    );
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^conversation_id:/)]);
  });

  it("refuses it without the owner's SetConversationParticipation, even for a session: UNAUTHENTICATED naming owner_signature", async () => {
    const err = await refusal(
      claims.setParticipation({ instanceId: "inst_0123456789abcdef", conversationId: "ab".repeat(16) }),
    );
    expect([err.code, err.rawMessage]).toEqual([
      Code.Unauthenticated,
      expect.stringMatching(/^owner_signature: .*SetConversationParticipation/),
    ]);
  });
});
