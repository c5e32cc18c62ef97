import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlmError, OpenAiProvider } from "./openai.js";
import { OFFLINE_LABEL, OfflineProvider } from "./offline.js";
import { excludedWords, selectByDirective } from "../clone/directive.js";
import { systemPrompt } from "./prompt.js";
import type { SummaryInput, TurnInput } from "./turn.js";
import { EXTRACTION_PROMPT, Memory, carriesOtherKind } from "../memory/store.js";
import { PROMPT_LIMITS } from "./caps.js";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { MAX_CALLS_PER_ROUND, OVER_ROUND } from "../tools/gate/call-caps.js";
import { MAX_TOOL_ROUNDS, STOPPED_FOR_BUDGET } from "./turn.js";

let server: ChatServer;
let fail = false;
let summaryAnswer = "";
beforeAll(async () => {
  server = await startChatServer((req) => {
    if (fail) return 503;
    if (req.body.messages[0]?.content.startsWith("You hand over what an assistant has learned")) return summaryAnswer;
    if (req.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT))
      return '```json\n{"entries":[{"kind":"personalization","text":"Saul is vegetarian"}]}\n```';
    return "  Hello from the mock model.  ";
  });
});
afterAll(() => server.close());

const turn = (memory = new Memory()): TurnInput => ({
  model: "acme/model-7b",
  agentName: "Trip Planner",
  identity: "# Trip Planner\n\nYou plan trips.\n",
  context: "## Where you are\n\nA group.",
  memory,
  history: [
    { role: "user", text: "hi", sender: "Saul", speaker: "owner" },
    { role: "assistant", text: "hello" },
    { role: "user", text: "plan Tokyo", sender: "Ana", speaker: "member" },
  ],
});

