// One figure of two or more versions over the days each ran, drawn with
// uPlot (docs/decisions.md, "Charts of the version comparison"). The drawing
// is for eyes only (aria-hidden): a sentence says what it shows, and the same
// numbers are in a table behind it that screen readers read and anyone can
// open ("Show as table"). Versions differ by more than colour: each has its
// own line style, named in the legend.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { dayLabel, dayTicks } from "./day-ticks";

/** One version's line: its value per day; a day missing or `undefined` is a gap (did not run, or nothing shown). */
export interface ChartSeries {
  label: string;
  values: ReadonlyMap<string, number | undefined>;
}

/** Colours at AA contrast on white, and dashes, so that a version is told apart without colour too. */
const STYLES = [
  { stroke: "#1d4ed8", dash: [] as number[], name: "solid line" },
  { stroke: "#b45309", dash: [8, 5], name: "dashed line" },
  { stroke: "#116329", dash: [2, 4], name: "dotted line" },
  { stroke: "#7e22ce", dash: [12, 4, 2, 4], name: "dash-dot line" },
  { stroke: "#b42318", dash: [16, 6], name: "long-dashed line" },
  { stroke: "#374151", dash: [4, 2], name: "short-dashed line" },
];
const HEIGHT = 220;
/** The y axis's width, in px: what is left of the chart's width is the days'. */
const Y_AXIS = 48;
const styleOf = (i: number) => STYLES[i % STYLES.length] ?? { stroke: "#1d4ed8", dash: [], name: "solid line" };

const shown = (n: number | undefined) =>
  n === undefined ? "—" : Number.isInteger(n) ? String(n) : n.toFixed(1).replace(/\.0$/, "");

export function VersionChart({
  title,
  unit,
  series,
  summary,
}: {
  title: string;
  /** What a value is, for the table's heading: "per 100 answers". */
  unit: string;
  series: readonly ChartSeries[];
  /** What the chart shows, in words. */
  summary: string;
}) {
  const days = [...new Set(series.flatMap((s) => [...s.values.keys()]))].sort();
  const [asTable, setAsTable] = useState(false);
  return (
    <figure className="chart">
      <figcaption>
        <strong>{title}</strong> <span className="chart-summary">{summary}</span>
      </figcaption>
      <ul className="chart-legend" aria-hidden="true">
        {series.map((s, i) => {
          const style = styleOf(i);
          return (
            <li key={s.label}>
              <svg width="28" height="10" role="presentation">
                <line
                  x1="0"
                  y1="5"
                  x2="28"
                  y2="5"
                  stroke={style.stroke}
                  strokeWidth="2"
                  strokeDasharray={style.dash.join(" ")}
                />
              </svg>
              {s.label} ({style.name})
            </li>
          );
        })}
      </ul>
      {days.length > 0 && <Plot days={days} series={series} />}
      <div className="chart-table-toggle">
        <button type="button" className="small" aria-expanded={asTable} onClick={() => setAsTable(!asTable)}>
          {asTable ? "Hide the table" : "Show as table"}
        </button>
      </div>
      {/* Always there for screen readers; shown to everyone on request. */}
      <div className={asTable ? "table-wrap" : "sr-only"}>
        <table>
          <caption>
            {title}, {unit}, by day
          </caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d}>
                <th scope="row">{d}</th>
                {series.map((s) => (
                  <td key={s.label}>{shown(s.values.get(d))}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

/** The drawing: as wide as its box, redrawn when the box or the data change. */
function Plot({ days, series }: { days: readonly string[]; series: readonly ChartSeries[] }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const seen = new ResizeObserver(([e]) => setWidth(Math.floor(e?.contentRect.width ?? 0)));
    seen.observe(el);
    return () => seen.disconnect();
  }, []);
  // The numbers themselves, not the arrays' identity, decide a redraw.
  const drawn = JSON.stringify({
    days,
    ys: series.map((s) => days.map((d) => s.values.get(d) ?? null)),
    labels: series.map((s) => s.label),
  });
  useEffect(() => {
    const el = box.current;
    if (!el || width === 0) return;
    const { days, ys, labels } = JSON.parse(drawn) as { days: string[]; ys: (number | null)[][]; labels: string[] };
    // Days evenly spaced, a day the unit, never an hour; labelled as many as fit a label's room apart (day-ticks.ts).
    const xs = days.map((_, i) => i);
    const ticks = dayTicks(days.length, width - Y_AXIS);
    const plot = new uPlot(
      {
        width,
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: false, range: () => [-0.5, Math.max(0.5, days.length - 0.5)] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
        },
        axes: [
          {
            stroke: "#4b5563",
            splits: () => ticks,
            values: (_u, splits) => splits.map((i) => (days[i] === undefined ? "" : dayLabel(days[i]))),
          },
          { stroke: "#4b5563", size: Y_AXIS },
        ],
        series: [
          {},
          ...labels.map((label, i) => {
            const style = styleOf(i);
            return {
              label,
              stroke: style.stroke,
              dash: style.dash,
              width: 2,
              points: { show: true, size: 6, stroke: style.stroke, fill: style.stroke },
            };
          }),
        ],
      },
      [xs, ...ys],
      el,
    );
    return () => plot.destroy();
  }, [drawn, width]);
  return <div className="chart-plot" ref={box} aria-hidden="true" />;
}
