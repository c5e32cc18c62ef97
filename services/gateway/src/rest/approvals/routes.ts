// The REST paths of an agent's questions to its owner (docs/rest.md,
// "Approvals"; docs/trust.md): GET lists the questions it is waiting on,
// POST answers one, signed. Each is an ApprovalService RPC on the claims
// service, as on the Connect face; the agent checks the owner's signature of
// an answer itself.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AGENT_ERRORS, Violations } from "../core/errors.js";
import { forwarderOf, query, type Handler, type Route } from "../core/request.js";
import { signatureOf } from "../core/signature-json.js";

/** GET /api/pool/agents/{id}/approvals: the questions the agent waits on its owner for. */
export interface ApprovalsJson {
  questions: { id: string; statement: string; asked_at: string | null; expires_at: string | null }[];
}

const listApprovals: Handler = async (r, deps) => {
  const approvals = forwarderOf(deps, "approvals");
  query(r, []);
  const res = await approvals.listApprovals({ instanceId: r.id }, r.call);
  const body: ApprovalsJson = {
    questions: res.questions.map((q) => ({
      id: q.id,
      statement: q.statement,
      asked_at: q.askedAt ? timestampDate(q.askedAt).toISOString() : null,
      expires_at: q.expiresAt ? timestampDate(q.expiresAt).toISOString() : null,
    })),
  };
  return { status: 200, body };
};

const answerApproval: Handler = async (r, deps) => {
  const approvals = forwarderOf(deps, "approvals");
  query(r, []);
  const body = await r.body(["question_id", "approve", "owner_signature"]);
  // Both read before either is refused: `approve` is a yes or no said in words (docs/rest.md), never left out.
  const check = new Violations();
  if (!body.has("question_id"))
    check.add({ field: "question_id", description: "is required: the id of a question (GET lists them)" });
  const questionId = check.read(() => body.string("question_id", ""));
  const approve = check.read(() => body.boolean("approve"));
  const ownerSignature = check.read(() => signatureOf(body, "owner_signature"));
  check.done();
  await approvals.answerApproval(
    { instanceId: r.id, questionId: questionId ?? "", approve: approve === true, ownerSignature },
    r.call,
  );
  return { status: 200, body: { answered: true } };
};

export const APPROVAL_ROUTES: Route[] = [
  ["GET", "/agents/:id/approvals", listApprovals, AGENT_ERRORS],
  ["POST", "/agents/:id/approvals", answerApproval, AGENT_ERRORS],
];