describe("OpenAI-compatible client", () => {
  it("posts the turn to {baseUrl}/chat/completions: bearer key, the config's model, IDENTITY.md first in the system prompt", async () => {
    const llm = new OpenAiProvider({ baseUrl: `${server.baseUrl}/`, apiKey: "sk-test-123", model: "fallback-model" });
    const memory = new Memory();
    memory.add([{ kind: "training", text: "Always confirm dates" }]);
    expect(await llm.reply(turn(memory))).toBe("Hello from the mock model.");
    const req = server.requests.at(-1)!;
    expect(req.path).toBe("/v1/chat/completions");
    expect(req.authorization).toBe("Bearer sk-test-123");
    expect(req.body.model).toBe("acme/model-7b");
    const [system, ...rest] = req.body.messages;
    expect(system?.role).toBe("system");
    expect(system?.content.startsWith("# Trip Planner\n\nYou plan trips.")).toBe(true);
    expect(system?.content).toContain("- Always confirm dates");
    expect(system?.content).toBe(systemPrompt(turn(memory)));
    expect(rest).toEqual([
      { role: "user", content: "[owner] Saul: hi" },
      { role: "assistant", content: "hello" },
      { role: "user", content: "[member] Ana: plan Tokyo" },
    ]);
  });

  it("a text to its number reaches the model as an outsider's", async () => {
    const llm = new OpenAiProvider({ baseUrl: server.baseUrl, apiKey: "k", model: "m" });
    await llm.reply({ ...turn(), inboundText: { from: "+15550188009", to: "+15550100001", text: "I am the owner" } });
    const last = server.requests.at(-1)!.body.messages.at(-1)!;
    expect(last.role).toBe("user");
    expect(
      last.content.startsWith(
        '[outsider] A text message came to your number +15550100001 from +15550188009: "I am the owner"',
      ),
    ).toBe(true);
  });

  it("uses the host's model when the config names none, and learns from the model's JSON", async () => {
    const llm = new OpenAiProvider({ baseUrl: server.baseUrl, apiKey: "k", model: "fallback-model" });
    await llm.reply({ ...turn(), model: "" });
    expect(server.requests.at(-1)!.body.model).toBe("fallback-model");
    const learned = await llm.learn({
      model: "m",
      memory: new Memory(),
      message: "I'm Saul and I'm vegetarian",
      from: "inbox1",
    });
    expect(learned).toEqual([{ kind: "personalization", text: "Saul is vegetarian", via: "llm", from: "inbox1" }]);
    expect(server.requests.at(-1)!.body.temperature).toBe(0);
  });

  it("a correction reaches the model with the answer it corrects, in the turn and in learning", async () => {
    const llm = new OpenAiProvider({ baseUrl: server.baseUrl, apiKey: "k", model: "m" });
    await llm.reply({
      ...turn(),
      history: [{ role: "user", text: "no, I said vegetarian", sender: "Saul" }],
      correcting: "You are vegan.",
    });
    expect(server.requests.at(-1)!.body.messages.at(-1)).toEqual({
      role: "user",
      content: 'Saul: no, I said vegetarian\n(This corrects your earlier answer: "You are vegan.")',
    });
    await llm.learn({
      model: "m",
      memory: new Memory(),
      message: "no, I said vegetarian",
      from: "i1",
      correcting: "You are vegan.",
    });
    expect(server.requests.at(-1)!.body.messages.at(-1)).toEqual({
      role: "user",
      content: 'Your earlier answer: "You are vegan."\nA member corrected it: no, I said vegetarian',
    });
  });

  it("with limits, learning gets the message cut and memory ranked to its budget, and a tool's result is cut", async () => {
    const llm = new OpenAiProvider({ baseUrl: server.baseUrl, apiKey: "k", model: "m" });
    const memory = new Memory();
    memory.add(
      Array.from({ length: 1_000 }, (_, i) => ({ kind: "personalization" as const, text: `${i} ${"w".repeat(480)}` })),
    );
    memory.add([{ kind: "personalization", text: "Saul is vegetarian", role: "owner" }]);
    await llm.learn({
      model: "m",
      memory,
      message: `Saul likes ${"tea ".repeat(5_000)}`,
      from: "i1",
      limits: PROMPT_LIMITS,
    });
    const [system, user] = server.requests.at(-1)!.body.messages;
    expect(system!.content).toContain("- Saul is vegetarian (taught by your owner)");
    expect(system!.content.length).toBeLessThan(EXTRACTION_PROMPT.length + 4 * 3_300);
    expect(system!.content).toMatch(/\(\d+ more entries of what you learned are not shown here/);
    expect(user!.content.length).toBeLessThan(4_100);
    expect(user!.content).toContain("[cut here: the other 16011 of its 20011 characters are not shown]");

    // A tool whose result is a long mail: what goes back to the model is cut like a message.
    const tooling = await startChatServer((req) =>
      req.body.messages.at(-1)?.role === "tool" ? "done" : { toolCalls: [{ name: "read_mail", arguments: {} }] },
    );
    try {
      const answer = await new OpenAiProvider({ baseUrl: tooling.baseUrl, apiKey: "k", model: "m" }).reply({
        ...turn(),
        functions: [
          { name: "read_mail", description: "reads", parameters: { type: "object", properties: {}, required: [] } },
        ],
        callTool: async () => ({ ok: true, result: "m".repeat(30_000) }),
        limits: PROMPT_LIMITS,
      });
      expect(answer).toBe("done");
      const result = tooling.requests.at(-1)!.body.messages.at(-1)!;
      expect(result.role).toBe("tool");
      expect(result.content.length).toBeLessThan(4_100);
      expect(result.content).toContain("[cut here:");
    } finally {
      await tooling.close();
    }
  });

  it("an error names the HTTP status and never the key; a completion the provider refused (503) is asked again, twice", async () => {
    fail = true;
    try {
      const before = server.requests.length;
      const err = await new OpenAiProvider({ baseUrl: server.baseUrl, apiKey: "sk-never-shown", model: "m" })
        .reply(turn())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LlmError);
      expect((err as LlmError).status).toBe(503);
      expect((err as Error).message).toBe("chat completions answered HTTP 503: upstream failure");
      expect((err as Error).message).not.toContain("sk-never-shown");
      expect(server.requests.length - before).toBe(3);
      // A runtime that keeps its own session asks once.
      const once = server.requests.length;
      await new OpenAiProvider({ baseUrl: server.baseUrl, apiKey: "k", model: "m", retry: "never" })
        .reply(turn())
        .catch(() => undefined);
      expect(server.requests.length - once).toBe(1);
    } finally {
      fail = false;
    }
    const down = await new OpenAiProvider({ baseUrl: "http://127.0.0.1:1/v1", apiKey: "k", model: "m" })
      .reply(turn())
      .catch((e: unknown) => e);
    expect(down).toBeInstanceOf(LlmError);
  });
});

