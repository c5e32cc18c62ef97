// A template's page in the store, and "Add to a conversation": the invite,
// what the template's user tools ask for, a model if it may be changed; then
// progress until the agent has joined (Claim answers once it has). What of a
// person's phone its agents use is shown before the claim.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { Provisioning, type ToolDeclaration } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type {
  ConnectionDeclaration,
  Soul,
  Template,
  TemplateContent,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  claimFields,
  connectionSummary,
  DEFAULT_MAX_TRUST_LEVEL,
  TOOL_KIND_EXAMPLES,
  TRUST_LEVEL_SUMMARIES,
  toolKind,
  toolKindName,
  toolValueProblem,
  trustLevelName,
} from "@convos-pool/kit/browser";
import { useQueryClient } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { FieldError, missingFromAnswer, shownError, type ShownError } from "../ui/errors";
import { provisioningName, short, statusName, visibilityName, when } from "../words/format";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, Loading, Page, Select, SignInFirst, TextField } from "../ui/ui";
import { ClaimWait, ErrorDetails, newClaimKey } from "./claim-wait";
import { Avatar, Starters } from "./face";
import { plural } from "../words/words";
import { Delisted, ReportTemplate, recentOwners } from "./curation";
import { Reviews, Stars } from "./ratings";

export function TemplatePage({ id }: { id: string }) {
  const { inboxId } = useSession();
  // Resolved: a template built on another runs on both (docs/templates.md, "Base templates").
  const result = useQuery(TemplateService.method.getTemplate, { templateId: id, resolve: true });
  if (result.isPending) return <Loading what="the template" />;
  const t = result.data?.template;
  const c = result.data?.resolved?.content ?? t?.content;
  if (result.error || !t || !c) {
    return (
      <Page title="Template">
        <ErrorBox error={shownError(result.error ?? missingFromAnswer("template"))} />
      </Page>
    );
  }
  const base = result.data?.resolved?.layers[1];
  const mine = inboxId === t.creatorId;
  const maxTrust = trustLevelName(c.maxTrustLevel) || DEFAULT_MAX_TRUST_LEVEL;
  return (
    <Page
      title={c.agentName}
      actions={
        mine && (
          <>
            <Link className="button" to={`/studio/${t.id}`}>
              Edit
            </Link>
            <Link className="button" to={`/studio/${t.id}/history`}>
              Versions
            </Link>
            <Link className="button" to={`/studio/${t.id}/dashboard`}>
              Dashboard
            </Link>
          </>
        )
      }
    >
      {mine && <Delisted template={t} />}
      <p className="lead">
        <Avatar avatar={c.avatar} name={c.agentName} />
        {c.description || "No description."}
      </p>
      <Starters starters={c.conversationStarters} label="Things to say to it" />
      {t.ratings && (
        <p>
          <Stars ratings={t.ratings} />
        </p>
      )}
      {t.featured && <p className="tag">Featured</p>}
      <WhoItIs soul={c.soul} agentName={c.agentName} />
      <dl className="facts">
        <dt>Category</dt>
        <dd>{c.category || "—"}</dd>
        <dt>Tags</dt>
        <dd>{c.tags.length ? c.tags.join(", ") : "—"}</dd>
        <dt>Model</dt>
        <dd>
          {c.model?.default} ({c.model?.allowOverride ? "you may choose another" : "fixed by its creator"})
        </dd>
        <dt>Highest trust level</dt>
        <dd data-testid="max-trust-level">
          {maxTrust} — {TRUST_LEVEL_SUMMARIES[maxTrust]}
        </dd>
        <dt>Used</dt>
        <dd>
          {plural(t.usageCount, "time")}, by {recentOwners(t)}
        </dd>
        <dt>Version</dt>
        <dd>
          v{String(t.version)}, updated {when(t.updatedAt)}
          {mine && ` · ${visibilityName(t.visibility)}, ${statusName(t.status)}`}
        </dd>
        <dt>Creator</dt>
        <dd title={t.creatorId}>{mine ? "you" : short(t.creatorId)}</dd>
        {base && (
          <>
            <dt>Built on</dt>
            <dd data-testid="built-on">
              <Link to={`/templates/${base.templateId}`}>{base.agentName}</Link>,{" "}
              {base.pinned ? `staying on its version ${String(base.version)}` : "following its updates"}
            </dd>
          </>
        )}
      </dl>
      <h2>Tools</h2>
      {c.tools.length === 0 ? (
        <p>This agent uses no tools.</p>
      ) : (
        <ul className="tools">
          {c.tools.map((tool) => (
            <li key={tool.id}>
              <strong>{tool.name || tool.id}</strong>{" "}
              <span className={`tag ${tool.provisioning === Provisioning.POOL ? "" : "subtle"}`}>
                {provisioningName(tool.provisioning)}
              </span>
              {tool.required && <span className="tag subtle">required</span>}
              <br />
              {tool.description}
              {tool.provisioning === Provisioning.POOL ? " The pool gives the agent its own." : " You provide it."}
            </li>
          ))}
        </ul>
      )}
      <PhoneConnections connections={c.connections} />
      <details>
        <summary>Instructions</summary>
        <pre className="instructions">{c.instructions}</pre>
      </details>
      <AddToConversation template={t} content={c} />
      <Reviews template={t} />
      <ReportTemplate template={t} />
    </Page>
  );
}

