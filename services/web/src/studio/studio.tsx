// The Studio's front page: the creator's templates, archived ones on request.
import { useQuery } from "@connectrpc/connect-query";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { useState } from "react";
import { shownError } from "../ui/errors";
import { statusName, visibilityName, when } from "../words/format";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Page, Pager, SignInFirst, TableHead, usePages } from "../ui/ui";

export function StudioPage() {
  const { signedIn, inboxId } = useSession();
  const [archived, setArchived] = useState(false);
  const pages = usePages();
  const list = useQuery(
    TemplateService.method.listCreatorTemplates,
    { creatorId: inboxId ?? "", includeArchived: archived, pageSize: 25, pageToken: pages.token },
    { enabled: signedIn },
  );
  return (
    <Page
      title="Studio"
      actions={
        signedIn && (
          <Link className="button primary" to="/studio/new">
            New template
          </Link>
        )
      }
    >
      {!signedIn ? (
        <SignInFirst what="your templates" />
      ) : (
        <>
          <div className="check">
            <input
              id="show-archived"
              type="checkbox"
              checked={archived}
              onChange={(e) => {
                setArchived(e.target.checked);
                pages.reset();
              }}
            />
            <label htmlFor="show-archived">Show archived templates</label>
          </div>
          {list.isPending && <Loading what="your templates" />}
          {list.error && <ErrorBox error={shownError(list.error)} />}
          {list.data?.templates.length === 0 && (
            <Empty>
              You have no templates yet. <Link to="/studio/new">Create your first</Link>.
            </Empty>
          )}
          {list.data && list.data.templates.length > 0 && (
            // A card per template below 640 px (styles.css, table.stack): its links stay in view on a phone.
            <div className="table-wrap">
              <table className="stack">
                <TableHead
                  caption="Your templates"
                  columns={[
                    "Template",
                    "Version",
                    "Visibility",
                    "Used",
                    "Updated",
                    <span key="links" className="sr-only">
                      Links
                    </span>,
                  ]}
                />
                <tbody>
                  {list.data.templates.map((t) => (
                    <tr key={t.id}>
                      <th scope="row">
                        <Link to={`/studio/${t.id}`}>{t.content?.agentName}</Link>
                      </th>
                      <td data-label="Version">v{String(t.version)}</td>
                      <td data-label="Visibility">
                        {visibilityName(t.visibility)}
                        {statusName(t.status) === "archived" && ", archived"}
                      </td>
                      <td data-label="Used">{String(t.usageCount)}</td>
                      <td data-label="Updated">{when(t.updatedAt)}</td>
                      <td className="links">
                        <Link to={`/studio/${t.id}/history`} aria-label={`Versions of ${t.content?.agentName}`}>
                          Versions
                        </Link>{" "}
                        <Link to={`/studio/${t.id}/dashboard`} aria-label={`Dashboard of ${t.content?.agentName}`}>
                          Dashboard
                        </Link>{" "}
                        <Link to={`/studio/${t.id}/compare`} aria-label={`Compare versions of ${t.content?.agentName}`}>
                          Compare
                        </Link>{" "}
                        <Link to={`/studio/${t.id}/rollouts`} aria-label={`Rollouts of ${t.content?.agentName}`}>
                          Rollouts
                        </Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager pages={pages} nextToken={list.data?.nextPageToken} />
        </>
      )}
    </Page>
  );
}
