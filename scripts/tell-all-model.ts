// A model that tells all it reads, to try the walls of docs/trust.md with:
// a local OpenAI-compatible endpoint whose every answer to a turn is its
// whole input (the system prompt, the memory it was given, every message).
// Learning and the act chooser are answered as the offline model's rules answer
// them, so the agent still learns what people say. Not a model to use: a
// stand-in for one that does whatever injected text asks. It lists the
// default models at GET /v1/models, which `npm start` asks for the models a
// template may name (services/dev/src/models.ts), and answers to any name.
//
//   npm run -s tell-all-model [-- --port 5590]
//   LLM_BASE_URL=http://127.0.0.1:5590/v1 LLM_API_KEY=any npm start
import { parseArgs } from "node:util";
import { EXTRACTION_PROMPT, extractByRule, CHOOSER_PROMPT, chooseByRuleAnswer } from "@convos-pool/instance";
import { DEFAULT_SERVED_MODELS } from "@convos-pool/templates";
import { startChatServer, type RecordedRequest } from "@convos-pool/testing/chat-server";
import { tellAll } from "./tell-all.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "5590" } } });
const text = (m: RecordedRequest["body"]["messages"][number] | undefined) =>
  typeof m?.content === "string" ? m.content : "";

const server = await startChatServer(
  (r) => {
    const system = text(r.body.messages.find((m) => m.role === "system"));
    const last = text(r.body.messages.at(-1));
    if (system.startsWith(EXTRACTION_PROMPT))
      return JSON.stringify({ entries: extractByRule(last).map(({ kind, text }) => ({ kind, text })) });
    if (system.startsWith(CHOOSER_PROMPT)) return chooseByRuleAnswer(last);
    return tellAll(r.body.messages.map(text));
  },
  Number(values.port),
  { models: DEFAULT_SERVED_MODELS },
);
process.stdout.write(`tell-all model at ${server.baseUrl} (LLM_BASE_URL=${server.baseUrl})\n`);
