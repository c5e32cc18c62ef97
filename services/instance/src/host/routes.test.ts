// The agent's calls of one agent in several conversations
// (docs/design/one-agent-many-conversations.md), published in the contract
// before the agent holds several: the real InstanceService and
// InstanceMemoryService handlers over an in-memory Connect transport. No
// agent stands behind them: none of these calls may reach one.
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { InstanceMemoryService } from "@convos-pool/gen/convos/pool/v1/instance_memory_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { createInstanceMemoryService } from "../memory/service.js";
import { createInstanceService } from "./routes.js";
import { refusal } from "@convos-pool/kit/testing";

// As the host answers a call for an instance it does not run.
const noAgent = (): never => {
  throw new ConnectError("no agent behind these routes", Code.NotFound);
};
const transport = createRouterTransport((router) => {
  router.service(InstanceService, createInstanceService(noAgent));
  router.service(InstanceMemoryService, createInstanceMemoryService(noAgent));
});
const agent = createClient(InstanceService, transport);
const memory = createClient(InstanceMemoryService, transport);

describe("the agent's calls of several conversations, before it holds them", () => {
  it("answers UNIMPLEMENTED to joining another conversation and to leaving one", async () => {
    const add = await refusal(agent.addConversation({ conversationInvite: "https://x" }));
    expect(add.code).toBe(Code.Unimplemented);
    expect(add.rawMessage).toMatch(/not available yet/);
    const leave = await refusal(agent.leaveConversation({ ownerId: "owner", conversationId: "ab12" }));
    expect(leave.code).toBe(Code.Unimplemented);
  });

  it("answers UNIMPLEMENTED, naming the field, to participation or a count in a conversation other than the home", async () => {
    const set = await refusal(agent.setParticipation({ ownerId: "owner", conversationId: "ab12" }));
    expect(set.code).toBe(Code.Unimplemented);
    expect(set.rawMessage).toMatch(/^conversation_id:/);
    const count = await refusal(agent.countMembers({ conversationId: "ab12" }));
    expect(count.code).toBe(Code.Unimplemented);
    expect(count.rawMessage).toMatch(/^conversation_id:/);
  });

  it("still asks the agent for its home's count (an empty conversation_id)", async () => {
    const count = await refusal(agent.countMembers({}));
    expect(count.code).toBe(Code.NotFound);
    expect(count.rawMessage).toBe("no agent behind these routes");
  });

  it("answers UNIMPLEMENTED to sharing memory across conversations", async () => {
    const err = await refusal(memory.shareMemory({ ownerId: "owner", entryIds: ["mem_0123456789ab"], share: true }));
    expect(err.code).toBe(Code.Unimplemented);
  });
});
