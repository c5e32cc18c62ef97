// The pure checks of an addition to a conversation and of a participation in
// a named one (conversation-request.ts), which the claims service and the
// gateway's REST face both run. Nothing stands in: plain values.
import { ConversationTools, ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import { additionViolations, participationInViolations } from "./conversation-request.js";

const AGENT = "inst_0123456789abcdef";
const fields = (violations: { field: string }[]) => violations.map((v) => v.field);

describe("additionViolations", () => {
  it("names the agent, the invite, the participation and the tools at once", () => {
    const wrong = additionViolations({
      instanceId: "inst_x",
      conversationInvite: ` ${"ab".repeat(16)} `,
      participation: { mode: 9 as ParticipationMode, cooldownSeconds: 86_401 },
      tools: 7 as ConversationTools,
    });
    expect(fields(wrong)).toEqual([
      "instance_id",
      "conversation_invite",
      "participation.mode",
      "participation.cooldown_seconds",
      "tools",
    ]);
  });

  it("takes an invite with the defaults left out", () => {
    const ok = {
      instanceId: AGENT,
      conversationInvite: "https://dev.convos.org/v2?i=x",
      tools: ConversationTools.UNSPECIFIED,
    };
    expect(additionViolations(ok)).toEqual([]);
  });
});

describe("participationInViolations", () => {
  it("names the agent, the conversation and the participation at once", () => {
    const wrong = participationInViolations({
      instanceId: "",
      conversationId: "ABC",
      participation: { mode: 9 as ParticipationMode },
    });
    expect(fields(wrong)).toEqual(["instance_id", "conversation_id", "participation.mode"]);
  });

  it("takes a group id with a known mode", () => {
    const ok = {
      instanceId: AGENT,
      conversationId: "c0ffee".padEnd(32, "0"),
      participation: { mode: ParticipationMode.MENTION },
    };
    expect(participationInViolations(ok)).toEqual([]);
  });
});
