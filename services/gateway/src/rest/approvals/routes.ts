// The REST paths of an agent's questions to its owner (docs/rest.md,
// "Approvals"; docs/trust.md): GET lists the questions it is waiting on,
// POST answers one, signed. Each is an ApprovalService RPC on the claims
// service, as on the Connect face; the agent checks the owner's signature of
// an answer itself.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AGENT_ERRORS } from "../core/errors.js";
import { badRequest } from "../core/errors.js";
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
  if (!body.has("question_id")) throw badRequest("question_id", "is required: the id of a question (GET lists them)");
  await approvals.answerApproval(
    {
      instanceId: r.id,
      questionId: body.string("question_id"),
      approve: body.boolean("approve"),
      ownerSignature: signatureOf(body, "owner_signature"),
    },
    r.call,
  );
  return { status: 200, body: { answered: true } };
};

export const APPROVAL_ROUTES: Route[] = [
  ["GET", "/agents/:id/approvals", listApprovals, AGENT_ERRORS],
  ["POST", "/agents/:id/approvals", answerApproval, AGENT_ERRORS],
];