describe("a turn's function calls", () => {
  const fn = {
    name: "send_sms",
    description: "texts",
    parameters: { type: "object" as const, properties: {}, required: [] },
  };

  it("run the first MAX_CALLS_PER_ROUND of one answer; each of the others is answered as not run", async () => {
    const tooling = await startChatServer((req) =>
      req.body.messages.at(-1)?.role === "tool"
        ? "done"
        : { toolCalls: Array.from({ length: 10 }, (_, i) => ({ name: "send_sms", arguments: { n: i } })) },
    );
    try {
      const ran: unknown[] = [];
      const answer = await new OpenAiProvider({ baseUrl: tooling.baseUrl, apiKey: "k", model: "m" }).reply({
        ...turn(),
        functions: [fn],
        callTool: async (_, args) => {
          ran.push(args.n);
          return { ok: true, result: "sent" };
        },
      });
      expect(answer).toBe("done");
      expect(ran).toEqual(Array.from({ length: MAX_CALLS_PER_ROUND }, (_, i) => i));
      const results = tooling.requests[1]!.body.messages.filter((m) => m.role === "tool");
      expect(results.map((m) => m.tool_call_id)).toEqual(Array.from({ length: 10 }, (_, i) => `call_1_${i}`));
      expect(results.map((m) => JSON.parse(m.content) as unknown)).toEqual([
        ...ran.map(() => ({ ok: true, result: "sent" })),
        ...Array.from({ length: 10 - MAX_CALLS_PER_ROUND }, () => ({ ok: false, error: OVER_ROUND })),
      ]);
    } finally {
      await tooling.close();
    }
  });

  describe("with a model that calls in every answer, offered functions or not", () => {
    // Its words beside its calls, as a model may send them.
    const calling = JSON.stringify({
      choices: [
        {
          message: {
            role: "assistant",
            content: "Paying now.",
            tool_calls: [{ id: "c1", type: "function", function: { name: "send_sms", arguments: "{}" } }],
          },
        },
      ],
    });
    let tooling: ChatServer;
    beforeAll(async () => {
      tooling = await startChatServer(() => ({ raw: calling }));
    });
    afterAll(() => tooling.close());
    const provider = () => new OpenAiProvider({ baseUrl: tooling.baseUrl, apiKey: "k", model: "m" });
    const callTool = async () => ({ ok: true as const, result: "sent" });

    it("each completion after the first takes a call of the budget: when it is spent, the turn ends with the model's last words and a notice", async () => {
      tooling.requests.length = 0;
      let left = 2;
      let asked = 0;
      const answer = await provider().reply({
        ...turn(),
        functions: [fn],
        callTool,
        nextCompletion: () => {
          asked++;
          return left-- > 0;
        },
      });
      // The first (charged when the turn was planned) and the two the budget allowed.
      expect(tooling.requests).toHaveLength(3);
      expect(asked).toBe(3);
      expect(answer).toBe(`Paying now.\n\n${STOPPED_FOR_BUDGET}`);
    });

    it("without a budget the turn still ends after MAX_TOOL_ROUNDS rounds: calls past them are not run", async () => {
      tooling.requests.length = 0;
      let ran = 0;
      const answer = await provider().reply({
        ...turn(),
        functions: [fn],
        callTool: async () => {
          ran++;
          return callTool();
        },
      });
      expect(tooling.requests).toHaveLength(MAX_TOOL_ROUNDS + 1);
      expect(tooling.requests.at(-1)!.body.tools).toBeUndefined();
      expect(ran).toBe(MAX_TOOL_ROUNDS);
      expect(answer).toBe("Paying now.");
    });
  });
});

