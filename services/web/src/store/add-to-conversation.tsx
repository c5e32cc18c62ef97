// "Add to a conversation" on a template's page: the invite, what the
// template's user tools ask for, a model if it may be changed; then progress
// until the agent has joined (Claim answers once it has; the wait and its
// Cancel: claim-wait.tsx).
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { Provisioning, type ToolDeclaration } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { Template, TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { claimFields, TOOL_KIND_EXAMPLES, toolKind, toolKindName, toolValueProblem } from "@convos-pool/kit/browser";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { FieldError, shownError, type ShownError } from "../ui/errors";
import { short } from "../words/format";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, INVITE_FIELD, InviteField, Select, SignInFirst, TextField } from "../ui/ui";
import { asksSecondAgent, SecondAgentQuestion, useInviteAndQuestion } from "../ui/second-agent";
import { ClaimWait, ErrorDetails, newClaimKey } from "./claim-wait";

/** The claim's field that confirms a second agent of the template in one conversation. */

const kindOf = (t: ToolDeclaration) => ({ id: t.id, kind: toolKindName(t.kind) });
const INPUT_MODES = { text: "text", email: "email", phone: "tel", number: "decimal", url: "url" } as const;
/** A phone's keyboard and an example for a value of its kind; the check is toolValueProblem's, not the browser's. */
function kindInput(tool: ReturnType<typeof kindOf>) {
  const kind = toolKind(tool);
  return { inputMode: INPUT_MODES[kind] ?? "text", placeholder: TOOL_KIND_EXAMPLES[kind] || undefined };
}