/** The SOUL's identity and capabilities (docs/templates.md, "SOUL"): who the agent is, before anyone adds it. */
function WhoItIs({ soul, agentName }: { soul: Soul | undefined; agentName: string }) {
  const identity = soul?.identity;
  const capabilities = (
    [
      ["Domains", soul?.capabilities?.domains ?? []],
      ["Skills", soul?.capabilities?.skills ?? []],
      ["Limitations", soul?.capabilities?.limitations ?? []],
    ] as const
  ).filter(([, items]) => items.length > 0);
  if (!identity?.name && !identity?.role && !identity?.description && capabilities.length === 0) return null;
  return (
    <section aria-labelledby="soul-heading" data-testid="soul">
      <h2 id="soul-heading">Who it is</h2>
      {(identity?.name || identity?.role) && (
        <p>
          <strong>{identity.name || agentName}</strong>
          {identity.role && `: ${identity.role}`}
        </p>
      )}
      {identity?.description && <p>{identity.description}</p>}
      {capabilities.length > 0 && (
        <dl className="facts">
          {capabilities.map(([label, items]) => (
            <Fragment key={label}>
              <dt>{label}</dt>
              <dd>{items.join(" · ")}</dd>
            </Fragment>
          ))}
        </dl>
      )}
    </section>
  );
}

/**
 * What of a person's phone its agents use, and why (docs/templates.md, "Phone
 * connections"), its bases' included. Only when it declares some: a template
 * that declares none has not said it uses nothing.
 */
function PhoneConnections({ connections }: { connections: ConnectionDeclaration[] }) {
  if (connections.length === 0) return null;
  return (
    <section aria-labelledby="connections-heading" data-testid="connections">
      <h2 id="connections-heading">Your phone</h2>
      <ul className="connections">
        {connections.map((connection) => (
          <li key={connection.kind}>{connectionSummary(connection)}</li>
        ))}
      </ul>
      <p className="hint">Nothing is shared until you turn it on for the conversation in Convos.</p>
    </section>
  );
}

/** The claim's field that confirms a second agent of the template in one conversation. */
const SECOND_AGENT_FIELD = "confirm_second_agent";

const kindOf = (t: ToolDeclaration) => ({ id: t.id, kind: toolKindName(t.kind) });
const INPUT_MODES = { text: "text", email: "email", phone: "tel", number: "decimal", url: "url" } as const;
/** A phone's keyboard and an example for a value of its kind; the check is toolValueProblem's, not the browser's. */
function kindInput(tool: ReturnType<typeof kindOf>) {
  const kind = toolKind(tool);
  return { inputMode: INPUT_MODES[kind] ?? "text", placeholder: TOOL_KIND_EXAMPLES[kind] || undefined };
}

/** `content`: what its agents run on (its bases applied), whose user tools the claim must answer. */
function AddToConversation({ template, content: c }: { template: Template; content: TemplateContent }) {
  const { signedIn, inboxId, sign } = useSession();
  const userTools = c.tools.filter((t) => t.provisioning === Provisioning.USER);
  const [invite, setInvite] = useState("");
  const [config, setConfig] = useState<Record<string, string>>({});
  const [model, setModel] = useState("");
  const [error, setError] = useState<ShownError>();
  // The conversation already has an agent of this template: the claimer confirms a second one (docs/claims.md).
  const [secondAgent, setSecondAgent] = useState(false);
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
      // Signed as well as signed in: the signature goes into the agent's birth certificate, so members can check its owner.
      const signature = await sign("ClaimAgent", claimFields(request));
      const claimKey = newClaimKey();
      setSent({ claimKey, sentAt: Date.now() });
      await claim.mutateAsync({ ...request, signature, idempotencyKey: claimKey });
    } catch (err) {
      const shown = shownError(err);
      if (shown.fields[SECOND_AGENT_FIELD] !== undefined) setSecondAgent(true);
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
          <TextField
            label="Conversation invite"
            name="conversation_invite"
            error={error}
            required
            value={invite}
            onChange={(e) => {
              setInvite(e.target.value);
              setSecondAgent(false);
            }}
            hint="The Convos invite link (or its code) of the conversation the agent joins."
            autoComplete="off"
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
            fieldsShown={["conversation_invite", "model", ...userTools.map((t) => `user_config.${t.id}`)]}
          />
          <ErrorDetails error={error} />
          {claim.isPending && sent && <ClaimWait claimKey={sent.claimKey} sentAt={sent.sentAt} />}
          {secondAgent && !claim.isPending ? (
            <div
              role="alertdialog"
              aria-labelledby="second-agent-question"
              className="notice"
              data-testid="second-agent"
            >
              <p id="second-agent-question">
                <strong>This conversation already has {c.agentName}; add another?</strong>
              </p>
              <p>Two agents of one template answer the same messages.</p>
              <button type="button" onClick={() => void submit(true)}>
                Add another {c.agentName}
              </button>{" "}
              <button type="button" className="link" onClick={() => setSecondAgent(false)}>
                Cancel
              </button>
            </div>
          ) : (
            <button type="submit" disabled={claim.isPending}>
              {claim.isPending ? "Adding…" : "Add the agent"}
            </button>
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
