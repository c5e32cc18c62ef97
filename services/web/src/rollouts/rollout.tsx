// A staged rollout's page in the studio (docs/web.md; docs/rollouts.md):
// its state, share and conversations; why the pool halted or paused it,
// when it did (the check, its figures, each side's sample); the ramp, the
// shares taken and ahead; the creator's next step (rollout-steps.tsx); the watch's figures per
// signal since the start beside the creator's bounds; both versions day by
// day (VersionChart over CompareVersions from the rollout's first day); and
// what happened, step by step. Read again every 5 s. Loaded on its own
// (app.tsx), with its chart library, as the comparison is.
import { useQuery } from "@connectrpc/connect-query";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { RolloutAction, RolloutService, type Rollout } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import {
  type VersionComparison,
  VersionSignalInsightsService,
} from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { useState } from "react";
import { missingFromAnswer, shownError } from "../ui/errors";
import { when } from "../words/format";
import {
  CHART_FIGURES,
  type ChartFigure,
  conversationsWords,
  daysCountedWords,
  pausePanel,
  percent,
  rampWords,
  sampleWords,
  signalRows,
  stateSentence,
  stateWords,
  stepSentence,
} from "./rollout-words";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, Loading, Page, Select, SignInFirst, TableHead } from "../ui/ui";
import { VersionChart } from "../ui/version-chart";
import { plural } from "../words/words";
import { RolloutSteps } from "./rollout-steps";
import { RolloutError } from "./rollouts";

const REFRESH_MS = 5_000;
const utcDay = (t: Timestamp | undefined) => (t ? new Date(Number(t.seconds) * 1000).toISOString().slice(0, 10) : "");

export function RolloutPage({ id, rolloutId }: { id: string; rolloutId: string }) {
  const { signedIn } = useSession();
  const got = useQuery(
    RolloutService.method.getRollout,
    { templateId: id, rolloutId },
    { enabled: signedIn, refetchInterval: REFRESH_MS },
  );
  const template = useQuery(TemplateService.method.getTemplate, { templateId: id }, { enabled: signedIn });
  if (!signedIn) {
    return (
      <Page title="Rollout">
        <SignInFirst what="this rollout" />
      </Page>
    );
  }
  if (got.error) {
    return (
      <Page title="Rollout">
        <RolloutError error={got.error} />
      </Page>
    );
  }
  if (!got.data) return <Loading what="the rollout" />;
  const r = got.data.rollout;
  if (!r) {
    return (
      <Page title="Rollout">
        <ErrorBox error={shownError(missingFromAnswer("rollout"))} />
      </Page>
    );
  }
  const name = template.data?.template?.content?.agentName;
  const halt = r.steps.find((s) => s.action === RolloutAction.HALT);
  return (
    <Page
      title={`Rollout of version ${r.candidateVersion}${name ? ` of ${name}` : ""}`}
      actions={
        <>
          <Link className="button" to={`/studio/${id}/rollouts`}>
            All rollouts
          </Link>
          <Link className="button" to={`/studio/${id}`}>
            Edit
          </Link>
        </>
      }
    >
      <dl className="facts" data-testid="rollout-facts">
        <dt>State</dt>
        <dd>{stateWords(r.state)}</dd>
        <dt>Share</dt>
        <dd>{percent(r.shareBasisPoints)} of conversations</dd>
        <dt>Conversations</dt>
        <dd>{conversationsWords(r)}</dd>
        <dt>Versions</dt>
        <dd>
          {String(r.candidateVersion)} (new) against {String(r.baselineVersion)} (current)
        </dd>
        <dt>Started</dt>
        <dd>{when(r.startedAt)}</dd>
      </dl>
      <p>{stateSentence(r)}</p>
      {halt && (
        <section className="halted" aria-labelledby="halted-heading" data-testid="halted">
          <h2 id="halted-heading">Halted by the pool, {when(halt.at)}</h2>
          <p>{r.watch?.haltedOn || "The pool gave no reason."}</p>
        </section>
      )}
      <Paused rollout={r} />
      <Ramp rollout={r} />
      <RolloutSteps rollout={r} />
      <Figures rollout={r} />
      <Days rollout={r} />
      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">What happened</h2>
        <ol className="timeline" data-testid="timeline">
          {r.steps.map((s) => (
            <li key={`${s.action}-${s.at?.seconds}-${s.at?.nanos}`}>{stepSentence(s, when(s.at))}</li>
          ))}
        </ol>
      </section>
    </Page>
  );
}

