// Two texts side by side: the older on the left, the newer on the right,
// each change's lines beside each other, long unchanged stretches folded.
// Changes are marked by more than colour: a sign, and words for screen readers.
import { diffLines, sideBySide, type DiffLine } from "./diff";
import { plural } from "../words/words";

export function DiffView({
  before,
  after,
  beforeLabel,
  afterLabel,
}: {
  before: string;
  after: string;
  beforeLabel: string;
  afterLabel: string;
}) {
  const lines = diffLines(before, after);
  const changed = lines.filter((l) => l.kind !== "same").length;
  const rows = sideBySide(lines);
  return (
    <figure className="diff">
      <figcaption>
        {beforeLabel} and {afterLabel}:{" "}
        {changed === 0 ? "no differences" : `${changed} changed ${changed === 1 ? "line" : "lines"}`}
      </figcaption>
      <section
        className="diff-scroll"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll container: the keyboard scrolls it only when it can take focus (WCAG 2.1.1; the rule's own documentation makes this exception)
        tabIndex={0}
        aria-label={`Differences between ${beforeLabel} and ${afterLabel}`}
      >
        <table>
          <thead>
            <tr>
              <th scope="col">{beforeLabel}</th>
              <th scope="col">{afterLabel}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the rows are drawn whole from the two texts, hold no state, and have no identity but their place
              <tr key={i} className={r.kind === "skipped" ? "skipped" : undefined}>
                {r.kind === "skipped" ? (
                  <td colSpan={2}>… {plural(r.count, "unchanged line")}</td>
                ) : (
                  <>
                    <Cell line={r.left} label={beforeLabel} />
                    <Cell line={r.right} label={afterLabel} />
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </figure>
  );
}

function Cell({ line, label }: { line: DiffLine | undefined; label: string }) {
  if (!line) return <td className="blank" />;
  return (
    <td className={line.kind}>
      {line.kind !== "same" && (
        <>
          <span className="sign" aria-hidden="true">
            {line.kind === "removed" ? "−" : "+"}
          </span>
          <span className="sr-only">{`only in ${label}: `}</span>
        </>
      )}
      {line.text}
    </td>
  );
}
