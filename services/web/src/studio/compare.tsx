// A creator's comparison of two versions of a template (docs/web.md,
// "Compare versions"; docs/signals.md): each one's figures per 100 answers
// over the days its figures were shown, side by side; charts of the days
// each ran (ui/version-chart.tsx); what the pool recorded of their agents; the
// diff and the release notes between them; and a one-step rollback to the
// older one, signed, after a confirm, with release notes of its own. A version with no day shown says so
// instead of showing figures. Loaded on its own (app.tsx): the chart library
// stays out of the store's bundle.
import { Code } from "@connectrpc/connect";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import {
  type SignalFigures,
  type VersionComparison,
  VersionSignalInsightsService,
} from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import type { Template, TemplateVersion } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { checkReleaseNotes, contentToJson, jsonHash } from "@convos-pool/kit/browser";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { contentOf, prettyContent } from "./content";
import { DiffView } from "../ui/diff-view";
import { missingFromAnswer, shownError, type ShownError } from "../ui/errors";
import { when } from "../words/format";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, Loading, Notice, Page, Select, SignInFirst, TableHead } from "../ui/ui";
import { plural } from "../words/words";
import { VersionChart } from "../ui/version-chart";
import { RELEASE_NOTES_FIELD, ReleaseNotesField } from "./release-notes-field";
import { rollbackOffer } from "./rollback-offer";

type Rate = Exclude<keyof SignalFigures, "answers" | "pinned" | "$typeName" | "$unknown">;
const RATES: [Rate, string][] = [
  ["people", "People who spoke to it"],
  ["thumbsUp", "Thumbs up on its messages"],
  ["thumbsDown", "Thumbs down on its messages"],
  ["corrections", "Corrections"],
  ["forgetRequests", "“Forget what you learned from me”"],
  ["approvalsAsked", "Approvals asked"],
  ["approvalsDeclined", "Approvals declined"],
  ["toolCallsFailed", "Tool calls failed"],
  ["pauses", "Paused by their owner"],
  ["stopRequests", "Stopped while thinking"],
];
const BELOW = "below the threshold";
const ACKNOWLEDGE_WALLET = "acknowledge_wallet_removal";

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1).replace(/\.0$/, ""));
const label = (v: string) => `v${v}`;

