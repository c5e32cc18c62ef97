// The owner's calls of one agent in several conversations
// (docs/design/one-agent-many-conversations.md), published in the contract
// before their flows: the real ClaimService and AgentMemoryService handlers
// over an in-memory Connect transport, with no database, verifier or host
// behind them (none of these calls reaches one).
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { createAgentMemoryService, type AgentMemoryServiceDeps } from "../memory/service.js";
import { createClaimService, type ClaimServiceDeps } from "./service.js";
import { refusal } from "@convos-pool/kit/testing";

const transport = createRouterTransport((router) => {
  router.service(ClaimService, createClaimService({} as ClaimServiceDeps));
  router.service(AgentMemoryService, createAgentMemoryService({} as AgentMemoryServiceDeps));
});
const claims = createClient(ClaimService, transport);
const memory = createClient(AgentMemoryService, transport);

describe("the calls of one agent in several conversations, before their flows", () => {
  it("answers UNIMPLEMENTED to adding an agent to a conversation, and to removing it from one", async () => {
    const add = await refusal(claims.addToConversation({ instanceId: "inst_1", conversationInvite: "https://x" }));
    expect(add.code).toBe(Code.Unimplemented);
    expect(add.rawMessage).toMatch(/not available yet/);
    const remove = await refusal(claims.removeFromConversation({ instanceId: "inst_1", conversationId: "ab12" }));
    expect(remove.code).toBe(Code.Unimplemented);
  });

  it("answers UNIMPLEMENTED to participation in a named conversation, naming the field, before anything is checked", async () => {
    const err = await refusal(claims.setParticipation({ instanceId: "inst_1", conversationId: "ab12" }));
    expect(err.code).toBe(Code.Unimplemented);
    expect(err.rawMessage).toMatch(/^conversation_id:/);
  });

  it("answers UNIMPLEMENTED to sharing memory across conversations", async () => {
    const err = await refusal(
      memory.shareMemory({ instanceId: "inst_1", entryIds: ["mem_0123456789ab"], share: true }),
    );
    expect(err.code).toBe(Code.Unimplemented);
  });
});
