// A template's staged rollouts in the studio (docs/rollouts.md): the list,
// newest first, each linking to its page (rollout.tsx), and the notice the
// editor shows while one is live, since the template then takes no other
// content change. Only the creator reads them: the service answers anyone
// else NOT_FOUND, shown as such (rolloutError).
import { Code } from "@connectrpc/connect";
import { useQuery } from "@connectrpc/connect-query";
import { RolloutService } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { shownError, type ShownError } from "../ui/errors";
import { when } from "../words/format";
import { isLive } from "./rollout-policy";
import { conversationsWords, percent, stateWords } from "./rollout-words";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Page, Pager, SignInFirst, TableHead, usePages } from "../ui/ui";

export const rolloutPath = (templateId: string, rolloutId: string) => `/studio/${templateId}/rollouts/${rolloutId}`;

/** A failed read of rollouts: the service's words, and for NOT_FOUND whose they are. */
export function RolloutError({ error }: { error: unknown }) {
  const e: ShownError = shownError(error);
  return (
    <>
      <ErrorBox error={e} />
      {e.code === Code.NotFound && (
        <p className="hint">
          A template's rollouts are shown to its creator only: sign in with the key that created it.
        </p>
      )}
    </>
  );
}

export function RolloutsPage({ id }: { id: string }) {
  const { signedIn } = useSession();
  const pages = usePages();
  const template = useQuery(TemplateService.method.getTemplate, { templateId: id }, { enabled: signedIn });
  const list = useQuery(
    RolloutService.method.listRollouts,
    { templateId: id, pageSize: 20, pageToken: pages.token },
    { enabled: signedIn },
  );
  const name = template.data?.template?.content?.agentName;
  const title = name ? `Rollouts of ${name}` : "Rollouts";
  return (
    <Page
      title={title}
      actions={
        <>
          <Link className="button" to={`/studio/${id}`}>
            Edit
          </Link>
          <Link className="button" to={`/studio/${id}/compare`}>
            Compare versions
          </Link>
        </>
      }
    >
      {!signedIn ? (
        <SignInFirst what="this template's rollouts" />
      ) : list.error ? (
        <RolloutError error={list.error} />
      ) : !list.data ? (
        <Loading what="the rollouts" />
      ) : (
        <>
          <p className="hint">
            A rollout gives a new version to a share of conversations first; the pool compares it with the current one
            and halts it by itself if people do worse with it. Start one from the editor: “A share of conversations
            first”.
          </p>
          {list.data.rollouts.length === 0 ? (
            <Empty>
              No rollouts yet. <Link to={`/studio/${id}`}>Open the editor</Link> to start one.
            </Empty>
          ) : (
            // A card per rollout below 640 px (styles.css, table.stack), as the studio's list.
            <div className="table-wrap">
              <table className="stack">
                <TableHead
                  caption={"Rollouts, newest first"}
                  columns={["Rollout", "State", "Share", "Conversations", "Started"]}
                />
                <tbody>
                  {list.data.rollouts.map((r) => (
                    <tr key={r.rolloutId}>
                      <th scope="row">
                        <Link to={rolloutPath(id, r.rolloutId)}>
                          Version {String(r.candidateVersion)} against {String(r.baselineVersion)}
                        </Link>
                      </th>
                      <td data-label="State">{stateWords(r.state)}</td>
                      <td data-label="Share">{percent(r.shareBasisPoints)}</td>
                      <td data-label="Conversations">{conversationsWords(r)}</td>
                      <td data-label="Started">{when(r.startedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager pages={pages} nextToken={list.data.nextPageToken} />
        </>
      )}
    </Page>
  );
}

/** Above the editor while a rollout holds the template: what it is, and where to end it. */
export function LiveRolloutNotice({ templateId }: { templateId: string }) {
  const newest = useQuery(RolloutService.method.listRollouts, { templateId, pageSize: 1 }, { refetchInterval: 10_000 });
  const r = newest.data?.rollouts[0];
  if (!r || !isLive(r.state)) return null;
  return (
    <p className="notice" role="status" data-testid="live-rollout">
      Version {String(r.candidateVersion)} is {stateWords(r.state)} at {percent(r.shareBasisPoints)} of conversations.
      The template takes no new version until you promote it or roll it back:{" "}
      <Link to={rolloutPath(templateId, r.rolloutId)}>open the rollout</Link>.
    </p>
  );
}
