// "When it speaks" on an agent's page: its mode in its conversation and the
// cooldown after an answer before it joins in unasked again. The owner signs
// SetParticipation over both; the agent checks it, enforces it and says the
// change in the conversation (docs/instance.md, "Participation").
import { useMutation } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  MAX_COOLDOWN_SECONDS,
  PARTICIPATION_MODE_NAMES,
  PARTICIPATION_SUMMARIES,
  parseParticipationMode,
  participationModeName,
  type ParticipationModeName,
} from "@convos-pool/kit/browser";
import { useState } from "react";
import { FieldError, type ShownError } from "../ui/errors";
import { useSession } from "../sign-in/session";
import { ErrorBox, Notice, Select, TextField } from "../ui/ui";
import { useAction } from "../ui/use-action";

/** Each mode as the agent's page names it (also in its conversations: conversations.tsx). */
export const MODE_WORDS: Record<ParticipationModeName, string> = {
  auto: "By the conversation's size",
  speak: "Speak",
  mention: "When mentioned",
  paused: "Paused",
};

/** The server's names of the fields, where their errors are (the mode's also where an agent joins a conversation). */
export const MODE_FIELD = "participation.mode";
const COOLDOWN_FIELD = "participation.cooldown_seconds";

/** The mode picked, with what it means under it: here, and where the agent joins another conversation. */
export function ModeSelect({
  label,
  error,
  value,
  onChange,
}: {
  label: string;
  error: ShownError | undefined;
  value: ParticipationModeName;
  onChange: (mode: ParticipationModeName) => void;
}) {
  return (
    <Select
      label={label}
      name={MODE_FIELD}
      error={error}
      value={value}
      onChange={(e) => onChange(e.target.value as ParticipationModeName)}
      hint={PARTICIPATION_SUMMARIES[value]}
    >
      {PARTICIPATION_MODE_NAMES.map((n) => (
        <option key={n} value={n}>
          {MODE_WORDS[n]}
        </option>
      ))}
    </Select>
  );
}

/** "60" in seconds: a whole number from 0 to a day. */
function cooldownSeconds(text: string): number {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(n <= MAX_COOLDOWN_SECONDS))
    throw new FieldError(COOLDOWN_FIELD, `whole seconds from 0 to ${MAX_COOLDOWN_SECONDS} (a day)`);
  return n;
}

/** The cooldown in the line that says what the agent holds now. */
function cooldownWords(seconds: number): string {
  if (seconds === 0) return "no cooldown";
  return `waits ${seconds} s after an answer before joining in unasked`;
}

export function ParticipationForm({ agent: i }: { agent: Instance }) {
  const { sign } = useSession();
  const act = useAction();
  const save = useMutation(ClaimService.method.setParticipation);
  const current = participationModeName(i.participation?.mode ?? 0);
  const currentCooldown = i.participation?.cooldownSeconds ?? 0;
  // What the agent holds, with the owner's unsaved choices over it.
  const [pickedMode, setPickedMode] = useState<ParticipationModeName>();
  const [cooldownText, setCooldownText] = useState<string>();
  const mode = pickedMode ?? current;
  const cooldown = cooldownText ?? String(currentCooldown);

  return (
    <form
      className="card"
      aria-labelledby="participation-heading"
      onSubmit={(e) => {
        e.preventDefault();
        void act.run("participation", "Saved: it says so in its conversation.", async () => {
          const parsedMode = parseParticipationMode(mode);
          if (parsedMode === undefined) throw new Error(`no mode is called "${mode}"`);
          const participation = { mode: parsedMode, cooldownSeconds: cooldownSeconds(cooldown) };
          const ownerSignature = await sign("SetParticipation", { instanceId: i.id, ...participation });
          await save.mutateAsync({ instanceId: i.id, participation, ownerSignature });
          setPickedMode(undefined);
          setCooldownText(undefined);
        });
      }}
    >
      <h2 id="participation-heading">When it speaks</h2>
      <p data-testid="agent-participation">
        <strong>{MODE_WORDS[current]}</strong>: {PARTICIPATION_SUMMARIES[current]}; {cooldownWords(currentCooldown)}.
      </p>
      <ModeSelect label="Mode" error={act.errorOf("participation")} value={mode} onChange={setPickedMode} />
      <TextField
        label="Cooldown (seconds)"
        name={COOLDOWN_FIELD}
        error={act.errorOf("participation")}
        type="number"
        min={0}
        max={MAX_COOLDOWN_SECONDS}
        step={1}
        inputMode="numeric"
        value={cooldown}
        onChange={(e) => setCooldownText(e.target.value)}
        hint="After an answer, how long it waits before joining in unasked. Someone who names it or replies to it is always answered."
        autoComplete="off"
      />
      <ErrorBox error={act.errorOf("participation")} fieldsShown={[MODE_FIELD, COOLDOWN_FIELD]} />
      {act.done && <Notice>{act.done}</Notice>}
      <button type="submit" disabled={!!act.busy}>
        {act.busy ? "Saving…" : "Sign and save when it speaks"}
      </button>
    </form>
  );
}
