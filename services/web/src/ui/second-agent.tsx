// A conversation that already has an agent of the same template: the claims
// service refuses a second one until it is confirmed (docs/claims.md, "A
// second agent of a template"), and the page asks. Asked the same way where
// an agent is claimed into a conversation (the store) and where an owner's
// agent is added to one (its page); only the words differ.
import { useState } from "react";
import type { ShownError } from "./errors";

/** The server's name of the confirmation: its refusal is the question. */
export const SECOND_AGENT_FIELD = "confirm_second_agent";

/** Whether a refusal asks to confirm a second agent of the template. */
export function asksSecondAgent(e: ShownError): boolean {
  return e.fields[SECOND_AGENT_FIELD] !== undefined;
}

/**
 * The invite typed and whether the question about its conversation stands:
 * the question was about that conversation, so a changed invite drops it.
 */
export function useInviteAndQuestion() {
  const [invite, setInvite] = useState("");
  const [secondAgent, setSecondAgent] = useState(false);
  const changeInvite = (v: string) => {
    setInvite(v);
    setSecondAgent(false);
  };
  return { invite, changeInvite, secondAgent, setSecondAgent };
}

export function SecondAgentQuestion({
  question,
  confirm,
  onConfirm,
  onCancel,
}: {
  question: string;
  /** The confirming button's words: it sends the request again, confirmed. */
  confirm: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <div role="alertdialog" aria-labelledby="second-agent-question" className="notice" data-testid="second-agent">
      <p id="second-agent-question">
        <strong>{question}</strong>
      </p>
      <p>Two agents of one template answer the same messages.</p>
      <button type="button" onClick={onConfirm}>
        {confirm}
      </button>{" "}
      <button type="button" className="link" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
