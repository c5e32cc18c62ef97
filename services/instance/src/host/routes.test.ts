// The agent's calls of one agent in several conversations
// (docs/design/one-agent-many-conversations.md): the real InstanceService
// handlers over an in-memory Connect transport, handing a recording agent
// what they were asked, or none.
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { createInstanceService } from "./routes.js";
import type { Agent } from "../agent/face/agent.js";
import { refusal } from "@convos-pool/kit/testing";

// As the host answers a call for an instance it does not run.
const noAgent = (): never => {
  throw new ConnectError("no agent behind these routes", Code.NotFound);
};
const transport = createRouterTransport((router) => {
  router.service(InstanceService, createInstanceService(noAgent));
});
const agent = createClient(InstanceService, transport);

describe("the agent's calls of several conversations", () => {
  // What the routes hand the agent, recorded: the agent's own checks are tested on the real host (conversations.int.test.ts).
  const asked: unknown[][] = [];
  const recording = {
    addConversation: async (req: { conversationInvite: string }) => {
      asked.push(["add", req.conversationInvite]);
      return "c".repeat(32);
    },
    leaveConversation: async (req: { conversationId: string }) => {
      asked.push(["leave", req.conversationId]);
      return "h".repeat(32);
    },
    countMembers: async (conversationId?: string) => {
      asked.push(["count", conversationId]);
      return 3;
    },
  } as unknown as Agent;
  const routed = createClient(
    InstanceService,
    createRouterTransport((router) =>
      router.service(
        InstanceService,
        createInstanceService(() => recording),
      ),
    ),
  );

  it("hands the agent an addition and a leave, and answers with the conversation joined and the home after", async () => {
    asked.length = 0;
    expect((await routed.addConversation({ conversationInvite: "https://x" })).conversationId).toBe("c".repeat(32));
    expect((await routed.leaveConversation({ conversationId: "ab12" })).homeConversationId).toBe("h".repeat(32));
    expect(asked).toEqual([
      ["add", "https://x"],
      ["leave", "ab12"],
    ]);
  });

  it("counts the home's members for an empty conversation_id, and the named conversation's otherwise", async () => {
    asked.length = 0;
    await routed.countMembers({});
    await routed.countMembers({ conversationId: "ab12" });
    expect(asked).toEqual([
      ["count", undefined],
      ["count", "ab12"],
    ]);
  });

  it("answers for an instance the host does not run as the host does", async () => {
    const count = await refusal(agent.countMembers({}));
    expect(count.code).toBe(Code.NotFound);
    expect(count.rawMessage).toBe("no agent behind these routes");
  });
});
