// A draft's turn (draft.ts): the prompt an agent of it would get, with
// nothing behind it, and tools that never run, through the offline model.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DraftLineSchema } from "@convos-pool/gen/convos/pool/v1/draft_chat_pb.js";
import { contentFromJson } from "@convos-pool/kit/content";
import { sampleContent } from "@convos-pool/kit/testing";
import { OfflineProvider } from "../model/offline.js";
import { turnMessages } from "../model/prompt.js";
import { DRAFT_CONTEXT, NOT_RUN, answerDraft, draftTurn } from "./draft.js";

const content = contentFromJson(sampleContent({ instructions: "Plan trips to Japan." }));
const line = (text: string, fromAgent = false) => create(DraftLineSchema, { text, fromAgent });

describe("draftTurn", () => {
  it("is an agent's prompt of the draft: its IDENTITY.md, the test chat's note, no memory, the creator as owner", () => {
    const turn = draftTurn(content, [line("Hi"), line("Hello", true), line("Where in April?")]);
    const [system, ...rest] = turnMessages({ ...turn });
    expect(system?.content).toContain("Plan trips to Japan.");
    expect(system?.content).toContain(DRAFT_CONTEXT);
    expect(turn.memory.entries).toEqual([]);
    expect(rest).toEqual([
      { role: "user", content: "[owner] creator: Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "[owner] creator: Where in April?" },
    ]);
    expect(turn.model).toBe("gpt-oss-20b");
    // Only the pool tools it declares; a user tool (personal-email) is no function.
    expect(turn.functions?.map((f) => f.name)).toEqual(["send_sms"]);
  });
});

describe("answerDraft", () => {
  it("records a declared tool's call without running it, and refuses one the draft does not declare", async () => {
    const llm = new OfflineProvider();
    const sms = await answerDraft(llm, content, [line("text +15550100001: boarding at 9")]);
    expect(sms.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ["send_sms", { to: "+15550100001", text: "boarding at 9" }],
    ]);
    expect(sms.reply).toContain(NOT_RUN);
    const pay = await answerDraft(llm, content, [line("pay 0x00000000000000000000000000000000000000b0 1 eth")]);
    expect(pay.toolCalls).toEqual([]);
    expect(pay.reply).toContain("I have no tool for send_payment");
  });
});