export function ComparePage({ id }: { id: string }) {
  const { signedIn } = useSession();
  const [picked, setPicked] = useState<[string, string]>();
  const template = useQuery(TemplateService.method.getTemplate, { templateId: id }, { enabled: signedIn });
  const history = useQuery(
    TemplateService.method.listTemplateVersions,
    { templateId: id, pageSize: 100 },
    { enabled: signedIn },
  );
  const compared = useQuery(
    VersionSignalInsightsService.method.compareVersions,
    { templateId: id, versions: picked ?? [] },
    { enabled: signedIn },
  );
  const versions = history.data?.versions ?? [];
  // Fewer than two versions reported: compare the template's two newest instead.
  const reported = compared.data?.versions.map((v) => v.version) ?? [];
  useEffect(() => {
    if (picked || !compared.data || reported.length === 2) return;
    const [newest, before] = versions;
    if (newest && before) setPicked([String(before.version), String(newest.version)]);
  }, [picked, compared.data, reported.length, versions]);

  if (!signedIn) {
    return (
      <Page title="Compare versions">
        <SignInFirst what="how this template's versions compare" />
      </Page>
    );
  }
  const failed = template.error ?? history.error ?? compared.error;
  if (failed) {
    return (
      <Page title="Compare versions">
        <ErrorBox error={shownError(failed)} />
      </Page>
    );
  }
  if (!template.data || !history.data || !compared.data) return <Loading what="the comparison" />;
  const t = template.data.template;
  if (!t) {
    return (
      <Page title="Compare versions">
        <ErrorBox error={shownError(missingFromAnswer("template"))} />
      </Page>
    );
  }
  const [a = "", b = ""] = picked ?? reported;
  const choose = (which: 0 | 1, value: string) => setPicked(which === 0 ? [value, b] : [a, value]);
  const options = versions.map((v) => String(v.version));
  for (const v of [a, b]) if (v && !options.includes(v)) options.push(v);
  const min = compared.data.minConversations;
  return (
    <Page
      title={`Compare versions of ${t.content?.agentName}`}
      actions={
        <>
          <Link className="button" to={`/studio/${id}/history`}>
            Versions
          </Link>
          <Link className="button" to={`/studio/${id}/dashboard`}>
            Dashboard
          </Link>
        </>
      }
    >
      <p className="hint">
        What agents counted, never what was said: figures per 100 answers over the days each version's figures were
        shown. A day shows figures only when agents in at least {min} conversations reported it; an owner counts once
        however many agents they hold; your own agents are counted apart, below.
      </p>
      <div className="row">
        <Select label="First version" name="first" value={a} onChange={(e) => choose(0, e.target.value)}>
          {options.map((v) => (
            <option key={v} value={v}>
              {label(v)}
            </option>
          ))}
        </Select>
        <Select label="Second version" name="second" value={b} onChange={(e) => choose(1, e.target.value)}>
          {options.map((v) => (
            <option key={v} value={v}>
              {label(v)}
            </option>
          ))}
        </Select>
      </div>
      {compared.data.versions.length === 0 ? (
        <Notice>No agent of this template reported in the last 30 days.</Notice>
      ) : (
        <>
          <section aria-labelledby="figures-heading">
            <h2 id="figures-heading">Figures per 100 answers</h2>
            <FiguresTable versions={compared.data.versions} caption="Other people's agents" />
          </section>
          <Charts versions={compared.data.versions} />
          {compared.data.ownVersions.some((v) => v.daysRan > 0) && (
            <section aria-labelledby="own-heading">
              <h2 id="own-heading">Your own agents</h2>
              <p className="hint">Counted apart, and never in the figures anyone else sees.</p>
              <FiguresTable versions={compared.data.ownVersions} caption="Your own agents" />
            </section>
          )}
        </>
      )}
      {/^\d+$/.test(a) && /^\d+$/.test(b) && a !== b && (
        <Changes id={id} versions={versions} a={a} b={b} current={t} onRolledBack={() => setPicked(undefined)} />
      )}
    </Page>
  );
}

