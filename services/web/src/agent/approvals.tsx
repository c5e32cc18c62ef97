// "Waiting for your answer" on an agent's page (docs/web.md; docs/trust.md,
// "Approvals from outside the conversation"): the questions the agent asked
// its owner before an act its trust level gates, for an owner who is not in
// the conversation. Approve and Decline are signed AnswerApproval over this
// question and this answer, as the page's other owner actions are signed;
// the agent checks the signature itself, and a question answered meanwhile
// (in the chat, or timed out) is refused and changes nothing. Signed in with
// Convos alone, the same buttons have the agent ask its owner to confirm the
// answer in Convos instead (confirm-in-convos.tsx).
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { shownError } from "../ui/errors";
import { when } from "../words/format";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Notice } from "../ui/ui";
import { useAction } from "../ui/use-action";
import { ConfirmInConvos, useConvosConfirm } from "./confirm-in-convos";

export function Approvals({ id }: { id: string }) {
  const { sign, canSign } = useSession();
  const act = useAction();
  const list = useQuery(ApprovalService.method.listApprovals, { instanceId: id }, { refetchInterval: 5_000 });
  const answer = useMutation(ApprovalService.method.answerApproval);
  const { confirm, waiting } = useConvosConfirm();

  const reply = (questionId: string, approve: boolean) =>
    void act.run(questionId, approve ? "Approved: it goes ahead." : "Declined: it will not do it.", async () => {
      if (!canSign) {
        const what = `${approve ? "approve" : "decline"} what it asked you`;
        await confirm(id, { kind: "answer_approval", questionId, approve }, what);
        return;
      }
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
          You signed in with Convos: Approve and Decline here have the agent ask you to confirm in Convos, where only
          your answer counts. You can also answer its question in the conversation.
        </Notice>
      )}
      <ConfirmInConvos waiting={waiting} />
      {list.data && list.data.questions.length > 0 && (
        <ol className="activity" aria-label="Questions waiting for your answer">
          {list.data.questions.map((q) => (
            <li key={q.id} data-testid="approval">
              <p style={{ whiteSpace: "pre-line" }}>{q.statement}</p>
              <p className="meta">
                Asked {when(q.askedAt)} · waits until {when(q.expiresAt)}
              </p>
              <button type="button" disabled={!!act.busy} onClick={() => reply(q.id, true)}>
                {act.busy === q.id
                  ? canSign
                    ? "Signing…"
                    : "Waiting for Convos…"
                  : canSign
                    ? "Approve"
                    : "Approve in Convos"}
              </button>{" "}
              <button type="button" className="danger" disabled={!!act.busy} onClick={() => reply(q.id, false)}>
                {canSign ? "Decline" : "Decline in Convos"}
              </button>
              <ErrorBox error={act.errorOf(q.id)} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
