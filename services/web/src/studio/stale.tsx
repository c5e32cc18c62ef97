// The editor's notice that the template changed since it was opened (another
// tab or person saved): the newer version beside the draft, to keep the draft
// on top of it or to take it.
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplateContentJson } from "@convos-pool/kit/browser";
import { DiffView } from "../ui/diff-view";
import { when } from "../words/format";
import { contentOf, prettyContent } from "./content";

export function Stale({
  mine,
  theirs,
  onTakeTheirs,
  onKeepMine,
}: {
  mine: TemplateContentJson;
  theirs: Template;
  onTakeTheirs: () => void;
  onKeepMine: () => void;
}) {
  return (
    <section className="stale" role="alert" aria-labelledby="stale-heading">
      <h2 id="stale-heading">Changed since you opened it</h2>
      <p>
        This template is now at version {String(theirs.version)} (updated {when(theirs.updatedAt)}). Your changes are
        based on an older version: compare, then keep yours on top of the newer one or take the newer one.
      </p>
      <DiffView
        before={prettyContent(contentOf(theirs))}
        after={prettyContent(mine)}
        beforeLabel={`Version ${theirs.version} (now)`}
        afterLabel="Yours"
      />
      <div className="actions">
        <button type="button" onClick={onKeepMine}>
          Keep mine, based on version {String(theirs.version)}
        </button>
        <button type="button" onClick={onTakeTheirs}>
          Take version {String(theirs.version)}, drop mine
        </button>
      </div>
    </section>
  );
}
