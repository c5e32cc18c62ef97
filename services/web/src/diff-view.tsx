// Two texts side by side: the older on the left, the newer on the right,
// each change's lines beside each other, long unchanged stretches folded.
// Changes are marked by more than colour: a sign, and words for screen readers.
import { diffLines, sideBySide, type DiffLine } from "./diff";

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
      <div
        className="diff-scroll"
        tabIndex={0}
        role="region"
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
            {rows.map((r, i) =>
              r.kind === "skipped" ? (
                <tr key={i} className="skipped">
                  <td colSpan={2}>
                    … {r.count} unchanged {r.count === 1 ? "line" : "lines"}
                  </td>
                </tr>
              ) : (
                <tr key={i}>
                  <Cell line={r.left} label={beforeLabel} />
                  <Cell line={r.right} label={afterLabel} />
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
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
