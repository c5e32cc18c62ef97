// An owner's answers to their agent's questions from outside its
// conversation (docs/cli.md, "Approvals"; docs/trust.md): list the questions
// it is waiting on, answer one. An answer is signed by the key as the
// agent's owner over the instance, the question and the answer, and the
// agent checks it itself; one that comes too late changes nothing.
import type { ApprovalsJson } from "@convos-pool/gateway/rest-json";
import { loadKey } from "../../core/key-store.js";
import { request, type Context } from "../../core/http.js";
import { signRest } from "../../core/signing.js";

const approvalsPath = (id: string) => `/api/pool/agents/${encodeURIComponent(id)}/approvals`;

/** The questions, one block each: its id and until when it waits, then the act as the agent states it. */
export async function listApprovals(ctx: Context, id: string): Promise<string> {
  const { questions } = (await request(ctx, "GET", approvalsPath(id), { auth: "session" })).body as ApprovalsJson;
  if (questions.length === 0) return "(no question waiting)";
  return questions
    .map((q) =>
      [`${q.id}\twaits until ${q.expires_at ?? "?"}`, ...q.statement.split("\n").map((l) => `  ${l}`)].join("\n"),
    )
    .join("\n\n");
}

/** Answers one question yes (`approve`) or no, signed `AnswerApproval`. */
export async function answerApproval(ctx: Context, id: string, questionId: string, approve: boolean): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "AnswerApproval", { instanceId: id, questionId, approve });
  return (
    await request(ctx, "POST", approvalsPath(id), {
      auth: "session",
      body: { question_id: questionId, approve, owner_signature: ownerSignature },
    })
  ).body;
}
