// A creator's view of every agent of one template (docs/web.md): who
// owns each and where it is (by stand-in names, words/stand-ins.ts: their
// names are not the creator's to read; "you" and the conversation's name for
// the creator's own agents), its state and sync state; live and clone counts
// (the lineage service's); the lineage tree; an update reaching the agents,
// refreshed every two seconds while the page is open; claims and active
// agents per day (usage-chart.tsx); and what its agents learned
// (learned-patterns.tsx).
import { useQuery } from "@connectrpc/connect-query";
import { lazy, Suspense } from "react";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { missingFromAnswer, shownError } from "../ui/errors";
import { short, stateName, syncName, when } from "../words/format";
import { conversationStandIn, ownerWords } from "../words/stand-ins";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Page, Pager, SignInFirst, TableHead, usePages } from "../ui/ui";
import { HeldLessons } from "./held-lessons";
import { LearnedPatterns } from "./learned-patterns";
import { reachView } from "./reach";

// With its chart library (uPlot), loaded only when a dashboard is opened, as the comparison is.
const UsageChart = lazy(() => import("./usage-chart").then((m) => ({ default: m.UsageChart })));

const LIVE_REFRESH_MS = 2_000;
const PAGE_SIZE = 100;

export function DashboardPage({ id }: { id: string }) {
  const { signedIn, inboxId: viewer } = useSession();
  const live = { enabled: signedIn, refetchInterval: LIVE_REFRESH_MS };
  // The counts and the release's reach are over all agents, whatever the page.
  const pages = usePages();
  const template = useQuery(TemplateService.method.getTemplate, { templateId: id }, live);
  const instances = useQuery(
    ClaimService.method.listTemplateInstances,
    { templateId: id, pageSize: PAGE_SIZE, pageToken: pages.token },
    live,
  );
  const counts = useQuery(LineageService.method.getTemplateDashboard, { templateId: id }, live);

  if (!signedIn) {
    return (
      <Page title="Dashboard">
        <SignInFirst what="this template's agents" />
      </Page>
    );
  }
  const failed = template.error ?? instances.error;
  if (failed) {
    return (
      <Page title="Dashboard">
        <ErrorBox error={shownError(failed)} />
      </Page>
    );
  }
  if (!template.data || !instances.data) return <Loading what="the dashboard" />;
  const t = template.data.template;
  if (!t) {
    return (
      <Page title="Dashboard">
        <ErrorBox error={shownError(missingFromAnswer("template"))} />
      </Page>
    );
  }
  const all = instances.data.instances;
  // The template's newest version, and how far it has reached, from what each live agent runs.
  const target = t.contentVersion;
  const reach = reachView(target, instances.data.reach);
  const c = counts.data;

  return (
    <Page
      title={`Dashboard: ${t.content?.agentName}`}
      actions={
        <Link className="button" to={`/studio/${id}`}>
          Edit
        </Link>
      }
    >
      <ul className="stats" aria-label="Counts">
        <li>
          <strong data-testid="live-count">{c ? String(c.liveCount) : reach.live}</strong> live
        </li>
        <li>
          <strong>{String(c ? c.totalCount : instances.data.totalCount)}</strong> ever claimed
        </li>
        <li>
          <strong data-testid="clone-count">{c ? String(c.cloneCount) : "—"}</strong>{" "}
          {c?.cloneCount === 1n ? "clone" : "clones"} ({c ? String(c.liveCloneCount) : "—"} live)
        </li>
        <li>
          <strong>{c ? String(c.owners.length) : "—"}</strong> {c?.owners.length === 1 ? "owner" : "owners"}
        </li>
      </ul>
      {counts.error && <ErrorBox error={shownError(counts.error)} />}
      {c && (
        <Suspense fallback={<Loading what="the usage chart" />}>
          <UsageChart usage={c.usage} />
        </Suspense>
      )}
      <section aria-labelledby="reach-heading" className="card">
        <h2 id="reach-heading">Version {String(target)} reaching your agents</h2>
        <p role="status" data-testid="reach">
          {reach.text}
        </p>
        <progress max={Math.max(reach.live, 1)} value={reach.onNewest} aria-label="Agents on the newest version" />
      </section>
      <h2>Agents</h2>
      <p className="hint">
        Owners and conversations are named by stand-ins, the same each time: their own names are theirs. The id is on
        hover.
      </p>
      {all.length === 0 ? (
        <Empty>Nobody has added this template to a conversation yet.</Empty>
      ) : (
        <section
          className="table-wrap"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll container: the keyboard scrolls it only when it can take focus (WCAG 2.1.1; the rule's own documentation makes this exception)
          tabIndex={0}
          aria-label="Agents of this template (scrolls sideways)"
        >
          <table>
            <TableHead
              caption={"Agents of this template"}
              columns={["Agent", "Owner", "Conversation", "State", "Instructions", "Claimed"]}
            />
            <tbody>
              {all.map((i) => (
                <tr key={i.id} data-testid="instance-row">
                  <th scope="row">
                    <code>{i.id}</code>
                    {i.parentInstanceId && <span className="tag subtle">clone</span>}
                  </th>
                  <td title={i.ownerId} data-testid="owner">
                    {ownerWords(i.ownerId, viewer)} <code className="meta">{short(i.ownerId)}</code>
                  </td>
                  <td title={i.conversationId} data-testid="conversation">
                    {i.conversationName.trim() || conversationStandIn(i.conversationId)}{" "}
                    <code className="meta">{short(i.conversationId)}</code>
                  </td>
                  <td>{stateName(i.state)}</td>
                  <td data-testid="sync">{syncName(i)}</td>
                  <td>{when(i.claimedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <Pager
        pages={pages}
        nextToken={instances.data.nextPageToken}
        of={Math.ceil(Number(instances.data.totalCount) / PAGE_SIZE)}
        label="Pages of agents"
      />
      <h2>Lineage</h2>
      {pages.number > 1 || instances.data.nextPageToken ? <p className="hint">Of the agents on this page.</p> : null}
      <LineageTree instances={all} viewer={viewer} />
      <LearnedPatterns templateId={id} />
      <HeldLessons templateId={id} />
    </Page>
  );
}

/** The agents as a tree of clones: each under the agent it was cloned from. */
export function LineageTree({ instances, viewer }: { instances: Instance[]; viewer: string | undefined }) {
  const ids = new Set(instances.map((i) => i.id));
  const children = new Map<string, Instance[]>();
  for (const i of instances) {
    const parent = i.parentInstanceId && ids.has(i.parentInstanceId) ? i.parentInstanceId : "";
    children.set(parent, [...(children.get(parent) ?? []), i]);
  }
  const roots = children.get("") ?? [];
  if (roots.length === 0) return <Empty>No agents yet.</Empty>;
  const render = (list: Instance[]) => (
    <ul>
      {list.map((i) => {
        const kids = children.get(i.id);
        return (
          <li key={i.id}>
            <code>{i.id}</code> · {stateName(i.state)} · owner{" "}
            <span title={i.ownerId}>{ownerWords(i.ownerId, viewer)}</span>
            {kids && render(kids)}
          </li>
        );
      })}
    </ul>
  );
  return <div className="tree">{render(roots)}</div>;
}
