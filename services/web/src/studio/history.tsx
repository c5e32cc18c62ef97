// A template's versions: every change with who made it and why, a diff
// between any two, and a rollback to an earlier one (signed over the content
// it restores). Only the creator may read the history. A rollback to a
// version without the wallet is refused until the creator acknowledges it
// (docs/templates.md, "A version without the wallet"), as in the editor.
// Each version shows the creator's release notes beside its summary, and a
// rollback carries notes of its own, as a save does.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { TemplateVersion } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { checkReleaseNotes, contentToJson, jsonHash } from "@convos-pool/kit/browser";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { contentOf, prettyContent } from "./content";
import { DiffView } from "../ui/diff-view";
import { missingFromAnswer, shownError, type ShownError } from "../ui/errors";
import { when } from "../words/format";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, Loading, Notice, Page, Select, SignInFirst } from "../ui/ui";
import { RELEASE_NOTES_FIELD, ReleaseNotesField } from "./release-notes-field";
import { rollbackOffer } from "./rollback-offer";
import { asksWalletAcknowledgment, WalletAcknowledgment } from "./wallet-acknowledgment";

export function HistoryPage({ id }: { id: string }) {
  const { signedIn, sign } = useSession();
  const queryClient = useQueryClient();
  const [pageToken, setPageToken] = useState("");
  const [versions, setVersions] = useState<TemplateVersion[]>([]);
  const page = useQuery(
    TemplateService.method.listTemplateVersions,
    { templateId: id, pageSize: 50, pageToken },
    { enabled: signedIn },
  );
  const template = useQuery(TemplateService.method.getTemplate, { templateId: id }, { enabled: signedIn });
  const [from, setFrom] = useState<string>();
  const [to, setTo] = useState<string>();
  const [error, setError] = useState<ShownError>();
  const [done, setDone] = useState<string>();
  const rollback = useMutation(TemplateService.method.rollbackTemplate);
  // The version whose rollback was refused for taking the wallet away, and whether the creator acknowledges it.
  const [walletAsked, setWalletAsked] = useState<bigint>();
  const [walletAcknowledged, setWalletAcknowledged] = useState(false);
  const [releaseNotes, setReleaseNotes] = useState("");

  // Pages accumulate, newest first; a refetch of the first page starts over.
  useEffect(() => {
    if (!page.data) return;
    setVersions((old) => {
      const byVersion = new Map((pageToken ? old : []).map((v) => [v.version, v]));
      for (const v of page.data.versions) byVersion.set(v.version, v);
      return [...byVersion.values()].sort((a, b) => Number(b.version - a.version));
    });
  }, [page.data, pageToken]);

  if (!signedIn) {
    return (
      <Page title="Versions">
        <SignInFirst what="this template's versions" />
      </Page>
    );
  }
  if (page.error) {
    return (
      <Page title="Versions">
        <ErrorBox error={shownError(page.error)} />
      </Page>
    );
  }
  const [newest] = versions;
  if (!newest || !template.data) return <Loading what="the versions" />;
  const current = template.data.template;
  if (!current) {
    return (
      <Page title="Versions">
        <ErrorBox error={shownError(missingFromAnswer("template"))} />
      </Page>
    );
  }
  const toV = versions.find((v) => String(v.version) === to) ?? newest;
  const fromV = versions.find((v) => String(v.version) === from) ?? versions[1] ?? newest;

  const rollTo = async (v: TemplateVersion) => {
    setError(undefined);
    setDone(undefined);
    try {
      const content = v.snapshot?.content;
      if (!content) throw missingFromAnswer(`content of version ${v.version}`);
      const contentHash = jsonHash(contentToJson(content));
      checkReleaseNotes(releaseNotes);
      const acknowledgeWalletRemoval = walletAsked === v.version && walletAcknowledged;
      const signature = await sign("RollbackTemplate", {
        templateId: id,
        version: current.version,
        targetVersion: v.version,
        contentHash,
        acknowledgeWalletRemoval,
      });
      const res = await rollback.mutateAsync({
        templateId: id,
        expectedVersion: current.version,
        targetVersion: v.version,
        signature,
        acknowledgeWalletRemoval,
        releaseNotes,
      });
      setWalletAsked(undefined);
      setWalletAcknowledged(false);
      setReleaseNotes("");
      setDone(
        res.template
          ? `Rolled back: version ${res.template.version} has the content of version ${v.version}.`
          : `Rolled back to the content of version ${v.version}.`,
      );
      setPageToken("");
      await queryClient.invalidateQueries();
    } catch (err) {
      const e = shownError(err);
      if (asksWalletAcknowledgment(e)) setWalletAsked(v.version);
      setError(e);
    }
  };

  const label = (v: TemplateVersion) => `v${v.version} · ${v.changeSummary || "change"} · ${when(v.changedAt)}`;
  return (
    <Page
      title={`Versions of ${current.content?.agentName}`}
      actions={
        <>
          <Link className="button" to={`/studio/${id}/compare`}>
            How versions do
          </Link>
          <Link className="button" to={`/studio/${id}`}>
            Edit
          </Link>
        </>
      }
    >
      <ErrorBox error={error} fieldsShown={[RELEASE_NOTES_FIELD]} />
      {walletAsked !== undefined && (
        <WalletAcknowledgment checked={walletAcknowledged} onChange={setWalletAcknowledged}>
          I know version {String(walletAsked)} has no wallet: rolling back to it takes the wallet away from the agents
          of this template; what each wallet holds goes back to its owner, who is told in their conversation first. Sign
          this with the rollback.
        </WalletAcknowledgment>
      )}
      {done && <Notice>{done}</Notice>}
      <section aria-labelledby="compare-heading">
        <h2 id="compare-heading">Compare</h2>
        <div className="row">
          <Select label="From" name="from" value={String(fromV.version)} onChange={(e) => setFrom(e.target.value)}>
            {versions.map((v) => (
              <option key={String(v.version)} value={String(v.version)}>
                {label(v)}
              </option>
            ))}
          </Select>
          <Select label="To" name="to" value={String(toV.version)} onChange={(e) => setTo(e.target.value)}>
            {versions.map((v) => (
              <option key={String(v.version)} value={String(v.version)}>
                {label(v)}
              </option>
            ))}
          </Select>
        </div>
        <DiffView
          before={prettyContent(contentOf(fromV.snapshot))}
          after={prettyContent(contentOf(toV.snapshot))}
          beforeLabel={`v${fromV.version}`}
          afterLabel={`v${toV.version}`}
        />
      </section>
      <h2>History</h2>
      <ReleaseNotesField value={releaseNotes} onChange={setReleaseNotes} error={error} when="with a rollback below" />
      <ol className="versions" reversed>
        {versions.map((v) => {
          const offer = rollbackOffer(v.snapshot, current);
          return (
            <li key={String(v.version)}>
              <strong>v{String(v.version)}</strong> {v.changeSummary || "change"} · {when(v.changedAt)}
              {!offer.offered ? (
                <span className="tag">{offer.why === "current" ? "current" : "same content as current"}</span>
              ) : (
                <button
                  type="button"
                  className="small"
                  disabled={rollback.isPending}
                  onClick={() => void rollTo(v)}
                  aria-label={`Roll back to version ${v.version}`}
                >
                  Roll back to this
                </button>
              )}
              {v.releaseNotes && (
                <p className="version-notes" data-testid="version-notes">
                  {v.releaseNotes}
                </p>
              )}
            </li>
          );
        })}
      </ol>
      {page.data?.nextPageToken && (
        <button type="button" onClick={() => setPageToken(page.data.nextPageToken)}>
          Older versions
        </button>
      )}
    </Page>
  );
}
