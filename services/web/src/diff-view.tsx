// Two texts side by side as a line diff: removed lines on the left, added on
// the right, marked by more than colour (a sign, and words for screen readers).
import { diffLines } from "./diff";

export function DiffView({ before, after, beforeLabel, afterLabel }: { before: string; after: string; beforeLabel: string; afterLabel: string }) {
  const lines = diffLines(before, after);
  const changed = lines.filter((l) => l.kind !== "same").length;
  return (
    <figure className="diff">
      <figcaption>
        <span className="removed-label">− {beforeLabel}</span> <span className="added-label">+ {afterLabel}</span> · {changed === 0 ? "no differences" : `${changed} changed ${changed === 1 ? "line" : "lines"}`}
      </figcaption>
      <pre tabIndex={0} aria-label={`Differences between ${beforeLabel} and ${afterLabel}`}>
        {lines.map((l, i) => (
          <span key={i} className={`line ${l.kind}`}>
            <span className="sign" aria-hidden="true">
              {l.kind === "removed" ? "−" : l.kind === "added" ? "+" : " "}
            </span>
            {l.kind !== "same" && <span className="sr-only">{l.kind === "removed" ? `only in ${beforeLabel}: ` : `only in ${afterLabel}: `}</span>}
            {l.text}
            {"\n"}
          </span>
        ))}
      </pre>
    </figure>
  );
}
