// A small router over the History API: the gateway answers every page path
// with the app (services/gateway/src/web/app.ts), and the app picks the page.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

const CHANGE = "convos-pool:navigate";

/** Whether the app has moved since the page loaded (a link, Back or Forward). */
let moved = false;
export const movedWithinApp = () => moved;

window.addEventListener("popstate", () => {
  moved = true;
});

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

/** The current path and query, as one string (stable for useSyncExternalStore). */
export function useLocation(): URL {
  const href = useSyncExternalStore(subscribe, () => window.location.pathname + window.location.search);
  return new URL(href, window.location.origin);
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  moved = true;
  window.dispatchEvent(new Event(CHANGE));
  window.scrollTo(0, 0);
}

/** The parameters a path pattern names: "/studio/:id/history" has { id }. */
export type Params<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { [K in Name]: string } & Params<Rest>
  : P extends `${string}:${infer Name}`
    ? { [K in Name]: string }
    : Record<never, string>;

/** The path's parameters when it matches `pattern` ("/templates/:id"), else undefined. */
export function match<P extends string>(pattern: P, path: string): Params<P> | undefined {
  const want = pattern.split("/");
  const got = path.replace(/\/+$/, "").split("/");
  if (path === "/") got.splice(1, 1, "");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, w] of want.entries()) {
    const g = got[i];
    if (g === undefined) return undefined;
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(g);
    else if (w !== g) return undefined;
  }
  // Every `:name` of the pattern got its segment above.
  return params as Params<P>;
}

/** A link the app follows itself; a modified click (new tab) is the browser's. */
export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} {...rest} onClick={onClick} />;
}
