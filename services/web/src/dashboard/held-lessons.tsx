// "Lessons for your agents" on a template's dashboard (docs/patterns.md,
// "The creator's hold"): the creator holds the pattern pool's lessons for
// approval, or stops, and approves or rejects each lesson that would reach
// the template's agents. The hold and each decision are signed
// (SetPatternHold, ReviewPattern) and checked by the lineage service.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { PatternDecision, PatternInsightsService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { shownError } from "../ui/errors";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Notice } from "../ui/ui";
import { plural } from "../words/words";
import { useAction } from "../ui/use-action";

const REFRESH_MS = 10_000;

export function HeldLessons({ templateId }: { templateId: string }) {
  const { signedIn, sign } = useSession();
  const act = useAction();
  const held = useQuery(
    PatternInsightsService.method.listHeldPatterns,
    { templateId },
    { enabled: signedIn, refetchInterval: REFRESH_MS },
  );
  const setHold = useMutation(PatternInsightsService.method.setPatternHold);
  const review = useMutation(PatternInsightsService.method.reviewPattern);
  const hold = held.data?.hold ?? false;

  function decide(patternId: string, approve: boolean) {
    void act.run(
      "review",
      approve ? "Approved: your agents may adopt it." : "Rejected: it never reaches your agents.",
      async () => {
        const signature = await sign("ReviewPattern", { templateId, patternId, approve });
        await review.mutateAsync({
          templateId,
          patternId,
          decision: approve ? PatternDecision.APPROVED : PatternDecision.REJECTED,
          signature,
        });
      },
    );
  }

  return (
    <section aria-labelledby="held-heading" className="card">
      <h2 id="held-heading">Lessons for your agents</h2>
      <p className="hint">
        Lessons that agents of other people offered to the pattern pool and that would reach your agents (offered by
        agents of several owners under several templates). Your agents take them as quoted hints, never as rules.
      </p>
      {held.error && <ErrorBox error={shownError(held.error)} />}
      {held.data && (
        <>
          <p data-testid="pattern-hold">
            {hold
              ? "You hold lessons for your approval: only those you approve reach your agents."
              : "Lessons reach your agents without your approval; those you reject never do."}
          </p>
          <button
            type="button"
            disabled={!!act.busy}
            onClick={() =>
              void act.run(
                "hold",
                hold ? "Lessons no longer wait for you." : "Lessons now wait for your approval.",
                async () => {
                  const signature = await sign("SetPatternHold", { templateId, hold: !hold });
                  await setHold.mutateAsync({ templateId, hold: !hold, signature });
                },
              )
            }
          >
            {hold ? "Sign and stop holding lessons" : "Sign and hold lessons for my approval"}
          </button>
          {held.data.patterns.length === 0 ? (
            <Empty>No lesson is waiting for you.</Empty>
          ) : (
            <ul className="patterns">
              {held.data.patterns.flatMap((h) => {
                // A held entry always carries its lesson; one without has nothing to show.
                const p = h.pattern;
                if (!p) return [];
                return (
                  <li key={p.patternId} data-testid="held-pattern">
                    <q id={`held-${p.patternId}`}>{p.text}</q>
                    <p className="meta">
                      Offered by agents of {plural(p.ownerCount, "owner")} under {plural(p.templateCount, "template")}
                    </p>
                    <button
                      type="button"
                      aria-describedby={`held-${p.patternId}`}
                      disabled={!!act.busy}
                      onClick={() => decide(p.patternId, true)}
                    >
                      Approve
                    </button>{" "}
                    <button
                      type="button"
                      aria-describedby={`held-${p.patternId}`}
                      disabled={!!act.busy}
                      onClick={() => decide(p.patternId, false)}
                    >
                      Reject
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
          <ErrorBox error={act.error} />
          {act.done && <Notice>{act.done}</Notice>}
        </>
      )}
    </section>
  );
}