/** A column per version, a row per figure: "below the threshold" where a version showed no day. */
function FiguresTable({ versions, caption }: { versions: readonly VersionComparison[]; caption: string }) {
  const cell = (v: VersionComparison, read: (f: SignalFigures) => string) =>
    v.per100Answers ? read(v.per100Answers) : BELOW;
  const lifecycle = (v: VersionComparison, read: (l: NonNullable<VersionComparison["lifecycle"]>) => string) =>
    !v.lifecycle ? "not recorded yet" : v.lifecycle.shown ? read(v.lifecycle) : `${BELOW} (${v.lifecycle.claimed})`;
  const rows: [string, (v: VersionComparison) => string][] = [
    ["Days shown, of the days it ran", (v) => `${v.daysShown} of ${v.daysRan}`],
    ["Answers on the days shown", (v) => (v.daysShown > 0 ? num(v.answers) : BELOW)],
    ...RATES.map(([f, name]): [string, (v: VersionComparison) => string] => [name, (v) => cell(v, (p) => num(p[f]))]),
    ["Owners who pinned it", (v) => cell(v, (p) => `${Math.round(p.pinned * 100)}%`)],
    ["Agents claimed", (v) => (v.lifecycle ? String(v.lifecycle.claimed) : "not recorded yet")],
    ["Removed within a day of the claim", (v) => lifecycle(v, (l) => String(l.removedWithin1Day))],
    ["Removed within 7 days", (v) => lifecycle(v, (l) => String(l.removedWithin7Days))],
    ["Clones", (v) => lifecycle(v, (l) => String(l.clones))],
  ];
  return (
    <div className="table-wrap">
      <table className="figures" data-testid="figures">
        <TableHead
          caption={`${caption}: figures per 100 answers`}
          columns={["Figure", ...versions.map((v) => label(v.version))]}
        />
        <tbody>
          {rows.map(([name, read]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              {versions.map((v) => (
                <td key={v.version}>{read(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Answers per day, and one figure per 100 answers per day (the creator picks which). */
function Charts({ versions }: { versions: readonly VersionComparison[] }) {
  const [rate, setRate] = useState<Rate>("thumbsUp");
  const rateName = RATES.find(([f]) => f === rate)?.[1] ?? rate;
  const series = (read: (d: VersionComparison["days"][number]) => number | undefined) =>
    versions.map((v) => ({ label: label(v.version), values: new Map(v.days.map((d) => [d.day, read(d)])) }));
  const answers = series((d) => (d.shown ? d.answers : undefined));
  const rates = series((d) => d.per100Answers?.[rate]);
  const said = (what: (v: VersionComparison) => string) => versions.map((v) => `${label(v.version)} ${what(v)}`);
  return (
    <section aria-labelledby="days-heading">
      <h2 id="days-heading">Day by day</h2>
      <p className="hint">A day below the threshold is a gap: it shows nothing, and counts for nothing above.</p>
      <div className="charts">
        <VersionChart
          title="Answers per day"
          unit="answers"
          series={answers}
          summary={`${said((v) => `ran ${plural(v.daysRan, "day")}, ${v.daysShown} shown`).join("; ")}.`}
        />
        <div>
          <Select
            label="Figure per 100 answers"
            name="figure"
            value={rate}
            onChange={(e) => setRate(e.target.value as Rate)}
          >
            {RATES.map(([f, name]) => (
              <option key={f} value={f}>
                {name}
              </option>
            ))}
          </Select>
          <VersionChart
            title={`${rateName} per 100 answers, per day`}
            unit="per 100 answers"
            series={rates}
            summary={`Over the days shown: ${said((v) => (v.per100Answers ? num(v.per100Answers[rate]) : BELOW)).join(", ")}.`}
          />
        </div>
      </div>
    </section>
  );
}

/** The diff and release notes from the older to the newer of two versions, and the rollback to the older. */
function Changes({
  id,
  versions,
  a,
  b,
  current,
  onRolledBack,
}: {
  id: string;
  versions: readonly TemplateVersion[];
  a: string;
  b: string;
  current: Template;
  onRolledBack: () => void;
}) {
  const { sign } = useSession();
  const queryClient = useQueryClient();
  const [older, newer] = Number(a) < Number(b) ? [a, b] : [b, a];
  const byVersion = (v: string) => versions.find((x) => String(x.version) === v);
  const [olderV, newerV] = [byVersion(older), byVersion(newer)];
  const offer = rollbackOffer(olderV?.snapshot, current);
  const diff = useQuery(
    TemplateService.method.diffTemplateVersions,
    { templateId: id, fromVersion: BigInt(older), toVersion: BigInt(newer) },
    { enabled: /^\d+$/.test(older) && /^\d+$/.test(newer) },
  );
  const rollback = useMutation(TemplateService.method.rollbackTemplate);
  const [confirming, setConfirming] = useState(false);
  const [walletAsked, setWalletAsked] = useState(false);
  const [walletAcknowledged, setWalletAcknowledged] = useState(false);
  const [releaseNotes, setReleaseNotes] = useState("");
  const [error, setError] = useState<ShownError>();
  const [done, setDone] = useState<string>();

  const rollBack = async () => {
    setError(undefined);
    try {
      const content = olderV?.snapshot?.content;
      if (!olderV || !content) throw missingFromAnswer(`content of version ${older}`);
      const acknowledgeWalletRemoval = walletAsked && walletAcknowledged;
      const contentHash = jsonHash(contentToJson(content));
      checkReleaseNotes(releaseNotes);
      const fields = { templateId: id, version: current.version, targetVersion: olderV.version, contentHash };
      const signature = await sign("RollbackTemplate", { ...fields, acknowledgeWalletRemoval });
      const res = await rollback.mutateAsync({
        templateId: id,
        expectedVersion: current.version,
        targetVersion: olderV.version,
        signature,
        acknowledgeWalletRemoval,
        releaseNotes,
      });
      setConfirming(false);
      setReleaseNotes("");
      setDone(`Rolled back: version ${res.template?.version ?? "?"} has the content of version ${older}.`);
      await queryClient.invalidateQueries();
      onRolledBack();
    } catch (err) {
      const e = shownError(err);
      if (e.code === Code.FailedPrecondition && ACKNOWLEDGE_WALLET in e.fields) setWalletAsked(true);
      setError(e);
    }
  };

  return (
    <>
      <section aria-labelledby="changes-heading">
        <h2 id="changes-heading">
          What changed from {label(older)} to {label(newer)}
        </h2>
        {diff.error && <ErrorBox error={shownError(diff.error)} />}
        {diff.data && (
          <ul className="notes" data-testid="release-notes">
            {diff.data.notes.length === 0 && <li>No release notes between these versions.</li>}
            {diff.data.notes.map((n) => (
              <li key={String(n.version)}>
                <strong>{label(String(n.version))}</strong> · {n.changeSummary || "change"} · {when(n.releasedAt)}
                {n.releaseNotes && <p>{n.releaseNotes}</p>}
              </li>
            ))}
          </ul>
        )}
        {olderV && newerV && (
          <DiffView
            before={prettyContent(contentOf(olderV.snapshot))}
            after={prettyContent(contentOf(newerV.snapshot))}
            beforeLabel={label(older)}
            afterLabel={label(newer)}
          />
        )}
      </section>
      <section aria-labelledby="rollback-heading">
        <h2 id="rollback-heading">Roll back</h2>
        {done && <Notice>{done}</Notice>}
        <ErrorBox error={error} fieldsShown={confirming ? [RELEASE_NOTES_FIELD] : []} />
        {!offer.offered && offer.why === "current" ? (
          <p>{label(older)} is the current version.</p>
        ) : !offer.offered ? (
          <p data-testid="rollback-unchanged">
            {label(older)} has the same content as the current version, {label(String(current.version))}: rolling back
            to it would change nothing.
          </p>
        ) : !confirming ? (
          <button type="button" onClick={() => setConfirming(true)}>
            Roll back to {label(older)}…
          </button>
        ) : (
          <fieldset className="confirm">
            <legend>Roll back to {label(older)}?</legend>
            <p>
              Every agent of this template gets the content of {label(older)} again, as a new version{" "}
              {String(current.version + 1n)}; owners who pinned their agent keep theirs. You sign this with your key.
            </p>
            <ReleaseNotesField value={releaseNotes} onChange={setReleaseNotes} error={error} when="with the rollback" />
            {walletAsked && (
              <div className="check">
                <input
                  id="compare-acknowledge-wallet"
                  type="checkbox"
                  checked={walletAcknowledged}
                  onChange={(e) => setWalletAcknowledged(e.target.checked)}
                />
                <label htmlFor="compare-acknowledge-wallet">
                  I know {label(older)} has no wallet: rolling back takes the wallet away from this template's agents;
                  what each holds goes back to its owner.
                </label>
              </div>
            )}
            <div className="row">
              <button type="button" className="primary" disabled={rollback.isPending} onClick={() => void rollBack()}>
                Sign and roll back to {label(older)}
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </div>
          </fieldset>
        )}
      </section>
    </>
  );
}