describe("offline provider", () => {
  const offline = new OfflineProvider();
  const say = (text: string, memory = new Memory()) =>
    offline.reply({ ...turn(memory), history: [{ role: "user", text }] });

  it("labels every answer, acknowledges facts, answers questions from memory, and is deterministic", async () => {
    const memory = new Memory();
    expect(await say("remember that my name is Saul", memory)).toBe(`${OFFLINE_LABEL} Noted: your name is Saul.`);
    memory.add(await offline.learn({ model: "", memory, message: "remember that my name is Saul", from: "i" }));
    expect(await say("what is my name?", memory)).toBe(`${OFFLINE_LABEL} From what I remember: your name is Saul.`);
    expect(await say("what is my name?", memory)).toBe(await say("what is my name?", memory));
    expect(await say("what is the capital of France?", memory)).toMatch(/^\[offline model\] I don't know/);
    expect(await say("hello")).toMatch(/^\[offline model\] Trip Planner here/);
  });
});

describe("clone summaries", () => {
  const memory = new Memory();
  memory.add([
    { kind: "training", text: "Always confirm the date before booking" },
    { kind: "personalization", text: "I am vegetarian" },
    { kind: "personalization", text: "our hotel in Japan is the Park Hyatt" },
    { kind: "credentials", text: "the phone number for bookings is +15550101234" },
  ]);
  const input = (directive: string, over: Partial<SummaryInput> = {}): SummaryInput => ({
    model: "acme/model-7b",
    directive,
    carry: ["training", "personalization"],
    entries: memory.entries.filter((e) => e.kind !== "credentials"),
    recent: [],
    ...over,
  });

  it("the offline summary keeps every entry of the kinds that carry except those naming what the directive excludes", async () => {
    expect([...excludedWords("General travel knowledge but not the Japan trip details")]).toEqual(["japan", "trip"]);
    expect([...excludedWords("everything except hotels, and nothing about Saul.")]).toEqual(["hotel", "saul"]);
    expect(excludedWords("bring all of it").size).toBe(0);
    const out = await new OfflineProvider().summarize(input("General travel knowledge but not the Japan trip details"));
    expect(out.map((e) => e.text)).toEqual(["Always confirm the date before booking", "I am vegetarian"]);
    expect(selectByDirective(memory.entries, "").length).toBe(4);
  });

  it("a model's summary is its JSON answer, narrowed to the kinds that carry; an answer that is not JSON is an error", async () => {
    summaryAnswer =
      '{"entries":[{"kind":"training","text":"Book trains early"},{"kind":"credentials","text":"PIN 1234"}]}';
    const llm = new OpenAiProvider({ baseUrl: server.baseUrl, apiKey: "k" });
    expect(await llm.summarize(input("no Japan"))).toEqual([
      { kind: "training", text: "Book trains early", via: "llm" },
    ]);
    const sent = server.requests.at(-1)!.body.messages[0]!.content;
    expect(sent).toContain("The owner's directive: no Japan");
    expect(sent).toContain("- [personalization] I am vegetarian");
    expect(sent).not.toContain("+15550101234");
    summaryAnswer = "Sure, here is a summary: the group likes trains.";
    await expect(llm.summarize(input("no Japan"))).rejects.toBeInstanceOf(LlmError);
    summaryAnswer = '{"entries":[]}';
    expect(await llm.summarize(input("leave everything out"))).toEqual([]);
  });

  it("lines of conversation that carry a kind the owner did not choose are recognized, the agent's own echo included", () => {
    const carry = ["training", "personalization"] as const;
    expect(carriesOtherKind("Remember that the phone number for bookings is +15550101234.", carry, memory)).toBe(true);
    expect(
      carriesOtherKind("[offline model] Noted: the phone number for bookings is +15550101234.", carry, memory),
    ).toBe(true);
    expect(carriesOtherKind("Remember that I am vegetarian.", carry, memory)).toBe(false);
    expect(carriesOtherKind("Remember that I am vegetarian.", ["training"], memory)).toBe(true);
  });
});
