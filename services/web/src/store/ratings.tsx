// Ratings in the store (docs/store.md, "Ratings"): the stars a card shows,
// and on a template's page its reviews with the creator's answers, the
// "Rate" form for an owner of a day (and why it is not offered otherwise),
// a report link on each review, and the creator's answer form. Reviews are
// plain text: React shows markup as the characters it is.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { TemplateRatingService, type Review } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import type { Template, TemplateRatings } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { useState } from "react";
import { shownError } from "../ui/errors";
import { short, when, whyNotRate } from "../words/format";
import { plural } from "../words/words";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Notice, Pager, Select, SignInFirst, TextArea, usePages } from "../ui/ui";
import { useAction } from "../ui/use-action";

const MAX_REVIEW = 500;

/** Five stars, `value` of them filled (rounded to the nearest half down to whole ones shown). */
const starsText = (value: number) => "★".repeat(Math.round(value)) + "☆".repeat(5 - Math.round(value));

/** A template's stars and count, once the store shows them (3 ratings or more); nothing before. */
export function Stars({ ratings }: { ratings: TemplateRatings | undefined }) {
  if (!ratings) return null;
  const avg = ratings.average.toFixed(1);
  return (
    <span
      className="stars"
      role="img"
      aria-label={`Rated ${avg} out of 5 by ${plural(ratings.count, "owner")}`}
      data-testid="stars"
    >
      <span aria-hidden="true">{starsText(ratings.average)}</span> {avg}{" "}
      <span className="meta">({plural(ratings.count, "rating")})</span>
    </span>
  );
}

/** The template page's ratings and reviews. */
export function Reviews({ template }: { template: Template }) {
  const pages = usePages();
  const list = useQuery(TemplateRatingService.method.listReviews, {
    templateId: template.id,
    pageSize: 10,
    pageToken: pages.token,
  });
  return (
    <section aria-labelledby="reviews-heading" data-testid="reviews">
      <h2 id="reviews-heading">Ratings and reviews</h2>
      {list.data?.ratings ? (
        <p>
          <Stars ratings={list.data.ratings} />
        </p>
      ) : (
        <p className="meta">Not enough ratings yet: the store shows the average from 3 owners' ratings on.</p>
      )}
      <RateForm template={template} />
      {list.isPending && <Loading what="the reviews" />}
      {list.error && <ErrorBox error={shownError(list.error)} />}
      {list.data && list.data.reviews.length === 0 && <Empty>No reviews yet.</Empty>}
      {list.data && list.data.reviews.length > 0 && (
        <ul className="reviews" aria-label="Reviews">
          {list.data.reviews.map((r) => (
            <ReviewItem key={r.reviewerId} review={r} template={template} />
          ))}
        </ul>
      )}
      <Pager pages={pages} nextToken={list.data?.nextPageToken} label="Review pages" />
    </section>
  );
}

function ReviewItem({ review: r, template }: { review: Review; template: Template }) {
  const { inboxId } = useSession();
  const creator = inboxId === template.creatorId;
  return (
    <li className="card review" data-testid="review">
      <p>
        <span role="img" aria-label={`${r.stars} out of 5`}>
          <span aria-hidden="true">{starsText(r.stars)}</span>
        </span>{" "}
        <span className="meta">
          by <span title={r.reviewerId}>{inboxId === r.reviewerId ? "you" : short(r.reviewerId)}</span>,{" "}
          {when(r.updatedAt)}
        </span>
      </p>
      <p className="review-text">{r.text}</p>
      {r.answer && (
        <blockquote className="answer" data-testid="answer">
          <p className="meta">The creator answered, {when(r.answeredAt)}:</p>
          <p className="review-text">{r.answer}</p>
        </blockquote>
      )}
      {creator && !r.answer && <AnswerForm template={template} review={r} />}
      {!creator && inboxId && inboxId !== r.reviewerId && <ReportReview template={template} review={r} />}
    </li>
  );
}

