// "Waiting for your answer" on an agent's page (docs/web.md; docs/trust.md,
// "Approvals from outside the conversation"): the questions the agent asked
// its owner before an act its trust level gates, for an owner who is not in
// the conversation. Approve and Decline are signed AnswerApproval over this
// question and this answer, as the page's other owner actions are signed;
// the agent checks the signature itself, and a question answered meanwhile
// (in the chat, or timed out) is refused and changes nothing.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { shownError } from "../ui/errors";
import { when } from "../words/format";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Notice } from "../ui/ui";
import { useAction } from "../ui/use-action";

export function Approvals({ id }: { id: string }) {
  const { sign, canSign } = useSession();
  const act = useAction();
  const list = useQuery(ApprovalService.method.listApprovals, { instanceId: id }, { refetchInterval: 5_000 });
  const answer = useMutation(ApprovalService.method.answerApproval);

  const reply = (questionId: string, approve: boolean) =>
    void act.run(questionId, approve ? "Approved: it goes ahead." : "Declined: it will not do it.", async () => {
      const ownerSignature = await sign("AnswerApproval", { instanceId: id, questionId, approve });
      await answer.mutateAsync({ instanceId: id, questionId, approve, ownerSignature });
    });

  return (
    <section aria-labelledby="approvals-heading">
      <h2 id="approvals-heading">Waiting for your answer</h2>
      <p>What it asked you before doing it. Answer here or in the conversation; no answer in time is a no.</p>
      {list.isPending && <Loading what="its questions" />}
      {list.error && <ErrorBox error={shownError(list.error)} />}
      {act.done && <Notice>{act.done}</Notice>}
      {list.data?.questions.length === 0 && <Empty>Nothing is waiting for you.</Empty>}
      {!canSign && list.data && list.data.questions.length > 0 && (
        <Notice>
          You signed in with Convos, and an answer is signed by your key, which this browser does not hold. Answer in
          the conversation (reply yes or no to the agent's question), with <code>pool approve</code> from the CLI that
          holds your Convos identity (<code>pool keygen --from-convos</code>), or connect a browser wallet of this
          inbox.
        </Notice>
      )}
      {list.data && list.data.questions.length > 0 && (
        <ol className="activity" aria-label="Questions waiting for your answer">
          {list.data.questions.map((q) => (
            <li key={q.id} data-testid="approval">
              <p style={{ whiteSpace: "pre-line" }}>{q.statement}</p>
              <p className="meta">
                Asked {when(q.askedAt)} · waits until {when(q.expiresAt)}
              </p>
              {canSign && (
                <>
                  <button type="button" disabled={!!act.busy} onClick={() => reply(q.id, true)}>
                    {act.busy === q.id ? "Signing…" : "Approve"}
                  </button>{" "}
                  <button type="button" className="danger" disabled={!!act.busy} onClick={() => reply(q.id, false)}>
                    Decline
                  </button>
                </>
              )}
              <ErrorBox error={act.errorOf(q.id)} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
