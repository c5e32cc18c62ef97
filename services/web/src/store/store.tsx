// The store: public templates by search, category and sort, a page at a time.
// The search lives in the address (?q=&category=&sort=), so it can be shared
// and the Back button returns to it.
import { useQuery } from "@connectrpc/connect-query";
import { StoreSort, TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { useState } from "react";
import { shownError } from "../ui/errors";
import { provisioningName } from "../words/format";
import { CATEGORIES } from "../words/categories";
import { Link, navigate, useLocation } from "../router";
import { Empty, ErrorBox, Loading, Page, Pager, Select, TextField, usePages } from "../ui/ui";
import { Featured, recentOwners } from "./curation";
import { Stars } from "./ratings";
import { Avatar, Starters } from "./face";

const SORTS: [string, StoreSort, string][] = [
  ["relevance", StoreSort.RELEVANCE, "Relevance"],
  ["most-used", StoreSort.MOST_USED, "Most used"],
  ["top-rated", StoreSort.TOP_RATED, "Top rated"],
  ["newest", StoreSort.NEWEST, "Newest"],
];
const PAGE_SIZE = 12;

export function StorePage() {
  const params = useLocation().searchParams;
  const q = params.get("q") ?? "";
  const category = params.get("category") ?? "";
  const sortName = params.get("sort") ?? (q ? "relevance" : "most-used");
  const sort = SORTS.find(([n]) => n === sortName)?.[1] ?? StoreSort.MOST_USED;
  const pages = usePages();
  const [text, setText] = useState(q);

  const result = useQuery(TemplateService.method.browseStore, {
    query: q,
    category,
    sort,
    pageSize: PAGE_SIZE,
    pageToken: pages.token,
  });

  function search(next: { q?: string; category?: string; sort?: string }) {
    const p = new URLSearchParams();
    const merged = { q, category, sort: params.get("sort") ?? "", ...next };
    for (const [k, v] of Object.entries(merged)) if (v) p.set(k, v);
    pages.reset();
    navigate(p.size ? `/?${p}` : "/", { replace: true });
  }

  return (
    <Page title="Agent store">
      <search>
        <form
          className="filters"
          onSubmit={(e) => {
            e.preventDefault();
            search({ q: text.trim() });
          }}
        >
          <TextField
            label="Search"
            name="query"
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="travel, recipes, reminders…"
          />
          <Select
            label="Category"
            name="category"
            value={category}
            onChange={(e) => search({ category: e.target.value })}
          >
            <option value="">All categories</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </Select>
          <Select label="Sort by" name="sort" value={sortName} onChange={(e) => search({ sort: e.target.value })}>
            {SORTS.map(([n, , label]) => (
              <option key={n} value={n}>
                {label}
              </option>
            ))}
          </Select>
          <button type="submit">Search</button>
        </form>
      </search>
      {!q && !category && !pages.token && <Featured />}
      {result.isPending && <Loading what="the store" />}
      {result.error && <ErrorBox error={shownError(result.error)} />}
      {result.data && result.data.templates.length === 0 && (
        <Empty>
          {q || category
            ? "No template matches this search."
            : "The store is empty: publish the first template from the Studio."}
        </Empty>
      )}
      {result.data && result.data.templates.length > 0 && (
        <ul className="cards" aria-label="Templates">
          {result.data.templates.map((t) => (
            <li key={t.id} className="card">
              <h2>
                <Avatar avatar={t.content?.avatar} name={t.content?.agentName ?? ""} />
                <Link to={`/templates/${t.id}`}>{t.content?.agentName}</Link>
              </h2>
              {t.content?.soul?.identity?.role && <p className="meta">{t.content.soul.identity.role}</p>}
              <p>{t.content?.description || "No description."}</p>
              <Starters starters={t.content?.conversationStarters ?? []} />
              {t.ratings && (
                <p>
                  <Stars ratings={t.ratings} />
                </p>
              )}
              <p className="meta">
                {t.content?.category && <span className="tag">{t.content.category}</span>}
                {t.content?.tags.map((tag) => (
                  <span key={tag} className="tag subtle">
                    #{tag}
                  </span>
                ))}
              </p>
              <p className="meta">
                {t.content?.tools.length
                  ? `Tools: ${t.content.tools.map((tool) => `${tool.name || tool.id} (${provisioningName(tool.provisioning)})`).join(", ")}`
                  : "No tools"}
                {" · "}used by {recentOwners(t)}
              </p>
            </li>
          ))}
        </ul>
      )}
      <Pager pages={pages} nextToken={result.data?.nextPageToken} />
    </Page>
  );
}
