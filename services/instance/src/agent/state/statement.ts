// What the agent may do in its conversation, as the pool states it
// (docs/statement.md): the claims service signs a statement with its
// attestation key and hands it over with the attestation
// (InstanceService.Attest); the agent checks that the key handed beside it
// signed it and that it names this agent, then posts its text, with the
// signed statement on the last line, when it has not posted that one
// already. It keeps the last (statement.json) to answer "what can you do
// here?" with (conversation/plan.ts, carry-out.ts), from the pool's words, not the model's.
import type { AttestRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { invalidArgument, statementText } from "@convos-pool/kit/content";
import { checkStatementWithKey } from "@convos-pool/kit/signing";

export const STATEMENT_FILE = "statement.json";

/** What it says when asked before the pool gave it a statement. */
export const NO_STATEMENT_YET = "The pool has not given me a signed statement of what I may do here yet.";

/** The statement it last posted: as signed, and as posted. */
export interface KeptStatement {
  jws: string;
  text: string;
}

/**
 * The statement in an Attest call, checked (signed by the key handed with
 * it, naming this agent and instance), as the text to post; undefined when
 * the call carries none. Else INVALID_ARGUMENT naming the field.
 */
export function checkStatementRequest(
  req: AttestRequest,
  self: { inboxId: string; instanceId: string },
  now = Date.now(),
): KeptStatement | undefined {
  if (!req.statement) return undefined;
  if (!req.key) throw invalidArgument("key", "is required with a statement");
  const check = checkStatementWithKey(req.statement, req.key.x, { inboxId: self.inboxId }, { now, kid: req.key.kid });
  if (!check.valid) throw invalidArgument("statement", check.reason);
  if (check.statement.instanceId !== self.instanceId) {
    throw invalidArgument("statement", `names instance ${check.statement.instanceId}, not this agent`);
  }
  return { jws: req.statement, text: statementText(check.statement, req.statement) };
}

/** Where the agent keeps its statement. */
interface StatementStore {
  readJson<T>(file: string): Promise<T | undefined>;
  writeJson(file: string, value: unknown): Promise<void>;
}

/** Its last statement's text: what it answers "what can you do here?" with. */
export async function statementAnswer(ws: StatementStore): Promise<string> {
  return (await ws.readJson<KeptStatement>(STATEMENT_FILE))?.text ?? NO_STATEMENT_YET;
}

/**
 * Posts `kept` with `say` unless it is the one posted last, then keeps it.
 * Whether it posted.
 */
export async function postStatement(
  ws: StatementStore,
  kept: KeptStatement,
  say: (text: string) => Promise<unknown>,
): Promise<boolean> {
  const last = await ws.readJson<KeptStatement>(STATEMENT_FILE);
  if (last?.jws === kept.jws) return false;
  await say(kept.text);
  await ws.writeJson(STATEMENT_FILE, kept);
  return true;
}
