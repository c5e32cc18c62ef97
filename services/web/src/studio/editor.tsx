// The Studio's editor: create a template, or edit one from the version it
// opened at. A form and a JSON view of the same content; the browser checks
// it with the kit's rules, signs it (CreateTemplate / UpdateTemplate over its
// canonical hash) and sends it. A save based on a version that is no longer
// the newest is refused by the server (ABORTED); the page also notices a
// newer version on its own, and then shows both side by side. A version that
// takes the pool's wallet away from agents is refused until its creator
// acknowledges it: the refusal brings a checkbox, signed with the next save
// (docs/templates.md, "A version without the wallet"). A new version of a
// template carries the creator's release notes (not signed); a new template
// has none (CreateTemplate takes none). A new version may go out as a staged
// rollout to a share of conversations first (rollout-start.tsx).
import { Code } from "@connectrpc/connect";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  checkReleaseNotes,
  contentFromJson,
  jsonHash,
  validateContent,
  type TemplateContentJson,
} from "@convos-pool/kit/browser";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { contentOf, parseContent, prettyContent } from "./content";
import { missingFromAnswer, shownError, type ShownError } from "../ui/errors";
import { statusName, visibilityName, when } from "../words/format";
import { Link, navigate } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, Loading, Notice, Page, SignInFirst, TextArea } from "../ui/ui";
import { ContentForm, formFields } from "./content-form";
import { Manage } from "./manage";
import { Stale } from "./stale";
import { TestChat } from "./test-chat";
import { useFoldedLesson, withLesson } from "../dashboard/learned-patterns";
import { RELEASE_NOTES_FIELD, ReleaseNotesField } from "./release-notes-field";
import { asksWalletAcknowledgment, WalletAcknowledgment } from "./wallet-acknowledgment";
import {
  EVERYONE,
  ReleaseChoiceField,
  ROLLOUT_FIELDS,
  useStartRollout,
  type ReleaseChoice,
} from "../rollouts/rollout-start";
import { LiveRolloutNotice, rolloutPath } from "../rollouts/rollouts";

export function EditorPage({ id }: { id?: string }) {
  const { signedIn } = useSession();
  const current = useQuery(
    TemplateService.method.getTemplate,
    { templateId: id ?? "" },
    { enabled: Boolean(id && signedIn), refetchInterval: 10_000 },
  );
  if (!signedIn) {
    return (
      <Page title={id ? "Edit template" : "New template"}>
        <SignInFirst what="your templates" />
      </Page>
    );
  }
  if (!id) return <Editor />;
  if (current.isPending) return <Loading what="the template" />;
  const latest = current.data?.template;
  if (current.error || !latest) {
    return (
      <Page title="Edit template">
        <ErrorBox error={shownError(current.error ?? missingFromAnswer("template"))} />
      </Page>
    );
  }
  return <Editor latest={latest} />;
}

