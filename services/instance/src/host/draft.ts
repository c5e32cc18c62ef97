// The studio's test chat on a host (docs/templates.md, "The test chat"): a
// draft answers its creator through the same prompt assembly as an agent's
// turn (model/prompt.ts, by way of the host's provider), with nothing
// behind it: no memory, no owner's settings, no credentials. The model may
// ask for the draft's tools; each call is recorded and answered "not run",
// so a test chat never sends a text, a mail or a payment.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  DraftAnswerSchema,
  DraftToolCallSchema,
  type DraftAnswer,
  type DraftLine,
} from "@convos-pool/gen/convos/pool/v1/draft_chat_pb.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { renderIdentity } from "@convos-pool/kit/content";
import { Memory } from "../memory/store.js";
import { PROMPT_LIMITS } from "../model/caps.js";
import type { LlmProvider, TurnInput } from "../model/turn.js";
import { TOOLS } from "../tools/functions/registry.js";

/** What the model reads besides the draft: that this is a test, and that tools do not run. */
export const DRAFT_CONTEXT =
  "This is a private test chat with your creator, before you are published. Answer as you would in a conversation. Tools do not run here: if you call one, the call is shown to your creator and not carried out.";

/** What a called tool answers the model in a test chat. */
export const NOT_RUN = "Not run: this is a test chat. Say what you would have done.";

const MAX_ARGUMENTS = 2_000;
const DRAFT_HANDLE = "(its own, given when it is claimed)";

/** The turn of a draft, less the tool calls: pure. The creator speaks as the owner of an empty memory. */
export function draftTurn(content: TemplateContent, lines: readonly DraftLine[]): Omit<TurnInput, "callTool"> {
  const declared = new Set<string>(content.tools.map((t) => t.id));
  return {
    model: content.model?.default ?? "",
    agentName: content.agentName,
    identity: renderIdentity(content),
    context: DRAFT_CONTEXT,
    memory: new Memory(),
    history: lines.map((l) =>
      l.fromAgent
        ? { role: "assistant", text: l.text }
        : { role: "user", text: l.text, sender: "creator", speaker: "owner" },
    ),
    // An agent's functions name its own handle (a number, a mailbox); a draft has none yet.
    functions: TOOLS.filter((t) => declared.has(t.toolId)).map((t) => t.spec(DRAFT_HANDLE)),
    role: "owner",
    limits: PROMPT_LIMITS,
  };
}

/** One answer of the draft through `llm`; every tool call is recorded, none is run. */
export async function answerDraft(
  llm: LlmProvider,
  content: TemplateContent,
  lines: readonly DraftLine[],
  signal?: AbortSignal,
): Promise<DraftAnswer> {
  if (llm.kind === "openclaw")
    throw new ConnectError(
      "this host's agents run on OpenClaw: a test chat needs a host of the pool's runtime",
      Code.FailedPrecondition,
    );
  const calls: { name: string; arguments: string }[] = [];
  const turn = draftTurn(content, lines);
  const offered = new Set(turn.functions?.map((f) => f.name));
  const reply = await llm.reply(
    {
      ...turn,
      callTool: async (name, args) => {
        // As the gate answers an agent: a function of a tool it does not hold is no call at all.
        if (!offered.has(name)) return { ok: false, error: `I have no tool for ${name}` };
        calls.push({ name, arguments: JSON.stringify(args).slice(0, MAX_ARGUMENTS) });
        return { ok: false, error: NOT_RUN };
      },
    },
    signal,
  );
  return create(DraftAnswerSchema, { reply, toolCalls: calls.map((c) => create(DraftToolCallSchema, c)) });
}
