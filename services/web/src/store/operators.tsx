// The operators' curation page (docs/store.md, "Ratings"; docs/web.md):
// reviews that people reported, most recently reported first, each with its
// reasons, and its removal, signed (RemoveTemplateReview) with the reason the
// curation log keeps. Only the pool's operators (POOL_OPERATORS) get the
// list; anyone else is told so by the service.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import {
  StoreCurationService,
  type ReportedReview,
} from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { useState } from "react";
import { shownError } from "../ui/errors";
import { short, when } from "../words/format";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Notice, Page, Pager, SignInFirst, TextArea, usePages } from "../ui/ui";
import { plural } from "../words/words";
import { useAction } from "../ui/use-action";

export function OperatorsPage() {
  const { signedIn } = useSession();
  const pages = usePages();
  // Here, not in an item: a removed review leaves the list, its notice stays.
  const action = useAction();
  const reported = useQuery(
    StoreCurationService.method.listReviewReports,
    { pageSize: 20, pageToken: pages.token },
    { enabled: signedIn },
  );
  return (
    <Page title="Curation">
      <h2>Reported reviews</h2>
      {!signedIn && <SignInFirst what="the reviews people reported (the pool's operators only)" />}
      {signedIn && reported.isPending && <Loading what="reported reviews" />}
      {reported.error && <ErrorBox error={shownError(reported.error)} />}
      {action.done && <Notice>{action.done}</Notice>}
      {reported.data && reported.data.reviews.length === 0 && <Empty>No review is reported.</Empty>}
      {reported.data && reported.data.reviews.length > 0 && (
        <ul className="reviews" aria-label="Reported reviews">
          {reported.data.reviews.map((r) => (
            <Reported key={`${r.review?.templateId}/${r.review?.reviewerId}`} reported={r} action={action} />
          ))}
        </ul>
      )}
      <Pager pages={pages} nextToken={reported.data?.nextPageToken} label="Reported review pages" />
    </Page>
  );
}

function Reported({ reported: r, action }: { reported: ReportedReview; action: ReturnType<typeof useAction> }) {
  const { sign, inboxId } = useSession();
  const remove = useMutation(StoreCurationService.method.removeReview);
  const [reason, setReason] = useState("");
  const review = r.review;
  if (!review) return null;
  const what = `remove ${review.templateId} ${review.reviewerId}`;
  return (
    <li className="card review" data-testid="reported-review">
      <p className="meta">
        <Link to={`/templates/${review.templateId}`}>Template {short(review.templateId)}</Link> · {review.stars} of 5 by{" "}
        <span title={review.reviewerId}>{short(review.reviewerId)}</span> · reported by{" "}
        {plural(r.reportCount, "person", "people")}, last {when(r.lastReportedAt)}
      </p>
      <p className="review-text">{review.text}</p>
      <p className="meta">Reasons given: {r.reasons.join(" · ")}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(what, "Removed: its words are out of the store; its stars still count.", async () => {
            const why = reason.trim();
            const fields = { templateId: review.templateId, reviewerId: review.reviewerId, reason: why };
            const signature = await sign("RemoveTemplateReview", fields);
            await remove.mutateAsync({ ...fields, operatorId: inboxId ?? "", signature });
          });
        }}
      >
        <TextArea
          label="Why remove it"
          name="reason"
          error={action.errorOf(what)}
          required
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          hint="Kept in the curation log with your signature."
        />
        <ErrorBox error={action.errorOf(what)} fieldsShown={["reason"]} />
        <button type="submit" disabled={action.busy !== undefined}>
          Sign and remove the review
        </button>
      </form>
    </li>
  );
}
