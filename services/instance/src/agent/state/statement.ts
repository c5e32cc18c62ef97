// What the agent may do in its conversation, as the pool states it
// (docs/statement.md): the claims service signs a statement with its
// attestation key and hands it over with the attestation
// (InstanceService.Attest); the agent checks that the key handed beside it
// signed it and that it names this agent, then posts it as the pool's
// statement message (kit statement-codec.ts: the signed statement in its
// content, the words members read in its fallback, the owner named as that
// conversation knows them), when it has not posted that one already. It
// keeps the last (statement.json) to answer "what can you do here?" with
// (conversation/plan.ts, carry-out.ts), from the pool's words, not the model's.
//
// The home's statement (`statement`) is taken only when it names the home.
// In several conversations, each other conversation has a statement of its
// own (`conversation_statements`): taken only when it names that
// conversation, one the agent is in (not the home, whose statement is
// `statement`), posted there alone and kept in that conversation's folder.
import type { AttestRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import {
  invalidArgument,
  STATEMENT_SIGNED_PREFIX,
  statementText,
  type StatementContent,
} from "@convos-pool/kit/content";
import { checkStatementWithKey } from "@convos-pool/kit/signing";
import { CONVERSATION_ID_PATTERN, conversationFile } from "../../platform/workspace.js";

export const STATEMENT_FILE = "statement.json";

/** What it says when asked before the pool gave it a statement. */
export const NO_STATEMENT_YET = "The pool has not given me a signed statement of what I may do here yet.";

/** The statement it last posted: as signed, and in the words it posted beside it. */
export type KeptStatement = StatementContent;

/** Who the agent and its checks are, and a member's profile name in a conversation, when it knows one (listening.ts `names`). */
export interface StatementSelf {
  inboxId: string;
  instanceId: string;
  nameIn?: (conversationId: string, inboxId: string) => string | undefined;
}

/**
 * The home's statement in an Attest call, checked (signed by the key handed
 * with it, naming this agent and instance, and about its home, as each other
 * conversation's must be about that one), as the text to post; undefined
 * when the call carries none. Else INVALID_ARGUMENT naming the field.
 */
export function checkStatementRequest(
  req: AttestRequest,
  self: StatementSelf & { home: string | undefined },
  now = Date.now(),
): KeptStatement | undefined {
  if (!req.statement) return undefined;
  const { kept, conversationId } = checkOne(req, req.statement, "statement", self, now);
  // Posted at home, so about the home: a statement of another conversation's tools and participation is never said here.
  if (self.home === undefined) throw invalidArgument("statement", "the agent has no home to post it in");
  if (conversationId !== self.home) {
    throw invalidArgument(
      "statement",
      `is about conversation ${JSON.stringify(conversationId)}, not its home ${self.home}`,
    );
  }
  return kept;
}

/** One statement of an Attest call, checked as checkStatementRequest says; `field` names it in a refusal. */
function checkOne(
  req: AttestRequest,
  jws: string,
  field: string,
  self: StatementSelf,
  now: number,
): { kept: KeptStatement; conversationId: string } {
  if (!req.key) throw invalidArgument("key", "is required with a statement");
  const check = checkStatementWithKey(jws, req.key.x, { inboxId: self.inboxId }, { now, kid: req.key.kid });
  if (!check.valid) throw invalidArgument(field, check.reason);
  if (check.statement.instanceId !== self.instanceId) {
    throw invalidArgument(field, `names instance ${check.statement.instanceId}, not this agent`);
  }
  const { conversationId, ownerId } = check.statement;
  return {
    kept: { jws, text: statementText(check.statement, { ownerName: self.nameIn?.(conversationId, ownerId) }) },
    conversationId,
  };
}

/** A statement for one of its conversations other than the home, checked. */
export interface ConversationKept {
  conversationId: string;
  kept: KeptStatement;
}

/**
 * The statements of its other conversations in an Attest call, each checked
 * as the home's is, and for a conversation it is in (`isIn`), not its home,
 * named once, and naming that conversation: a statement is posted only in
 * the conversation it is about. Else INVALID_ARGUMENT naming the field.
 */
export function checkConversationStatements(
  req: AttestRequest,
  self: StatementSelf & { home: string | undefined },
  isIn: (conversationId: string) => boolean,
  now = Date.now(),
): ConversationKept[] {
  const seen = new Set<string>();
  return req.conversationStatements.map((c, i) => {
    const field = `conversation_statements[${i}]`;
    const id = c.conversationId;
    if (!CONVERSATION_ID_PATTERN.test(id) || !isIn(id)) {
      throw invalidArgument(
        `${field}.conversation_id`,
        `names ${JSON.stringify(id)}, a conversation this agent is not in`,
      );
    }
    if (id === self.home)
      throw invalidArgument(`${field}.conversation_id`, "is the home: its statement is `statement`");
    if (seen.has(id)) throw invalidArgument(`${field}.conversation_id`, `names ${id} twice`);
    seen.add(id);
    const { kept, conversationId } = checkOne(req, c.statement, `${field}.statement`, self, now);
    if (conversationId !== id) {
      throw invalidArgument(`${field}.statement`, `is about conversation ${JSON.stringify(conversationId)}, not ${id}`);
    }
    return { conversationId: id, kept };
  });
}

/** Where its statement for a conversation is kept: the home's at the top, another's in that conversation's folder. */
export function statementFileOf(conversationId: string | undefined, home: string | undefined): string {
  return conversationId === undefined || conversationId === home
    ? STATEMENT_FILE
    : conversationFile(conversationId, "statement");
}

/** Where the agent keeps its statement. */
interface StatementStore {
  readJson<T>(file: string): Promise<T | undefined>;
  writeJson(file: string, value: unknown): Promise<void>;
}

/**
 * Its last statement's text: what it answers "what can you do here?" with;
 * `file` (statementFileOf) for a conversation other than the home.
 */
export async function statementAnswer(ws: StatementStore, file = STATEMENT_FILE): Promise<string> {
  const text = (await ws.readJson<KeptStatement>(file))?.text;
  // One kept before the statement had a message of its own carried the signature on a line of its text: words only.
  return (
    text
      ?.split("\n")
      .filter((l) => !l.startsWith(STATEMENT_SIGNED_PREFIX))
      .join("\n") ?? NO_STATEMENT_YET
  );
}

/**
 * Posts `kept` with `send` (the pool's statement message, voice/send.ts)
 * unless it is the one posted last, then keeps it (in `file`:
 * statementFileOf, the home's by default). Whether it posted.
 */
export async function postStatement(
  ws: StatementStore,
  kept: KeptStatement,
  send: (statement: StatementContent) => Promise<unknown>,
  file = STATEMENT_FILE,
  /** Where else it may have posted this one: a new home's own file, from before it was the home. */
  alsoIn: readonly string[] = [],
): Promise<boolean> {
  if ((await ws.readJson<KeptStatement>(file))?.jws === kept.jws) return false;
  for (const f of alsoIn) {
    if ((await ws.readJson<KeptStatement>(f))?.jws !== kept.jws) continue;
    // Posted there already: kept as this one's to answer with, not posted again.
    await ws.writeJson(file, kept);
    return false;
  }
  await send(kept);
  await ws.writeJson(file, kept);
  return true;
}

/**
 * The home's own folder file, where its statement was kept while it was
 * not the home: after the old home is left, the pool hands that conversation's
 * last statement as the home's, already posted there.
 */
export function homeStatementAlsoIn(home: string | undefined): string[] {
  return home && CONVERSATION_ID_PATTERN.test(home) ? [conversationFile(home, "statement")] : [];
}
