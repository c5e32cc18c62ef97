// The "Reminders" section's list (docs/web.md; docs/schedules.md), loaded on
// its own by reminders.tsx: what the agent keeps in time for its
// conversations, under each conversation's name, in people's terms
// (reminder-words.ts): what, when next, how often, who asked, paused or not.
// Its owner pauses, resumes, cancels or moves any of them to another time of
// day in the item's own zone (ScheduleService, through
// the gateway, in the session: nothing is signed, as the claims service
// judges the caller by their inbox). Items are made in the conversation,
// never here, so an empty list says how to ask for one.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import { Fragment, useState } from "react";
import { shownError } from "../ui/errors";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Notice } from "../ui/ui";
import { useAction } from "../ui/use-action";
import { emptyWords, moveAsk, reminderGroups, type ReminderAction, type ReminderLine } from "./reminder-words";

const ACTION_WORDS: Record<ReminderAction, { button: string; done: string }> = {
  pause: { button: "Pause", done: "Paused: it does not fire until you resume it." },
  resume: { button: "Resume", done: "Resumed: it fires from its next time." },
  cancel: { button: "Cancel", done: "Cancelled: it will not fire again." },
};

export function ReminderList({ agent: i }: { agent: Instance }) {
  const { inboxId } = useSession();
  const act = useAction();
  // The owner's listing names no conversation: every item of the agent, soonest first.
  const list = useQuery(ScheduleService.method.listSchedules, { instanceId: i.id }, { refetchInterval: 10_000 });
  const pause = useMutation(ScheduleService.method.pauseSchedule);
  const resume = useMutation(ScheduleService.method.resumeSchedule);
  const cancel = useMutation(ScheduleService.method.cancelSchedule);
  const calls = { pause, resume, cancel };
  const move = useMutation(ScheduleService.method.moveSchedule);
  // The item whose move form is open, one at a time.
  const [moving, setMoving] = useState<string | undefined>();
  const groups = list.data ? reminderGroups(list.data.items, i.conversations, inboxId, {}, i.inboxId) : [];

  const change = (line: ReminderLine, what: ReminderAction) => {
    if (what === "cancel" && !window.confirm(`Cancel "${line.what}"? It will not fire again.`)) return;
    void act.run(`${what}:${line.id}`, ACTION_WORDS[what].done, async () => {
      await calls[what].mutateAsync({ instanceId: i.id, id: line.id });
    });
  };

  const moveTo = (line: ReminderLine, form: HTMLFormElement) => {
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? "";
    const ask = moveAsk(field("time"), field("date"));
    const done =
      line.often === "once"
        ? `Moved: it fires at ${ask.time} on ${ask.date || "the same day"}.`
        : `Moved: it fires at ${ask.time} from now on, keeping its days.`;
    void act.run(`move:${line.id}`, done, async () => {
      await move.mutateAsync({ instanceId: i.id, id: line.id, ...ask });
      setMoving(undefined);
    });
  };

  return (
    <section aria-labelledby="reminders-heading">
      <h2 id="reminders-heading">Reminders and routines</h2>
      <p>
        What it keeps in time for its conversations, asked there by you or a member, or kept for its template. Each
        posts only in its own conversation.
      </p>
      {list.isPending && <Loading what="its reminders" />}
      {list.error && <ErrorBox error={shownError(list.error)} />}
      {act.done && <Notice>{act.done}</Notice>}
      {list.data && groups.length === 0 && <Empty>{emptyWords(i.agentName)}</Empty>}
      {groups.map((g) => (
        <div key={g.conversationId} data-testid="reminder-conversation">
          <h3>{g.name}</h3>
          <ol className="activity" aria-label={`Reminders in ${g.name}`}>
            {g.lines.map((line) => (
              <li key={line.id} data-testid="reminder">
                <p style={{ whiteSpace: "pre-line" }}>
                  <span data-testid="reminder-what">{line.what}</span> <span className="tag">{line.kind}</span>
                  {line.paused && (
                    <>
                      {" "}
                      <span className="tag">paused</span>
                    </>
                  )}
                </p>
                <dl className="facts">
                  <dt>When next</dt>
                  <dd data-testid="reminder-next">{line.next}</dd>
                  <dt>How often</dt>
                  <dd data-testid="reminder-often">{line.often}</dd>
                  <dt>Asked by</dt>
                  <dd data-testid="reminder-asked-by">{line.askedBy}</dd>
                  <dt>State</dt>
                  <dd data-testid="reminder-state">{line.state}</dd>
                </dl>
                <p>
                  {line.actions.map((what) => (
                    <Fragment key={what}>
                      <button
                        type="button"
                        className={what === "cancel" ? "danger" : undefined}
                        disabled={!!act.busy}
                        aria-label={`${ACTION_WORDS[what].button} "${line.what}"`}
                        onClick={() => change(line, what)}
                      >
                        {ACTION_WORDS[what].button}
                      </button>{" "}
                    </Fragment>
                  ))}
                  {line.moveFrom && moving !== line.id && (
                    <button
                      type="button"
                      disabled={!!act.busy}
                      aria-label={`Move "${line.what}"`}
                      onClick={() => setMoving(line.id)}
                    >
                      Move
                    </button>
                  )}
                </p>
                {line.moveFrom && moving === line.id && (
                  <form
                    aria-label={`Move "${line.what}"`}
                    onSubmit={(e) => {
                      e.preventDefault();
                      moveTo(line, e.currentTarget);
                    }}
                  >
                    <label>
                      New time, in its own time zone{" "}
                      <input type="time" name="time" required defaultValue={line.moveFrom} />
                    </label>{" "}
                    {line.often === "once" && (
                      <label>
                        Day (empty: the same) <input type="date" name="date" />
                      </label>
                    )}{" "}
                    <button type="submit" disabled={!!act.busy}>
                      Move it
                    </button>{" "}
                    <button type="button" onClick={() => setMoving(undefined)}>
                      Keep it
                    </button>
                  </form>
                )}
                {[...line.actions, "move"].map((what) => (
                  <ErrorBox key={what} error={act.errorOf(`${what}:${line.id}`)} />
                ))}
              </li>
            ))}
          </ol>
        </div>
      ))}
    </section>
  );
}
