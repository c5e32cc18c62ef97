// The app: providers, the layout every page shares, and which page a path opens.
import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, type ReactNode } from "react";
import { signedInAs } from "./words/format";
import { AgentPage } from "./agent/agent";
import { DashboardPage } from "./dashboard/dashboard";
import { EditorPage } from "./studio/editor";
import { HistoryPage } from "./studio/history";
import { MyAgentsPage } from "./agent/my-agents";
import { OperatorsPage } from "./store/operators";
import { RolloutsPage } from "./rollouts/rollouts";
import { SignInPage } from "./sign-in/sign-in";
import { StorePage } from "./store/store";
import { StudioPage } from "./studio/studio";
import { TemplatePage } from "./store/template";
import { Link, match, type Params, useLocation } from "./router";
import { SessionProvider, transport, useSession } from "./sign-in/session";
import { Loading, Page } from "./ui/ui";
import { BusyNotice } from "./ui/busy";
import { refusalDelayMs } from "@convos-pool/kit/browser";

// The comparison and a rollout's page draw charts: their library loads with them, not with the store.
const ComparePage = lazy(() => import("./studio/compare").then((m) => ({ default: m.ComparePage })));
const RolloutPage = lazy(() => import("./rollouts/rollout").then((m) => ({ default: m.RolloutPage })));

// A read is tried once more after a failure, but never after a refusal: the
// transport's retries and their budget already answered it (ui/busy.tsx).
const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: (failures, err) => failures < 1 && refusalDelayMs(err) === undefined,
      refetchOnWindowFocus: false,
      staleTime: 5_000,
    },
  },
});

export function App() {
  return (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <Layout>
            <Routes />
          </Layout>
        </SessionProvider>
      </QueryClientProvider>
    </TransportProvider>
  );
}

/** A page at a path pattern: its element, given the path's parameters, when the path matches. */
function route<P extends string>(pattern: P, page: (params: Params<P>) => ReactNode) {
  return (path: string): { element: ReactNode } | undefined => {
    const params = match(pattern, path);
    return params === undefined ? undefined : { element: page(params) };
  };
}

function Routes() {
  const { pathname } = useLocation();
  const routes = [
    route("/", () => <StorePage />),
    route("/templates/:id", (p) => <TemplatePage id={p.id} />),
    route("/signin", () => <SignInPage />),
    route("/studio", () => <StudioPage />),
    route("/studio/new", () => <EditorPage />),
    route("/studio/:id", (p) => <EditorPage id={p.id} key={p.id} />),
    route("/studio/:id/history", (p) => <HistoryPage id={p.id} />),
    route("/studio/:id/dashboard", (p) => <DashboardPage id={p.id} />),
    route("/studio/:id/compare", (p) => (
      <Suspense fallback={<Loading what="the comparison" />}>
        <ComparePage id={p.id} />
      </Suspense>
    )),
    route("/studio/:id/rollouts", (p) => <RolloutsPage id={p.id} />),
    route("/studio/:id/rollouts/:rolloutId", (p) => (
      <Suspense fallback={<Loading what="the rollout" />}>
        <RolloutPage id={p.id} rolloutId={p.rolloutId} key={p.rolloutId} />
      </Suspense>
    )),
    route("/agents", () => <MyAgentsPage />),
    route("/agents/:id", (p) => <AgentPage id={p.id} key={p.id} />),
    // The operators' curation: linked from nowhere, since only POOL_OPERATORS may use it (docs/web.md).
    route("/operators", () => <OperatorsPage />),
  ];
  for (const shown of routes) {
    const page = shown(pathname);
    if (page) return page.element;
  }
  return (
    <Page title="Not found">
      <p>
        Nothing is at <code>{pathname}</code>. <Link to="/">Go to the store</Link>.
      </p>
    </Page>
  );
}

function Layout({ children }: { children: ReactNode }) {
  const { pathname } = useLocation();
  const { signedIn, inboxId, name } = useSession();
  const current = (prefix: string) =>
    prefix === "/" ? pathname === "/" || pathname.startsWith("/templates/") : pathname.startsWith(prefix);
  const nav: [string, string][] = [
    ["/", "Store"],
    ["/studio", "Studio"],
    ["/agents", "My agents"],
  ];
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Convos Agent Pool
        </Link>
        <nav aria-label="Main">
          <ul>
            {nav.map(([to, label]) => (
              <li key={to}>
                <Link to={to} aria-current={current(to) ? "page" : undefined}>
                  {label}
                </Link>
              </li>
            ))}
            <li>
              <Link to="/signin" aria-current={current("/signin") ? "page" : undefined} title={inboxId}>
                {signedIn && inboxId ? `Signed in · ${signedInAs(name, inboxId)}` : "Sign in"}
              </Link>
            </li>
          </ul>
        </nav>
      </header>
      <main id="main">{children}</main>
      <BusyNotice />
    </>
  );
}