/** `content`: what its agents run on (its bases applied), whose user tools the claim must answer. */
export function AddToConversation({ template, content: c }: { template: Template; content: TemplateContent }) {
  const { signedIn, inboxId, sign, canSign } = useSession();
  const userTools = c.tools.filter((t) => t.provisioning === Provisioning.USER);
  const { invite, changeInvite, secondAgent, setSecondAgent } = useInviteAndQuestion();
  const [config, setConfig] = useState<Record<string, string>>({});
  const [model, setModel] = useState("");
  const [error, setError] = useState<ShownError>();
  // The conversation already has an agent of this template: the claimer confirms a second one (docs/claims.md).
  // The claim under way: its key (to follow and to cancel it: claim-wait.tsx) and when it was sent.
  const [sent, setSent] = useState<{ claimKey: string; sentAt: number }>();
  const queryClient = useQueryClient();
  // A claim changes the template's usage and the owner's agents: shown fresh afterwards.
  const claim = useMutation(ClaimService.method.claim, { onSuccess: () => void queryClient.invalidateQueries() });
  const joined = claim.data;

  const agent = useQuery(
    ClaimService.method.getInstance,
    { instanceId: joined?.instanceId ?? "" },
    { enabled: Boolean(joined) },
  );

  async function submit(confirmSecondAgent = false) {
    setError(undefined);
    setSecondAgent(false);
    const userConfig = Object.fromEntries(Object.entries(config).filter(([, v]) => v.trim() !== ""));
    try {
      if (!inboxId) throw new Error("sign in first");
      // Each value by its tool's kind before anything is signed, in the claims service's words.
      for (const tool of userTools) {
        const problem = toolValueProblem(kindOf(tool), userConfig[tool.id] ?? "");
        if (problem) throw new FieldError(`user_config.${tool.id}`, problem);
      }
      const request = {
        requester: inboxId,
        templateId: template.id,
        conversationInvite: invite.trim(),
        model: model.trim(),
        userConfig,
        confirmSecondAgent,
      };
      // Signed as well as signed in where a wallet is here: the signature goes into the agent's birth certificate, so
      // members can check its owner. Signed in with Convos alone, the session is the claim's proof (its owner is then
      // the pool's word in that certificate; docs/decisions.md, "Adding an agent from Convos").
      const signature = canSign ? await sign("ClaimAgent", claimFields(request)) : undefined;
      const claimKey = newClaimKey();
      setSent({ claimKey, sentAt: Date.now() });
      await claim.mutateAsync({ ...request, signature, idempotencyKey: claimKey });
    } catch (err) {
      const shown = shownError(err);
      if (asksSecondAgent(shown)) setSecondAgent(true);
      else setError(shown);
    }
  }

  return (
    <section className="card" aria-labelledby="add-heading">
      <h2 id="add-heading">Add to a conversation</h2>
      {!signedIn ? (
        <SignInFirst what="how to add this agent to your conversation" />
      ) : joined ? (
        <div role="status" className="progress done">
          <p>
            <strong>{c.agentName} has joined the conversation.</strong>
          </p>
          <p>
            Agent <code>{joined.instanceId}</code>
            {agent.data?.instance && (
              <>
                {" "}
                in conversation{" "}
                <code title={agent.data.instance.conversationId}>{short(agent.data.instance.conversationId)}</code>
              </>
            )}
            . <Link to={`/agents/${joined.instanceId}`}>See it in My agents</Link>.
          </p>
        </div>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
          aria-busy={claim.isPending}
        >
          <InviteField
            error={error}
            value={invite}
            onChange={changeInvite}
            hint="The Convos invite link (or its code) of the conversation the agent joins."
          />
          {userTools.map((tool) => (
            <TextField
              key={tool.id}
              label={tool.prompt || `${tool.name || tool.id}`}
              name={`user_config.${tool.id}`}
              error={error}
              required={tool.required}
              value={config[tool.id] ?? ""}
              onChange={(e) => setConfig({ ...config, [tool.id]: e.target.value })}
              hint={tool.description}
              {...kindInput(kindOf(tool))}
            />
          ))}
          {c.model?.allowOverride && (
            <ClaimModel templateDefault={c.model.default} value={model} onChange={setModel} error={error} />
          )}
          <ErrorBox
            error={error}
            fieldsShown={[INVITE_FIELD, "model", ...userTools.map((t) => `user_config.${t.id}`)]}
          />
          <ErrorDetails error={error} />
          {claim.isPending && sent && <ClaimWait claimKey={sent.claimKey} sentAt={sent.sentAt} />}
          {secondAgent && !claim.isPending ? (
            <SecondAgentQuestion
              question={`This conversation already has ${c.agentName}; add another?`}
              confirm={`Add another ${c.agentName}`}
              onConfirm={() => void submit(true)}
              onCancel={() => setSecondAgent(false)}
            />
          ) : (
            <>
              {!canSign && (
                <p className="hint" data-testid="claim-unsigned">
                  Signed in with Convos, no wallet signs this claim: you become its owner on the pool's word, and its
                  birth certificate says so. You answer its questions, set its trust and read its memory by confirming
                  in Convos; it pays within a daily limit you confirm there too, up to 0.05 ETH a day (a wallet signs
                  more).
                </p>
              )}
              <button type="submit" disabled={claim.isPending}>
                {claim.isPending ? "Adding…" : "Add the agent"}
              </button>
            </>
          )}
        </form>
      )}
    </section>
  );
}

/**
 * The owner's choice of model, where the template allows one: the template's
 * default or another the pool serves (ListModels; the claim refuses any
 * other). Without the list, a text field.
 */
function ClaimModel({
  templateDefault,
  value,
  onChange,
  error,
}: {
  templateDefault: string;
  value: string;
  onChange: (model: string) => void;
  error: ShownError | undefined;
}) {
  const models = useQuery(TemplateService.method.listModels, {});
  if (!models.data) {
    return (
      <TextField
        label="Model"
        name="model"
        error={error}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={templateDefault}
        hint={`Empty: the template's default, ${templateDefault}.`}
      />
    );
  }
  return (
    <Select
      label="Model"
      name="model"
      error={error}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      hint="The models this pool serves; the first is the template's default."
    >
      <option value="">{templateDefault} (default)</option>
      {models.data.models
        .filter((m) => m !== templateDefault)
        .map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
    </Select>
  );
}
