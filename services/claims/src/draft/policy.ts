// What a test chat may ask (docs/templates.md, "The test chat"): the draft
// and the lines, checked before anything reaches a host, and how many
// answers a creator, and the whole pool, get. Pure: `takeAnswer` only
// orders the two allowances it is handed, which do the counting.
import type { ConnectError } from "@connectrpc/connect";
import type { DraftLine } from "@convos-pool/gen/convos/pool/v1/draft_chat_pb.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TEMPLATE_ID_PATTERN, checkAll, invalidArgument } from "@convos-pool/kit/content";
import { limitExceeded, limitExceededOf, type Rate } from "@convos-pool/kit/server";

/** Lines of a test chat sent at once: the model reads no more. */
export const MAX_LINES = 20;
export const MAX_LINE_CHARS = 4_000;
/** As a template's (docs/templates.md): the name, and the instructions in bytes. */
const MAX_NAME_CHARS = 100;
const MAX_INSTRUCTIONS_BYTES = 256 * 1024;
/** Answers a creator gets: each is one of the pool's model calls. */
export const DRAFT_ANSWERS: Rate = { points: 30, seconds: 600 };
/**
 * Answers of the whole pool, every creator together, since an inbox costs
 * nothing (POOL_LIMITS `test-chat.pool`, default 300 per 10 minutes:
 * docs/limits.md). What LimitExceeded.limit says, and what the one counter,
 * under POOL_KEY, is kept under.
 */
export const POOL_ANSWERS = "test chat answers of the pool";
export const POOL_KEY = "all";

/** RESOURCE_EXHAUSTED for the pool's answers spent, in people's terms: minutes, rounded up; Retry-After in seconds. */
export function busyForEveryone(retryAfterSeconds: number): ConnectError {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return limitExceeded(
    POOL_ANSWERS,
    `the test chat is busy for everyone right now; try again in ${minutes === 1 ? "a minute" : `${minutes} minutes`}`,
    retryAfterSeconds,
  );
}

/** One allowance as the service counts it (RateLimit of `@convos-pool/kit/server`). */
export interface Allowance {
  take(key: string, who?: string): Promise<void>;
  giveBack(key: string): Promise<void>;
}

/**
 * Takes one answer: the creator's allowance first, so a creator past theirs
 * is told so and the pool's is not touched; then the pool's. When the
 * pool's is spent (busyForEveryone) or cannot be counted (its error), the
 * creator's answer is given back: a refused call is counted nowhere.
 */
export async function takeAnswer(
  allowances: { perCreator: Allowance; perPool: Allowance },
  caller: string,
): Promise<void> {
  await allowances.perCreator.take(caller, "you");
  try {
    await allowances.perPool.take(POOL_KEY, "the pool");
  } catch (err) {
    // A give-back that fails leaves the creator one answer short, never the pool one over: the refusal is what they hear.
    await allowances.perCreator.giveBack(caller).catch(() => undefined);
    const spent = limitExceededOf(err);
    throw spent ? busyForEveryone(spent.retryAfterSeconds) : err;
  }
}

/** The draft and the lines, or one INVALID_ARGUMENT naming every bad field. */
export function checkTryDraft(req: {
  templateId: string;
  content?: TemplateContent | undefined;
  lines: readonly DraftLine[];
}): {
  content: TemplateContent;
  lines: readonly DraftLine[];
} {
  const c = req.content;
  const linesCounted = req.lines.length > 0 && req.lines.length <= MAX_LINES;
  checkAll(
    () => {
      if (req.templateId !== "" && !TEMPLATE_ID_PATTERN.test(req.templateId))
        throw invalidArgument(
          "template_id",
          'must be empty for a new template, or a template id such as "tmpl_" followed by 16 letters or digits',
        );
    },
    () => {
      if (!c) throw invalidArgument("content", "required: the draft as edited");
    },
    () => {
      const name = c?.agentName.trim();
      if (name !== undefined && (name.length === 0 || [...name].length > MAX_NAME_CHARS))
        throw invalidArgument("content.agent_name", `must be 1 to ${MAX_NAME_CHARS} characters`);
    },
    () => {
      if (
        c &&
        (c.instructions.trim() === "" || new TextEncoder().encode(c.instructions).length > MAX_INSTRUCTIONS_BYTES)
      )
        throw invalidArgument("content.instructions", "must be 1 byte to 256 KiB");
    },
    () => {
      if (!linesCounted) throw invalidArgument("lines", `must be 1 to ${MAX_LINES} lines`);
    },
    ...req.lines.map((l, i) => () => {
      if (l.text.trim() === "" || l.text.length > MAX_LINE_CHARS)
        throw invalidArgument(`lines[${i}].text`, `must be 1 to ${MAX_LINE_CHARS} characters`);
    }),
    () => {
      if (linesCounted && req.lines.at(-1)?.fromAgent)
        throw invalidArgument("lines", "must end with your line, for the draft to answer");
    },
  );
  if (!c) throw invalidArgument("content", "required: the draft as edited"); // named above: only the type learns it here
  return { content: c, lines: req.lines };
}