/** Signed in: the caller's own rating, and the form when they may rate; why not, when they may not. */
function RateForm({ template }: { template: Template }) {
  const { signedIn, sign, inboxId } = useSession();
  const mine = useQuery(
    TemplateRatingService.method.getMyRating,
    { templateId: template.id },
    { enabled: signedIn && inboxId !== undefined },
  );
  const action = useAction();
  const rate = useMutation(TemplateRatingService.method.rateTemplate);
  const own = mine.data?.review;
  const [stars, setStars] = useState<string>("");
  const [text, setText] = useState<string | undefined>(undefined);
  const shownStars = stars || (own ? String(own.stars) : "5");
  const shownText = text ?? own?.text ?? "";
  if (!signedIn) return <SignInFirst what="whether you may rate it (owners of one of its agents for a day)" />;
  if (mine.isPending) return <Loading what="your rating" />;
  if (mine.error) return <ErrorBox error={shownError(mine.error)} />;
  const d = mine.data;
  return (
    <div className="card" data-testid="rate">
      {own && (
        <p>
          Your rating: {starsText(own.stars)}
          {own.removed && " — the pool's operators took its words out of the store; your stars still count."}
        </p>
      )}
      {!d.canRate ? (
        <p className="notice" data-testid="why-not-rate">
          {whyNotRate(d.reason, d.canRateFrom)}
        </p>
      ) : (
        <form
          aria-label="Rate this template"
          onSubmit={(e) => {
            e.preventDefault();
            const n = Number(shownStars);
            void action.run("rate", own ? "Your rating is changed." : "Thank you for rating it.", async () => {
              const signature = await sign("RateTemplate", { templateId: template.id, stars: n, review: shownText });
              await rate.mutateAsync({
                templateId: template.id,
                raterId: inboxId ?? "",
                stars: n,
                review: shownText,
                signature,
              });
              setStars("");
              setText(undefined);
            });
          }}
        >
          <Select
            label={own ? "Change your rating" : "Rate it"}
            name="stars"
            error={action.errorOf("rate")}
            value={shownStars}
            onChange={(e) => setStars(e.target.value)}
          >
            {[5, 4, 3, 2, 1].map((n) => (
              <option key={n} value={n}>
                {`${n} ${n === 1 ? "star" : "stars"}`}
              </option>
            ))}
          </Select>
          <TextArea
            label="Review (optional)"
            name="review"
            error={action.errorOf("rate")}
            value={shownText}
            maxLength={MAX_REVIEW}
            onChange={(e) => setText(e.target.value)}
            hint={`Plain text, at most ${MAX_REVIEW} characters; others see it with your inbox. Rating again replaces it.`}
          />
          <ErrorBox error={action.errorOf("rate")} fieldsShown={["stars", "review"]} />
          {action.done && <Notice>{action.done}</Notice>}
          <button type="submit" disabled={action.busy === "rate"}>
            Sign and rate
          </button>
        </form>
      )}
    </div>
  );
}

/** The creator answers a review once (signed). */
function AnswerForm({ template, review }: { template: Template; review: Review }) {
  const { sign, inboxId } = useSession();
  const action = useAction();
  const answerReview = useMutation(TemplateRatingService.method.answerReview);
  const [answer, setAnswer] = useState("");
  return (
    <details>
      <summary>Answer this review</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void action.run("answer", "Your answer is shown under the review.", async () => {
            const fields = { templateId: template.id, reviewerId: review.reviewerId, answer };
            const signature = await sign("AnswerTemplateReview", fields);
            await answerReview.mutateAsync({ ...fields, creatorId: inboxId ?? "", signature });
          });
        }}
      >
        <TextArea
          label="Your answer"
          name="answer"
          error={action.errorOf("answer")}
          required
          maxLength={MAX_REVIEW}
          value={answer}
          onChange={(e) => setAnswer(e.target.value)}
          hint="Once per review, plain text, at most 500 characters."
        />
        <ErrorBox error={action.errorOf("answer")} fieldsShown={["answer"]} />
        <button type="submit" disabled={action.busy === "answer"}>
          Sign and answer
        </button>
      </form>
    </details>
  );
}

/** Anyone signed in reports a review to the operators, once. */
function ReportReview({ template, review }: { template: Template; review: Review }) {
  const action = useAction();
  const report = useMutation(TemplateRatingService.method.reportReview);
  const [reason, setReason] = useState("");
  return (
    <details>
      <summary>Report this review</summary>
      {action.done ? (
        <Notice>{action.done}</Notice>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void action.run("report", "Thank you: the pool's operators will look at it.", async () => {
              await report.mutateAsync({ templateId: template.id, reviewerId: review.reviewerId, reason });
            });
          }}
        >
          <TextArea
            label="What is wrong with this review"
            name="reason"
            error={action.errorOf("report")}
            required
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            hint="Operators read it; at most 1,000 characters."
          />
          <ErrorBox error={action.errorOf("report")} fieldsShown={["reason"]} />
          <button type="submit" disabled={action.busy === "report"}>
            Report
          </button>
        </form>
      )}
    </details>
  );
}