/** Why the pool's watch paused it, when it does: the check, its figures, each side's sample. */
function Paused({ rollout: r }: { rollout: Rollout }) {
  const panel = pausePanel(r.watch);
  if (!panel) return null;
  return (
    <section className="halted" aria-labelledby="paused-heading" data-testid="paused">
      <h2 id="paused-heading">{panel.heading}</h2>
      <p data-testid="paused-reason">{panel.reason}</p>
      <p className="hint">{panel.why}</p>
      <ul data-testid="paused-samples">
        {panel.samples.map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
    </section>
  );
}

/** A live rollout's way to every conversation: the shares taken, where it is, what the page offers next. */
function Ramp({ rollout: r }: { rollout: Rollout }) {
  const steps = rampWords(r);
  if (steps.length === 0) return null;
  return (
    <section aria-labelledby="ramp-heading">
      <h2 id="ramp-heading">The ramp</h2>
      <p className="hint">The shares this page offers next; you sign each step, and the pool takes none of them.</p>
      <ol className="timeline" data-testid="ramp">
        {steps.map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ol>
    </section>
  );
}

/** The watch's figures since the start, a row per signal, beside the creator's bounds. */
function Figures({ rollout: r }: { rollout: Rollout }) {
  const w = r.watch;
  const rows = w ? signalRows(w, r.bounds) : [];
  const [c, b] = [String(r.candidateVersion), String(r.baselineVersion)];
  return (
    <section aria-labelledby="figures-heading">
      <h2 id="figures-heading">How the two versions do</h2>
      <p className="hint">
        Each rate is per 100 of what its signal is counted against, with the counts beside it. {daysCountedWords(w)}
        {w?.checkedAt ? ` The pool last looked ${when(w.checkedAt)}.` : ""} A person's 👎 and corrections count once a
        day on each side, however many conversations they are in, and each side leaves out its one source with the most
        events, so no single person or conversation moves it.
      </p>
      {w && !w.pausedOn && sampleWords(w).length > 0 && (
        <>
          <p className="hint">Nothing halts or pauses on a signal before each version has its sample:</p>
          <ul data-testid="watch-sample">
            {sampleWords(w).map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="figures watch" data-testid="watch-figures">
            <TableHead
              caption={"What the pool counted since the start, per signal"}
              columns={[
                "Signal",
                `v${c} (new)`,
                `v${b} (current)`,
                "Halts at, × the current rate",
                "Evidence, of the halt line",
              ]}
            />
            <tbody>
              {rows.map((row) => (
                <tr key={row.signal}>
                  <th scope="row">
                    {row.name} <span className="meta">{row.per}</span>
                  </th>
                  <td>{row.candidate}</td>
                  <td>{row.baseline}</td>
                  <td>{row.halts}</td>
                  <td>{row.evidence}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Both versions day by day since the rollout started, as the comparison draws them. */
function Days({ rollout: r }: { rollout: Rollout }) {
  const [figure, setFigure] = useState<ChartFigure>("thumbsDown");
  const [c, b] = [String(r.candidateVersion), String(r.baselineVersion)];
  const compared = useQuery(
    VersionSignalInsightsService.method.compareVersions,
    { templateId: r.templateId, versions: [b, c], fromDay: utcDay(r.startedAt) },
    { refetchInterval: REFRESH_MS },
  );
  const label = (v: string) => `v${v} (${v === c ? "new" : "current"})`;
  const versions = compared.data?.versions ?? [];
  const series = (read: (d: VersionComparison["days"][number]) => number | undefined) =>
    versions.map((v) => ({ label: label(v.version), values: new Map(v.days.map((d) => [d.day, read(d)])) }));
  const name = CHART_FIGURES.find(([f]) => f === figure)?.[1] ?? figure;
  const said = (what: (v: VersionComparison) => string) => versions.map((v) => `${label(v.version)} ${what(v)}`);
  return (
    <section aria-labelledby="days-heading">
      <h2 id="days-heading">Day by day</h2>
      {compared.error && <ErrorBox error={shownError(compared.error)} />}
      {compared.isPending && <Loading what="the days" />}
      {compared.data && versions.every((v) => v.daysRan === 0) ? (
        <p className="empty">No agent reported either version since the rollout started.</p>
      ) : (
        compared.data && (
          <>
            <p className="hint">
              A version's day shows figures only when its agents were in at least{" "}
              {plural(compared.data.minConversations, "conversation")}; a day below that is a gap.
            </p>
            <div className="charts">
              <VersionChart
                title="Answers per day"
                unit="answers"
                series={series((d) => (d.shown ? d.answers : undefined))}
                summary={`${said((v) => `ran ${plural(v.daysRan, "day")}, ${v.daysShown} shown`).join("; ")}.`}
              />
              <div>
                <Select
                  label="Figure per 100 answers"
                  name="figure"
                  value={figure}
                  onChange={(e) => setFigure(e.target.value as ChartFigure)}
                >
                  {CHART_FIGURES.map(([f, n]) => (
                    <option key={f} value={f}>
                      {n}
                    </option>
                  ))}
                </Select>
                <VersionChart
                  title={`${name} per 100 answers, per day`}
                  unit="per 100 answers"
                  series={series((d) => d.per100Answers?.[figure])}
                  summary={`Over the days shown: ${said((v) => (v.per100Answers ? String(Math.round(v.per100Answers[figure] * 10) / 10) : "below the threshold")).join(", ")}.`}
                />
              </div>
            </div>
          </>
        )
      )}
    </section>
  );
}
