// The pool's model provider under the host's model calls (host-calls.ts,
// openai.ts): a host with one place and none to wait. Real: OpenAiProvider
// and its ChatCompletionsClient, HostModelCalls. Stand-in: the endpoint, a
// fetch that holds each completion until the test answers it.
import { describe, expect, it } from "vitest";
import { Memory } from "../memory/store.js";
import { HOST_BUSY_REPLY, HostBusy, HostModelCalls } from "./host-calls.js";
import { OpenAiProvider } from "./openai.js";
import { RefusedTurn, type TurnInput } from "./turn.js";

/** A completions endpoint whose answers the test gives, one held request at a time. */
function heldEndpoint() {
  const held: ((text: string) => void)[] = [];
  const fetch = (async () =>
    new Promise<Response>((resolve) => {
      held.push((text) =>
        resolve(
          new Response(JSON.stringify({ choices: [{ message: { role: "assistant", content: text } }] }), {
            status: 200,
            headers: { "content-type": "application/json" },
          }),
        ),
      );
    })) as typeof globalThis.fetch;
  return { fetch, held };
}

const turn = (role: "owner" | "member"): TurnInput => ({
  model: "m",
  agentName: "Concierge",
  identity: "# Concierge",
  context: "",
  memory: new Memory(),
  history: [{ role: "user", text: "Concierge, a question", speaker: role }],
  role,
});

const flush = () => new Promise((r) => setImmediate(r));

describe("a host whose model calls are full", () => {
  it("refuses a member's turn with its words and their learning, and queues the owner's until a place is free", async () => {
    const endpoint = heldEndpoint();
    const calls = new HostModelCalls(1, 0);
    const llm = new OpenAiProvider({ baseUrl: "http://model.test", apiKey: "k", fetch: endpoint.fetch, calls });
    const first = llm.reply(turn("member"));
    await flush();
    expect(endpoint.held).toHaveLength(1);

    const refused = await llm.reply(turn("member")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RefusedTurn);
    expect((refused as RefusedTurn).reply).toBe(HOST_BUSY_REPLY);
    await expect(
      llm.learn({ model: "m", memory: new Memory(), message: "a fact", from: "ana", role: "member" }),
    ).rejects.toBeInstanceOf(HostBusy);

    const owner = llm.reply(turn("owner"));
    await flush();
    expect(endpoint.held).toHaveLength(1);
    endpoint.held[0]!("the member's answer");
    expect(await first).toBe("the member's answer");
    await flush();
    expect(endpoint.held).toHaveLength(2);
    endpoint.held[1]!("the owner's answer");
    expect(await owner).toBe("the owner's answer");
    expect(calls.load).toEqual({ running: 0, waiting: 0 });
  });
});
