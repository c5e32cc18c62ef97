// The block at the top of an agent's overview when its owner pinned it and
// its template has a newer version since (docs/web.md, "A newer version"):
// which one, the creator's notes of every version between, how the two do
// (CompareVersions, figures per 100 answers), and the move to it in one
// signed step. What is shown is decided in newer-version.ts.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { VersionSignalInsightsService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { TemplateService, type ReleaseNote } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { useQuery as useTanstackQuery } from "@tanstack/react-query";
import { shownError } from "../ui/errors";
import { when } from "../words/format";
import {
  comparisonTable,
  notesBetween,
  notesMayContinue,
  type ComparedVersion,
  type NewerRelease,
} from "./newer-version";
import { transport, useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading } from "../ui/ui";
import { plural } from "../words/words";
import type { useAction } from "../ui/use-action";

const templates = createClient(TemplateService, transport);

/** Release notes are read newest first, this many a page, until the pages reach the version the agent runs. */
const NOTES_PAGE = 100;

async function readNotesBetween(templateId: string, r: NewerRelease): Promise<ReleaseNote[]> {
  const read: ReleaseNote[] = [];
  let pageToken = "";
  do {
    const page = await templates.listReleaseNotes({ templateId, pageSize: NOTES_PAGE, pageToken });
    read.push(...page.notes);
    pageToken = page.nextPageToken;
    if (!notesMayContinue(page.notes.at(-1), r)) break;
  } while (pageToken);
  return notesBetween(read, r);
}

export function NewerVersion({
  agent: i,
  newer: r,
  act,
}: {
  agent: Instance;
  newer: NewerRelease;
  act: ReturnType<typeof useAction>;
}) {
  const { sign } = useSession();
  const pin = useMutation(ClaimService.method.setInstancePin);
  const name = r.baseOnly ? "the update" : `version ${r.newest}`;
  return (
    <section className="card newer" aria-labelledby="newer-heading" data-testid="newer-version">
      <h2 id="newer-heading">
        {r.baseOnly ? "An update of the template it is built on is out" : `Version ${r.newest} is out`}
      </h2>
      <p>
        You pinned this agent to version {String(r.applied)} of its template.{" "}
        {r.baseOnly
          ? "The template it is built on has changed since: its own instructions are the same."
          : `Its creator has released ${r.newest - r.applied === 1n ? "a newer version" : "newer versions"} since.`}
      </p>
      {!r.baseOnly && (
        <>
          <h3>What changed</h3>
          <Notes templateId={i.templateId} newer={r} />
          <h3>How they compare</h3>
          <Comparison templateId={i.templateId} newer={r} />
        </>
      )}
      <ErrorBox error={act.errorOf("move")} />
      <button
        type="button"
        className="primary"
        disabled={!!act.busy}
        onClick={() =>
          void act.run("move", `Moving to ${name}: it follows its template's updates from now on.`, async () => {
            // Unpinning is the move: the claims service makes the agent due at once and delivers the newest release.
            const ownerSignature = await sign("SetInstancePin", { instanceId: i.id, pinned: false });
            await pin.mutateAsync({ instanceId: i.id, pinned: false, ownerSignature });
          })
        }
      >
        Sign and move to {name}
      </button>
      <p className="hint">
        It then follows its template's updates as they come; pin it again on the new version to stay there.
      </p>
    </section>
  );
}

function Notes({ templateId, newer: r }: { templateId: string; newer: NewerRelease }) {
  const notes = useTanstackQuery({
    queryKey: ["release-notes-between", templateId, String(r.applied), String(r.newest)],
    queryFn: () => readNotesBetween(templateId, r),
    retry: (n, err) => n < 1 && !(err instanceof ConnectError && err.code === Code.NotFound),
  });
  if (notes.isPending) return <Loading what="its release notes" />;
  if (notes.error) {
    // A template out of the store (private again, archived, delisted) shows its history to its creator only.
    if (notes.error instanceof ConnectError && notes.error.code === Code.NotFound) {
      return <Empty>Its notes are not shown: the template is no longer in the store. Its agents still get it.</Empty>;
    }
    return <ErrorBox error={shownError(notes.error)} />;
  }
  if (notes.data.length === 0) return <Empty>Its creator wrote no notes for these versions.</Empty>;
  return (
    <ol className="release-notes" data-testid="release-notes">
      {notes.data.map((n) => (
        <li key={String(n.version)}>
          <p className="meta">
            <strong>Version {String(n.version)}</strong> · {n.changeSummary || "change"} · {when(n.releasedAt)}
          </p>
          <p className="notes-text">{n.releaseNotes || "No notes with this version."}</p>
        </li>
      ))}
    </ol>
  );
}

function Comparison({ templateId, newer: r }: { templateId: string; newer: NewerRelease }) {
  const older = String(r.applied);
  const newest = String(r.newest);
  const compared = useQuery(
    VersionSignalInsightsService.method.compareVersions,
    { templateId, versions: [older, newest] },
    { retry: false },
  );
  if (compared.isPending) return <Loading what="how the two compare" />;
  // The comparison helps the choice but is not needed for it: without it the rest of the block stands.
  if (compared.error) {
    return (
      <p className="meta" data-testid="comparison-unavailable">
        How the two versions compare cannot be shown right now.
      </p>
    );
  }
  const t = comparisonTable(compared.data, older, newest);
  const threshold = `figures show for a day once at least ${t.minConversations} conversations reported it`;
  if (t.rows.length === 0) {
    return <Empty>Not enough conversations yet to compare them: {threshold}.</Empty>;
  }
  const head = (c: ComparedVersion, mine: boolean) => (
    <th scope="col">
      Version {c.version}
      {mine && " (this agent)"}
      <span className="meta">
        {c.enough
          ? ` ${plural(c.answers, "answer")} over ${plural(c.daysShown, "day")}`
          : " not enough conversations yet"}
      </span>
    </th>
  );
  return (
    <section
      className="table-wrap"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll container: the keyboard scrolls it only when it can take focus (WCAG 2.1.1; the rule's own documentation makes this exception)
      tabIndex={0}
      aria-label="How the two versions compare (scrolls sideways)"
      data-testid="comparison"
    >
      <table>
        <caption>Per 100 answers, over the days each ran with enough conversations; {threshold}.</caption>
        <thead>
          <tr>
            <th scope="col">What people did</th>
            {head(t.older, true)}
            {head(t.newer, false)}
          </tr>
        </thead>
        <tbody>
          {t.rows.map((row) => (
            <tr key={row.figure}>
              <th scope="row">{row.figure}</th>
              <td>{row.older}</td>
              <td>{row.newer}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
