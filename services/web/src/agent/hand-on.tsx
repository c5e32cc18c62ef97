// The agent page's "Hand it on": clone it, with what it learned, into another
// conversation, or offer it to another owner. Each is signed by the owner.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { DEFAULT_CARRY, MEMORY_KINDS, cloneFields, type MemoryKind } from "@convos-pool/kit/browser";
import { useState } from "react";
import { shownError, type ShownError } from "../ui/errors";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, INVITE_FIELD, InviteField, Notice, TextArea, TextField } from "../ui/ui";
import { useAction } from "../ui/use-action";

const KIND_HELP: Record<MemoryKind, string> = {
  training: "what it learned doing its job",
  personalization: "what it learned about the people it works with",
  credentials: "secrets it was given (only when you say so)",
};

export function TransferForm({ agent: i }: { agent: Instance }) {
  const { sign } = useSession();
  const act = useAction();
  const transfer = useMutation(ClaimService.method.transferAgent);
  const [newOwner, setNewOwner] = useState("");
  return (
    <form
      className="card"
      aria-labelledby="transfer-heading"
      onSubmit={(e) => {
        e.preventDefault();
        void act.run("transfer", "Offered: it becomes theirs when they accept.", async () => {
          const ownerSignature = await sign("TransferAgent", { instanceId: i.id, newOwnerId: newOwner.trim() });
          await transfer.mutateAsync({ instanceId: i.id, newOwnerId: newOwner.trim(), ownerSignature });
        });
      }}
    >
      <h2 id="transfer-heading">Transfer</h2>
      <TextField
        label="New owner's inbox id"
        name="new_owner_id"
        error={act.errorOf("transfer")}
        required
        value={newOwner}
        onChange={(e) => setNewOwner(e.target.value)}
        autoComplete="off"
      />
      <ErrorBox error={act.errorOf("transfer")} fieldsShown={["new_owner_id"]} />
      {act.done && <Notice>{act.done}</Notice>}
      <button type="submit" disabled={!!act.busy}>
        Offer the agent
      </button>
    </form>
  );
}

export function CloneForm({ parent }: { parent: Instance }) {
  const { sign, inboxId } = useSession();
  const template = useQuery(TemplateService.method.getTemplate, { templateId: parent.templateId });
  const claim = useMutation(ClaimService.method.claim);
  const [invite, setInvite] = useState("");
  const [directive, setDirective] = useState("");
  const [carry, setCarry] = useState<MemoryKind[]>([...DEFAULT_CARRY]);
  const [error, setError] = useState<ShownError>();
  const clone = claim.data;
  const defaultDirective = template.data?.template?.content?.cloneDirective;

  async function submit() {
    setError(undefined);
    try {
      // The owner signs which template (and whose) the clone runs: the parent's.
      // A click before the template has loaded waits for it rather than failing.
      const creatorId = (template.data ?? (await template.refetch()).data)?.template?.creatorId;
      if (!creatorId) throw new Error(`template ${parent.templateId} could not be read; try again`);
      if (!inboxId) throw new Error("sign in first");
      const request = {
        ownerId: inboxId,
        parentInstanceId: parent.id,
        templateId: parent.templateId,
        templateCreatorId: creatorId,
        conversationInvite: invite.trim(),
        contextPrompt: directive,
        carry,
        model: "",
        userConfig: {},
      };
      const { inboxId: _owner, ...fields } = cloneFields(request);
      const ownerSignature = await sign("CloneAgent", fields);
      await claim.mutateAsync({
        requester: inboxId,
        cloneFrom: parent.id,
        templateId: parent.templateId,
        templateCreatorId: creatorId,
        conversationInvite: request.conversationInvite,
        contextPrompt: directive,
        carry,
        ownerSignature,
      });
    } catch (err) {
      setError(shownError(err));
    }
  }

  if (clone) {
    return (
      <section className="card" role="status">
        <h2>Cloned</h2>
        <p>
          The clone <Link to={`/agents/${clone.instanceId}`}>{clone.instanceId}</Link> has joined the conversation; its
          parent is sending what it learned.
        </p>
      </section>
    );
  }
  return (
    <form
      className="card"
      aria-busy={claim.isPending}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>Clone into another conversation</h2>
      <InviteField error={error} value={invite} onChange={setInvite} />
      <TextArea
        label="What to pass on"
        name="context_prompt"
        error={error}
        rows={3}
        value={directive}
        onChange={(e) => setDirective(e.target.value)}
        placeholder={defaultDirective || "General travel knowledge, but not the Japan trip details"}
        hint={
          defaultDirective
            ? `Empty: the template's default, "${defaultDirective}".`
            : "Empty: everything of the kinds below."
        }
      />
      <fieldset>
        <legend>Kinds of memory that carry</legend>
        {MEMORY_KINDS.map((k) => (
          <div className="check" key={k}>
            <input
              id={`carry-${k}`}
              type="checkbox"
              checked={carry.includes(k)}
              onChange={(e) => setCarry(e.target.checked ? [...carry, k] : carry.filter((x) => x !== k))}
            />
            <label htmlFor={`carry-${k}`}>
              {k}: {KIND_HELP[k]}
            </label>
          </div>
        ))}
      </fieldset>
      <ErrorBox error={error} fieldsShown={[INVITE_FIELD, "context_prompt"]} />
      {claim.isPending && <Notice>Claiming a clone and joining the conversation…</Notice>}
      <button type="submit" disabled={claim.isPending}>
        {claim.isPending ? "Cloning…" : "Sign and clone"}
      </button>
    </form>
  );
}
