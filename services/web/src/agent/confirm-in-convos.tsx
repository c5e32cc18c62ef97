// "Confirm in Convos" on an agent's page, for an owner signed in with Convos
// alone, who holds no key here (docs/web.md; docs/trust.md, "Confirmations in
// Convos"): the page asks the agent for the exact step it shows, shows the
// code it computed itself from that step, and asks every 2 seconds how it
// ended. The agent asks its owner in Convos and applies the step only on
// their answer there; what the page concludes of the answer is
// confirm-words.ts's.
import { createClient } from "@connectrpc/connect";
import { ConfirmationService, type Confirmation } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { useState } from "react";
import { transport } from "../sign-in/session";
import { Notice } from "../ui/ui";
import { confirmationCode, outcomeOf, stepDigest, stepRequest, type ShownStep } from "./confirm-words";

/** How often the page asks how a confirmation ended. */
const POLL_MS = 2_000;
/** How long past its question's expiry the page still asks, for an answer given at the last moment. */
const GRACE_MS = 30_000;

const confirmations = createClient(ConfirmationService, transport);

/** A step waiting for the owner's answer in Convos: the page's own code for it, and what it does in words. */
export interface Waiting {
  code: string;
  what: string;
}

/**
 * `confirm` asks the agent to put the step to its owner in Convos and
 * resolves once the owner confirmed it and the agent applied it, with the
 * confirmation as it ended (a listing of memory: what it sealed to the page's
 * key); it throws why not otherwise (declined, no answer in time, another step
 * than shown). `waiting` is the step waiting meanwhile.
 */
export function useConvosConfirm() {
  const [waiting, setWaiting] = useState<Waiting>();
  async function confirm(instanceId: string, step: ShownStep, what: string): Promise<Confirmation> {
    const shown = stepDigest(instanceId, step);
    const asked = (await confirmations.askConfirmation({ instanceId, step: stepRequest(step) })).confirmation;
    if (!asked) throw new Error("the agent did not say what it asked");
    setWaiting({ code: confirmationCode(shown), what });
    try {
      const until = Number(asked.expiresAt?.seconds ?? 0n) * 1000 + GRACE_MS;
      let now = asked;
      for (;;) {
        const outcome = outcomeOf(now, shown);
        if (outcome.kind === "done") return now;
        if (outcome.kind === "refused") throw new Error(outcome.why);
        if (Date.now() > until) throw new Error("It was not confirmed in Convos in time: nothing changed.");
        await new Promise((r) => setTimeout(r, POLL_MS));
        const got = (await confirmations.getConfirmation({ instanceId, id: asked.id })).confirmation;
        if (!got) throw new Error("the agent did not say how it ended");
        now = got;
      }
    } finally {
      setWaiting(undefined);
    }
  }
  return { confirm, waiting };
}

/** What the owner is asked to do in Convos, while a step waits there. */
export function ConfirmInConvos({ waiting }: { waiting: Waiting | undefined }) {
  if (!waiting) return null;
  return (
    <Notice>
      <strong>Confirm in Convos.</strong> The agent asked you in Convos to {waiting.what}. Check that its question shows
      the code <strong data-testid="confirm-code">{waiting.code}</strong> and says exactly that, then tap Approve or
      reply yes to it there. Anything else, decline it there.
    </Notice>
  );
}
