// "Learned by your agents" on a template's dashboard (docs/patterns.md, "What
// the creator sees"): the lessons its agents offered to the pattern pool, how
// many agents offered and adopted each, when each expires, and the offers the
// scan refused by reason. "Fold into a new version" opens the editor with the
// lesson added to the instructions; nothing is saved until the creator signs.
import { useQuery } from "@connectrpc/connect-query";
import { PatternInsightsService, type RefusalCount } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import type { TemplateContentJson } from "@convos-pool/kit/browser";
import { useEffect, useState } from "react";
import { shownError } from "../ui/errors";
import { when } from "../words/format";
import { navigate } from "../router";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox } from "../ui/ui";

const REFRESH_MS = 10_000;
const SHOWN = 50;

const REFUSAL_WORDS: Record<string, string> = {
  personal_data: "with personal data",
  secret: "with a secret",
  injection: "trying to change other agents' rules",
  link: "with a link",
  steering: "about payments, approvals or who the owner is",
};

const agents = (n: bigint) => `${n} agent${n === 1n ? "" : "s"}`;

/** The lesson waiting for the editor of `templateId`, between the dashboard and the editor (this tab only). */
const foldKey = (templateId: string) => `convos-pool/fold/${templateId}`;

function foldIntoNewVersion(templateId: string, lesson: string): void {
  sessionStorage.setItem(foldKey(templateId), lesson);
  navigate(`/studio/${templateId}`);
}

/** The lesson the dashboard sent to this editor, read once: a reload opens the template as it is. */
export function useFoldedLesson(templateId: string | undefined): string | undefined {
  const [lesson] = useState(() =>
    templateId ? (sessionStorage.getItem(foldKey(templateId)) ?? undefined) : undefined,
  );
  useEffect(() => {
    if (templateId) sessionStorage.removeItem(foldKey(templateId));
  }, [templateId]);
  return lesson;
}

/** The content with the lesson as a new last line of its instructions. */
export function withLesson(content: TemplateContentJson, lesson: string | undefined): TemplateContentJson {
  return lesson ? { ...content, instructions: `${content.instructions.trimEnd()}\n${lesson}` } : content;
}

function Refusals({ refusals }: { refusals: RefusalCount[] }) {
  const refused = refusals.filter((r) => r.count > 0n);
  if (refused.length === 0) return <p className="hint">No offer was refused.</p>;
  return (
    <p data-testid="pattern-refusals">
      Refused by the pool's scan: {refused.map((r) => `${r.count} ${REFUSAL_WORDS[r.reason] ?? r.reason}`).join(", ")}.
      The refused text is never kept.
    </p>
  );
}

export function LearnedPatterns({ templateId }: { templateId: string }) {
  const { signedIn } = useSession();
  const list = useQuery(
    PatternInsightsService.method.listTemplatePatterns,
    { templateId, pageSize: SHOWN },
    { enabled: signedIn, refetchInterval: REFRESH_MS },
  );
  return (
    <section aria-labelledby="learned-heading" className="card">
      <h2 id="learned-heading">Learned by your agents</h2>
      <p className="hint">
        Lessons your agents offered to the pattern pool (their owners opted in), for agents of related templates.
      </p>
      {list.error && <ErrorBox error={shownError(list.error)} />}
      {list.data && (
        <>
          {list.data.patterns.length === 0 ? (
            <Empty>Your agents have offered no lessons yet.</Empty>
          ) : (
            <ul className="patterns">
              {list.data.patterns.map((p) => (
                <li key={p.patternId} data-testid="pattern">
                  <q id={`lesson-${p.patternId}`}>{p.text}</q>
                  <p className="meta">
                    Offered by {agents(p.offeredCount)} · adopted by {agents(p.adoptedCount)} · expires{" "}
                    {when(p.expiresAt)}
                  </p>
                  <button
                    type="button"
                    aria-describedby={`lesson-${p.patternId}`}
                    onClick={() => foldIntoNewVersion(templateId, p.text)}
                  >
                    Fold into a new version
                  </button>
                </li>
              ))}
            </ul>
          )}
          {list.data.nextPageToken && (
            <p className="hint">
              The newest {SHOWN} are shown; <code>pool patterns {templateId}</code> lists them all.
            </p>
          )}
          <Refusals refusals={list.data.refusals} />
        </>
      )}
    </section>
  );
}
