// Test helper: a local HTTP server speaking the OpenAI chat-completions API
// (POST /v1/chat/completions), recording every request it gets; and, when
// given names, the model list (GET /v1/models) that `npm start` asks for.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A function call as the API carries it (the instance's llm.ts sends and reads the same). */
export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A function the model may call, as a request declares it. */
export interface WireFunction {
  name: string;
  description: string;
  parameters: { type: "object"; properties: Record<string, { type: string; description: string }>; required: string[] };
}

/** A message as it travels (content is null only in an assistant's function calls). */
export interface WireMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  tool_calls?: WireToolCall[];
  tool_call_id?: string;
}

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: {
    model: string;
    messages: WireMessage[];
    temperature?: number;
    tools?: { type: "function"; function: WireFunction }[];
    /** Server-sent events asked for (OpenClaw asks so): the answer comes as chunks. */
    stream?: boolean;
    user?: string;
  };
}

/** What the test model answers: text, function calls, an HTTP status, or a body as is with status 200 (garbage). */
export type ChatAnswer =
  | string
  | number
  | { toolCalls: { name: string; arguments: Record<string, unknown> }[] }
  | { raw: string };

export interface ChatServer {
  /** The API base, for example http://127.0.0.1:1234/v1. */
  baseUrl: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** `answer` returns (or resolves to, for a slow model) the assistant's content, function calls to make, a number: that HTTP status, or a raw body. */
export async function startChatServer(
  answer: (req: RecordedRequest) => ChatAnswer | Promise<ChatAnswer>,
  /** Its port on 127.0.0.1; any free one by default. */
  listenPort = 0,
  /** The models GET /v1/models lists; without them that path is not found, as on an endpoint that lists none. */
  opts: { models?: readonly string[] } = {},
): Promise<ChatServer> {
  const list =
    opts.models && JSON.stringify({ object: "list", data: opts.models.map((id) => ({ id, object: "model" })) });
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    const respond = async (): Promise<void> => {
      if (list && req.method === "GET" && req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" }).end(list);
        return;
      }
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res
          .writeHead(404, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { message: "not found" } }));
        return;
      }
      const recorded: RecordedRequest = {
        path: req.url,
        authorization: req.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as RecordedRequest["body"],
      };
      requests.push(recorded);
      const out = await answer(recorded);
      if (typeof out === "object" && "raw" in out) {
        res.writeHead(200, { "content-type": "application/json" }).end(out.raw);
        return;
      }
      if (typeof out === "number") {
        res
          .writeHead(out, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { message: "upstream failure" } }));
        return;
      }
      const message =
        typeof out === "string"
          ? { role: "assistant", content: out }
          : {
              role: "assistant",
              content: null,
              tool_calls: out.toolCalls.map((c, i) => ({
                id: `call_${requests.length}_${i}`,
                type: "function",
                function: { name: c.name, arguments: JSON.stringify(c.arguments) },
              })),
            };
      if (recorded.body.stream) {
        streamAnswer(res, recorded.body.model, requests.length, message);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: "chat.completion",
          model: recorded.body.model,
          choices: [{ index: 0, finish_reason: typeof out === "string" ? "stop" : "tool_calls", message }],
        }),
      );
    };
    // An answer that throws is the test's failure: the model call sees a 500.
    req.on("end", () => void respond().catch((err: unknown) => res.writeHead(500).end(String(err))));
  });
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** An answer as server-sent chat.completion.chunk events: the role and content (or the calls), the finish, [DONE]. */
function streamAnswer(
  res: ServerResponse,
  model: string,
  n: number,
  message: { role: string; content: string | null; tool_calls?: unknown[] },
): void {
  const base = { id: `chatcmpl-${n}`, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model };
  const event = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const calls = (message.tool_calls ?? []) as {
    id: string;
    type: string;
    function: { name: string; arguments: string };
  }[];
  res.write(
    event(
      calls.length
        ? { role: "assistant", content: null, tool_calls: calls.map((c, index) => ({ index, ...c })) }
        : { role: "assistant", content: message.content },
      null,
    ),
  );
  res.write(
    event({}, calls.length ? "tool_calls" : "stop", {
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }),
  );
  res.end("data: [DONE]\n\n");
}
