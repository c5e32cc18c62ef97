// An owner's agents, across templates, by conversation (groups.ts):
// its state, whether it follows its template's updates and its trust level. An agent in several
// conversations is listed under each, its home marked, the others naming it. A search (by name,
// template or conversation) and live/ended narrow the page's agents. An agent offered to you is
// opened by id.
import { useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { SyncState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { useState } from "react";
import { agentMatches, byConversation, conversationTitle, elsewhereWords, type AgentShow } from "./groups";
import { shownError } from "../ui/errors";
import { short, stateName, syncName, trustName, when } from "../words/format";
import { Link, navigate } from "../router";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Page, Pager, Select, SignInFirst, TextField, usePages } from "../ui/ui";
import { plural } from "../words/words";

export function MyAgentsPage() {
  const { signedIn, inboxId } = useSession();
  const pages = usePages();
  const [offered, setOffered] = useState("");
  const [search, setSearch] = useState("");
  const [show, setShow] = useState<AgentShow>("all");
  const list = useQuery(
    ClaimService.method.listOwnerAgents,
    { ownerId: inboxId ?? "", pageSize: 50, pageToken: pages.token },
    { enabled: signedIn, refetchInterval: 5_000 },
  );
  const shown = list.data?.instances.filter((i) => agentMatches(i, search, show));
  if (!signedIn) {
    return (
      <Page title="My agents">
        <SignInFirst what="your agents" />
      </Page>
    );
  }
  return (
    <Page title="My agents">
      {list.isPending && <Loading what="your agents" />}
      {list.error && <ErrorBox error={shownError(list.error)} />}
      {list.data?.instances.length === 0 && (
        <Empty>
          You have no agents yet. Find one in the <Link to="/">store</Link> and add it to a conversation.
        </Empty>
      )}
      {list.data && list.data.instances.length > 0 && (
        <search className="filters" aria-label="Find an agent">
          <TextField
            label="Search"
            name="search"
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="Name, template or conversation"
          />
          <Select label="Show" name="show" value={show} onChange={(e) => setShow(e.target.value as AgentShow)}>
            <option value="all">All</option>
            <option value="live">Live</option>
            <option value="ended">Ended</option>
          </Select>
          {shown && shown.length < list.data.instances.length && (
            <p role="status" className="meta" data-testid="agents-shown">
              {shown.length} of {plural(list.data.instances.length, "agent")}
              {list.data.nextPageToken ? " on this page" : ""}
            </p>
          )}
        </search>
      )}
      {shown?.length === 0 && list.data?.instances.length !== 0 && <Empty>No agent of yours matches.</Empty>}
      {shown &&
        byConversation(shown).map((g, n) => (
          <section key={g.conversationId || "none"} aria-labelledby={`conversation-${n}`} className="conversation">
            <h2 id={`conversation-${n}`}>
              {g.conversationId ? (
                <>
                  <span data-testid="conversation-name">{conversationTitle(g.name)}</span>{" "}
                  <span className="meta" title={g.conversationId}>
                    ({short(g.conversationId)}), since {when(timestampFromMs(g.since * 1000))}
                  </span>
                </>
              ) : (
                "Not in a conversation"
              )}
            </h2>
            <ul className="cards" aria-label={`${plural(g.agents.length, "agent")} of yours here`}>
              {g.agents.map(({ agent: i, home, conversations, joined }) => (
                <li key={i.id} className="card" data-testid="agent-card">
                  <h3>
                    <Link to={`/agents/${i.id}`}>{i.agentName || i.id}</Link>
                    {conversations > 1 && home && (
                      <>
                        {" "}
                        <span className="tag">home</span>
                      </>
                    )}
                  </h3>
                  <p className="meta">
                    {stateName(i.state)} · {home ? "since" : "here since"}{" "}
                    {home ? when(i.claimedAt) : when(timestampFromMs(joined * 1000))}
                  </p>
                  {conversations > 1 && (
                    <p className="meta" data-testid="agent-elsewhere">
                      {elsewhereWords({ agent: i, home, conversations, joined }, g.conversationId)}
                    </p>
                  )}
                  <p className="meta">
                    Instructions: {syncName(i)} · Trust level{" "}
                    <span data-testid="trust-level">{trustName(i.trustLevel)}</span>
                    {i.sync?.state === SyncState.PINNED && <span className="tag">pinned</span>}
                    {i.parentInstanceId && <span className="tag subtle">clone</span>}
                  </p>
                  {i.templateDelisting && (
                    <p className="meta" data-testid="template-delisted">
                      Its template was taken out of the store: {i.templateDelisting.reason}
                    </p>
                  )}
                </li>
              ))}
            </ul>
          </section>
        ))}
      <Pager pages={pages} nextToken={list.data?.nextPageToken} />
      <form
        className="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (offered.trim()) navigate(`/agents/${encodeURIComponent(offered.trim())}`);
        }}
      >
        <h2>An agent offered to you</h2>
        <TextField
          label="Agent id"
          name="instance_id"
          value={offered}
          onChange={(e) => setOffered(e.target.value)}
          placeholder="inst_…"
          hint="Its owner gives you the id when they transfer it."
        />
        <button type="submit">Open</button>
      </form>
    </Page>
  );
}
