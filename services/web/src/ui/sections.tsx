// A page in named sections, one shown at a time: a navigation of real links
// (`?section=<id>`, so a reload, a shared address and Back keep the place)
// beside the section at desktop width, above it on a phone. Adding a section
// is one more entry in the list a page passes.
import { useEffect, useRef, type ReactNode } from "react";
import { Link, useLocation } from "../router";

export interface Section {
  /** Its name in the address (`?section=money`): lower case, stable, never shown. */
  id: string;
  /** Its name in the navigation, and the shown section's accessible name. */
  name: string;
  /** A word beside its name in the navigation when something there waits for the person ("new version"). */
  badge?: string | undefined;
  content: ReactNode;
}

export const SECTION_PARAM = "section";

/** The section the address names, or the first when it names none or one this page does not have. */
export function pickSection<S extends { id: string }>(sections: readonly S[], wanted: string | null): S | undefined {
  return sections.find((s) => s.id === wanted) ?? sections[0];
}

export function Sections({ label, sections }: { label: string; sections: readonly Section[] }) {
  const location = useLocation();
  const current = pickSection(sections, location.searchParams.get(SECTION_PARAM));
  const region = useRef<HTMLElement>(null);
  const shown = useRef(current?.id);
  // A move to another section (a link, Back) puts the focus on it, so a screen reader says where it is;
  // the page's first section keeps the browser's own start, as a page's heading does (ui.tsx, Page).
  useEffect(() => {
    if (shown.current === current?.id) return;
    shown.current = current?.id;
    region.current?.focus();
  }, [current?.id]);
  if (!current) return null;
  const href = (id: string) => {
    const query = new URLSearchParams(location.search);
    query.set(SECTION_PARAM, id);
    return `${location.pathname}?${query.toString()}`;
  };
  return (
    <div className="sections">
      <nav aria-label={label} className="section-nav">
        <ul>
          {sections.map((s) => (
            <li key={s.id}>
              <Link to={href(s.id)} aria-current={s.id === current.id ? "page" : undefined}>
                {s.name}
                {s.badge && (
                  <>
                    {" "}
                    <span className="section-badge">{s.badge}</span>
                  </>
                )}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <section
        className="section"
        key={current.id}
        ref={region}
        tabIndex={-1}
        aria-label={current.name}
        data-section={current.id}
      >
        {current.content}
      </section>
    </div>
  );
}
