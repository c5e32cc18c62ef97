// `pool verify-statement INBOX --messages FILE`: checks the statement of
// what an agent may do in its conversation as a member would
// (docs/statement.md): the agent's latest statement message
// (convos-pool.org/statement) in a dump of the conversation's messages, its
// signed statement against the pool's JWKS (checkStatement: the key, the
// signature, the inbox), and its words, which members read, against what it
// signed. The owner's name in the words is the agent's own reading of the
// conversation's profiles, not signed: it is reported, not checked.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { AgentStatementSchema } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { statementJwsIn, statementOf, statementText, type StatementContent } from "@convos-pool/kit/content";
import { checkStatement, JWKS_PATH, type AttestationJwks } from "@convos-pool/kit/signing";
import { CliError } from "../../core/errors.js";
import type { Context } from "../../core/http.js";

export interface VerifyStatementOptions {
  /** A JSON file of the conversation's messages as a member's client decodes them (an array, or `{messages}`). */
  messages?: string;
  /** Where the pool's JWKS is; default the gateway's /.well-known/agents.json. */
  jwksUrl?: string;
}

/** A message as a dump holds it: the SDK's DecodedMessage, written out as JSON. */
interface DumpedMessage {
  senderInboxId?: string;
  contentType?: { authorityId: string; typeId: string };
  content?: unknown;
  fallback?: string;
}

/** What a statement says, checked. */
export interface StatementReport {
  valid: boolean;
  problems: string[];
  inboxId: string;
  /** The owner as the words name them (their name in the conversation, else a short id): not signed. */
  owner?: string;
  /** The words members read. */
  words: string;
  /** The signed statement, in proto JSON, when its signature checks. */
  statement?: Record<string, unknown>;
}

/** The report printed when a statement does not check out: `pool` exits 1 after printing it. */
export class StatementNotVerified extends CliError {
  constructor(readonly report: StatementReport) {
    super(`the statement of ${report.inboxId} does not check out: ${report.problems.join("; ")}`);
  }
}

/**
 * The latest statement `inboxId` posted among `raw`'s messages (in the order
 * given): a statement message, or a text posted before statements had a
 * content type of their own, with the signed statement on its last line.
 */
export function latestStatementOf(inboxId: string, raw: unknown): StatementContent | undefined {
  const list = Array.isArray(raw) ? raw : (raw as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(list)) throw new CliError("the messages file holds no list of messages");
  let found: StatementContent | undefined;
  for (const m of list as DumpedMessage[]) {
    if (m?.senderInboxId?.toLowerCase() !== inboxId.toLowerCase()) continue;
    const typed = statementOf({ contentType: m.contentType, content: m.content, fallback: m.fallback });
    const old = typeof m.content === "string" ? statementJwsIn(m.content) : undefined;
    if (typed) found = typed;
    else if (old) found = { jws: old, text: m.content as string };
  }
  return found;
}

/** The owner as the words name them. */
function ownerIn(words: string): string | undefined {
  return words
    .split("\n")
    .find((l) => l.startsWith("- Owner: "))
    ?.slice("- Owner: ".length);
}

/** Checks one statement message: its signature against `jwks`, naming `inboxId`, and its words against what it signed. */
export function checkStatementMessage(
  inboxId: string,
  message: DumpedMessage,
  jwks: AttestationJwks,
  now?: number,
): StatementReport {
  const found = latestStatementOf(inboxId, [message]);
  if (!found) return { valid: false, problems: ["no statement of that agent in the message"], inboxId, words: "" };
  return checkFound(inboxId, found, jwks, now);
}

function checkFound(inboxId: string, found: StatementContent, jwks: AttestationJwks, now?: number): StatementReport {
  const owner = ownerIn(found.text);
  const base = { inboxId, words: found.text, ...(owner !== undefined ? { owner } : {}) };
  const check = checkStatement(found.jws, jwks, { inboxId }, now !== undefined ? { now } : {});
  if (!check.valid) return { ...base, valid: false, problems: [check.reason] };
  const problems: string[] = [];
  // A text of the old way carries the signature on its last line; words of today's message do not.
  const words = found.text
    .split("\n")
    .filter((l) => statementJwsIn(l) === undefined)
    .join("\n");
  if (words !== statementText(check.statement, { ownerName: owner })) {
    problems.push("its words differ from the signed statement: read the signed one (`statement` here)");
  }
  const statement = toJson(AgentStatementSchema, check.statement) as Record<string, unknown>;
  return { ...base, valid: problems.length === 0, problems, statement };
}

async function fetchJwks(ctx: Context, url: string): Promise<AttestationJwks> {
  const res = await (ctx.fetch ?? fetch)(url);
  if (!res.ok) throw new CliError(`${url}: HTTP ${res.status}`);
  return (await res.json()) as AttestationJwks;
}

export async function verifyStatement(
  ctx: Context,
  inboxId: string,
  o: VerifyStatementOptions,
): Promise<StatementReport & { jwksUrl: string }> {
  if (!/^[0-9a-f]{64}$/i.test(inboxId)) throw new CliError(`INBOX must be an XMTP inbox id (64 hex), got "${inboxId}"`);
  if (!o.messages) throw new CliError("give the conversation's messages: --messages FILE");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(resolve(ctx.cwd, o.messages), "utf8"));
  } catch (err) {
    throw new CliError(`${o.messages}: not a JSON file (${err instanceof Error ? err.message : String(err)})`);
  }
  const found = latestStatementOf(inboxId, raw);
  if (!found) throw new CliError(`no statement of ${inboxId} in ${o.messages}`);
  const jwksUrl = o.jwksUrl ?? `${ctx.url}${JWKS_PATH}`;
  const report = { ...checkFound(inboxId.toLowerCase(), found, await fetchJwks(ctx, jwksUrl), ctx.now?.()), jwksUrl };
  if (!report.valid) throw new StatementNotVerified(report);
  return report;
}
