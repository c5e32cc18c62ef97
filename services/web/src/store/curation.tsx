// The store's curation in the app (docs/store.md): what operators feature,
// reporting a template, and, for its creator, a delisting's reason with the
// request for review (signed RequestTemplateReview).
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { ReviewState, type Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { shownError, type ShownError } from "../ui/errors";
import { when } from "../words/format";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, Notice, TextArea } from "../ui/ui";
import { plural } from "../words/words";

/** The operators' featured templates, above the store's first page. */
export function Featured() {
  const featured = useQuery(StoreCurationService.method.listFeatured, { pageSize: 6 });
  const templates = featured.data?.templates ?? [];
  if (templates.length === 0) return null;
  return (
    <section aria-labelledby="featured-heading">
      <h2 id="featured-heading">Featured</h2>
      <ul className="cards" aria-label="Featured templates">
        {templates.map((t) => (
          <li key={t.id} className="card">
            <h3>
              <Link to={`/templates/${t.id}`}>{t.content?.agentName}</Link>
            </h3>
            <p>{t.content?.description || "No description."}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Who added an agent of it lately: what "most used" counts. */
export const recentOwners = (t: Template) => `${plural(t.recentOwners, "person", "people")} in 30 days`;

/** Anyone signed in but its creator reports a template to the operators, once while the report is open. */
export function ReportTemplate({ template }: { template: Template }) {
  const { signedIn, inboxId } = useSession();
  const report = useMutation(StoreCurationService.method.reportTemplate);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<ShownError>();
  if (!signedIn || inboxId === template.creatorId) return null;
  return (
    <details className="card">
      <summary>Report this template</summary>
      {report.data ? (
        <Notice>Thank you: the pool's operators will look at it.</Notice>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setError(undefined);
            report.mutateAsync({ templateId: template.id, reason }).catch((err: unknown) => setError(shownError(err)));
          }}
        >
          <TextArea
            label="What is wrong with it"
            name="reason"
            error={error}
            required
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            hint="Operators read it; at most 1,000 characters."
          />
          <ErrorBox error={error} fieldsShown={["reason"]} />
          <button type="submit" disabled={report.isPending}>
            Report
          </button>
        </form>
      )}
    </details>
  );
}

const REVIEW: Record<ReviewState, string> = {
  [ReviewState.UNSPECIFIED]: "",
  [ReviewState.REQUESTED]: "You asked for a review; the operators have not answered yet.",
  [ReviewState.DECLINED]: "The operators looked again and kept it out:",
};

/** Its creator sees why the template is out of the store, and asks for a review once it is fixed. */
export function Delisted({ template }: { template: Template }) {
  const { sign } = useSession();
  const queryClient = useQueryClient();
  const request = useMutation(StoreCurationService.method.requestReview, {
    onSuccess: () => void queryClient.invalidateQueries(),
  });
  const [message, setMessage] = useState("");
  const [error, setError] = useState<ShownError>();
  const d = template.delisting;
  if (!d) return null;
  async function submit() {
    setError(undefined);
    try {
      const signature = await sign("RequestTemplateReview", {
        templateId: template.id,
        version: template.version,
        message,
      });
      await request.mutateAsync({ templateId: template.id, expectedVersion: template.version, message, signature });
      setMessage("");
    } catch (err) {
      setError(shownError(err));
    }
  }
  return (
    <section className="card" aria-labelledby="delisted-heading" data-testid="delisting">
      <h2 id="delisted-heading">Out of the store</h2>
      <p>
        The pool's operators took this template out of the store on {when(d.delistedAt)}: <strong>{d.reason}</strong>
      </p>
      <p>Its agents keep working and get your updates; no new agent of it can be added but yours.</p>
      {d.reviewState !== ReviewState.UNSPECIFIED && (
        <p role="status">
          {REVIEW[d.reviewState]} {d.reviewState === ReviewState.DECLINED && <strong>{d.reviewNote}</strong>}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <TextArea
          label="What you fixed"
          name="message"
          error={error}
          required
          value={message}
          onChange={(e) => setMessage(e.target.value)}
          hint={`The operators review version ${String(template.version)}, as it is now.`}
        />
        <ErrorBox error={error} fieldsShown={["message"]} />
        <button type="submit" disabled={request.isPending}>
          Sign and ask for a review
        </button>
      </form>
    </section>
  );
}