/** `latest`: the newest version the server has shown (it moves when someone else saves). */
function Editor({ latest }: { latest?: Template }) {
  const { sign, inboxId } = useSession();
  const queryClient = useQueryClient();
  // The version this edit is based on: the one opened, until the creator takes a newer one.
  const [base, setBase] = useState<Template | undefined>(latest);
  // A lesson folded in from the dashboard: added to the draft, saved only when the creator signs.
  const folded = useFoldedLesson(latest?.id);
  const [draft, setDraft] = useState<TemplateContentJson>(() => withLesson(contentOf(latest), folded));
  const [view, setView] = useState<"form" | "json">("form");
  const [jsonText, setJsonText] = useState("");
  const [releaseNotes, setReleaseNotes] = useState("");
  const [release, setRelease] = useState<ReleaseChoice>(EVERYONE);
  const startRollout = useStartRollout();
  const [error, setError] = useState<ShownError>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);
  // The server refused a version that takes the wallet away (asked), and whether the creator acknowledges it.
  const [walletAsked, setWalletAsked] = useState(false);
  const [walletAcknowledged, setWalletAcknowledged] = useState(false);
  const create = useMutation(TemplateService.method.createTemplate);
  const update = useMutation(TemplateService.method.updateTemplate);

  const newer = latest && base && latest.version > base.version ? latest : undefined;
  const editing = base !== undefined;

  useEffect(() => {
    if (saved) {
      const t = setTimeout(() => setSaved(undefined), 6_000);
      return () => clearTimeout(t);
    }
  }, [saved]);

  /** The content as it stands, from whichever view is open. */
  function currentDraft(): TemplateContentJson {
    return view === "json" ? parseContent(jsonText) : draft;
  }

  function switchView(to: "form" | "json") {
    if (to === view) return;
    if (to === "json") {
      setJsonText(prettyContent(draft));
    } else {
      try {
        setDraft(parseContent(jsonText));
      } catch (err) {
        setError(shownError(err));
        return;
      }
    }
    setError(undefined);
    setView(to);
  }

  async function act(what: string, action: () => Promise<void>) {
    setBusy(true);
    setError(undefined);
    setSaved(undefined);
    try {
      await action();
      setSaved(what);
    } catch (err) {
      const e = shownError(err);
      if (e.code === Code.Aborted) await queryClient.invalidateQueries();
      if (asksWalletAcknowledgment(e)) setWalletAsked(true);
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const save = () =>
    act("Saved.", async () => {
      const content = currentDraft();
      validateContent(content);
      if (!base) {
        if (!inboxId) throw new Error("sign in first");
        const signature = await sign("CreateTemplate", { contentHash: jsonHash(content) });
        const res = await create.mutateAsync({ creatorId: inboxId, content: contentFromJson(content), signature });
        await queryClient.invalidateQueries();
        if (!res.template) throw missingFromAnswer("new template");
        navigate(`/studio/${res.template.id}`, { replace: true });
        return;
      }
      checkReleaseNotes(releaseNotes);
      const acknowledgeWalletRemoval = walletAsked && walletAcknowledged;
      if (release.staged) {
        const r = await startRollout(base, content, release, { releaseNotes, acknowledgeWalletRemoval });
        navigate(rolloutPath(base.id, r.rolloutId));
        return;
      }
      const signature = await sign("UpdateTemplate", {
        templateId: base.id,
        version: base.version,
        contentHash: jsonHash(content),
        acknowledgeWalletRemoval,
      });
      const res = await update.mutateAsync({
        templateId: base.id,
        expectedVersion: base.version,
        content: contentFromJson(content),
        signature,
        acknowledgeWalletRemoval,
        releaseNotes,
      });
      setWalletAsked(false);
      setWalletAcknowledged(false);
      setBase(res.template);
      setDraft(content);
      setReleaseNotes("");
      await queryClient.invalidateQueries();
    });

  const title = editing ? `Edit ${base.content?.agentName}` : "New template";
  return (
    <Page
      title={title}
      actions={
        base && (
          <>
            <Link className="button" to={`/templates/${base.id}`}>
              Store page
            </Link>
            <Link className="button" to={`/studio/${base.id}/history`}>
              Versions
            </Link>
            <Link className="button" to={`/studio/${base.id}/dashboard`}>
              Dashboard
            </Link>
            <Link className="button" to={`/studio/${base.id}/rollouts`}>
              Rollouts
            </Link>
          </>
        )
      }
    >
      {base && (
        <p className="meta" data-testid="base-version">
          Version {String(base.version)} · {visibilityName(base.visibility)} · {statusName(base.status)} · updated{" "}
          {when(base.updatedAt)}
        </p>
      )}
      {base && <LiveRolloutNotice templateId={base.id} />}
      {folded && (
        <Notice>
          A lesson your agents learned is now the last line of the instructions. Review it, then sign and save a new
          version.
        </Notice>
      )}
      {newer && (
        <Stale
          mine={currentDraftSafe()}
          theirs={newer}
          onTakeTheirs={() => {
            setBase(newer);
            setDraft(contentOf(newer));
            setJsonText(prettyContent(contentOf(newer)));
            setError(undefined);
          }}
          onKeepMine={() => {
            setBase(newer);
            setError(undefined);
          }}
        />
      )}
      <fieldset className="tabs">
        <legend className="sr-only">View</legend>
        <button type="button" aria-pressed={view === "form"} onClick={() => switchView("form")}>
          Form
        </button>
        <button type="button" aria-pressed={view === "json"} onClick={() => switchView("json")}>
          JSON
        </button>
      </fieldset>
      {/* The draft and its test chat side by side where the screen allows (styles.css, .editor-split). */}
      <div className="editor-split">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
          aria-busy={busy}
        >
          {view === "form" ? (
            <ContentForm value={draft} onChange={setDraft} error={error} />
          ) : (
            <TextArea
              label="Content (JSON)"
              name="content"
              rows={24}
              value={jsonText}
              onChange={(e) => setJsonText(e.target.value)}
              spellCheck={false}
              error={error}
              className="code"
            />
          )}
          {editing && (
            <>
              <ReleaseNotesField
                value={releaseNotes}
                onChange={setReleaseNotes}
                error={error}
                when="with this version"
              />
              <ReleaseChoiceField value={release} onChange={setRelease} error={error} />
            </>
          )}
          <ErrorBox
            error={error}
            fieldsShown={[
              ...(view === "form" ? formFields(draft) : ["content"]),
              ...(editing ? [RELEASE_NOTES_FIELD] : []),
              ...(editing && release.staged ? ROLLOUT_FIELDS : []),
            ]}
          />
          {walletAsked && (
            <WalletAcknowledgment checked={walletAcknowledged} onChange={setWalletAcknowledged}>
              I know this version takes the wallet away from the agents of this template: what each wallet holds goes
              back to its owner, who is told in their conversation first. Sign this with the new version.
            </WalletAcknowledgment>
          )}
          {saved && <Notice>{saved}</Notice>}
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy
                ? "Signing and saving…"
                : !editing
                  ? "Sign and create"
                  : release.staged
                    ? "Sign and start the rollout"
                    : "Sign and save a new version"}
            </button>
          </div>
        </form>
        <TestChat templateId={base?.id ?? ""} draft={currentDraft} />
      </div>
      {base && <Manage template={base} busy={busy} act={act} onChanged={setBase} />}
    </Page>
  );

  function currentDraftSafe(): TemplateContentJson {
    try {
      return currentDraft();
    } catch {
      return draft;
    }
  }
}
