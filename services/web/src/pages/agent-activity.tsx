// The agent page's activity log (docs/web.md, "Activity").
import { useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { shownError } from "../errors";
import { activityWords } from "../activity-words";
import { trustName } from "../format";
import { useSession } from "../session";
import { Empty, ErrorBox, Loading, Pager, usePages } from "../ui";

/** Its activity log, newest first, in sentences (src/activity-words.ts): each tool call, who asked and how it ended, and each change of level or of who may ask. */
export function Activity({ id }: { id: string }) {
  const pages = usePages();
  const { inboxId } = useSession();
  const log = useQuery(
    ClaimService.method.listAgentActivity,
    { instanceId: id, pageSize: 20, pageToken: pages.token },
    { refetchInterval: 5_000 },
  );
  // Not a region of its own: the page's "Activity" section is that region.
  return (
    <div>
      <h2 id="activity-heading">Activity</h2>
      {log.isPending && <Loading what="its activity" />}
      {log.error && <ErrorBox error={shownError(log.error)} />}
      {log.data?.entries.length === 0 && (
        <Empty>Nothing yet: its tool calls and your changes to it show here, newest first.</Empty>
      )}
      {log.data && log.data.entries.length > 0 && (
        <ol className="activity" aria-label="Activity, newest first">
          {log.data.entries.map((e) => {
            const words = activityWords(e, { inboxId });
            return (
              <li key={e.id} data-testid="activity-entry">
                <strong>{words.sentence}</strong>
                <p className="meta">
                  at {trustName(e.trustLevel)}
                  {e.target && (
                    <>
                      {" "}
                      · <code>{e.target}</code>
                    </>
                  )}
                </p>
                {words.why && <p>Why: {words.why}</p>}
                {words.result && <p className="meta">{words.result}</p>}
              </li>
            );
          })}
        </ol>
      )}
      <Pager pages={pages} nextToken={log.data?.nextPageToken} label="Activity pages" />
    </div>
  );
}
