// A template's page in the store: what it is (its face, who it is, its tools,
// its routines, its model and usage), what of a person's phone its agents use, shown before
// the claim, "Add to a conversation" (add-to-conversation.tsx), its ratings
// and reviews, and the store's curation of it.
import { useQuery } from "@connectrpc/connect-query";
import { Provisioning } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { ConnectionDeclaration, Soul, TemplateRoutine } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  connectionSummary,
  DEFAULT_MAX_TRUST_LEVEL,
  routineWhen,
  TRUST_LEVEL_SUMMARIES,
  trustLevelName,
} from "@convos-pool/kit/browser";
import { Fragment } from "react";
import { missingFromAnswer, shownError } from "../ui/errors";
import { provisioningName, short, statusName, templateVersionWords, visibilityName, when } from "../words/format";
import { Link } from "../router";
import { useSession } from "../sign-in/session";
import { ErrorBox, Loading, Page } from "../ui/ui";
import { AddToConversation } from "./add-to-conversation";
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
          {templateVersionWords(t)}, updated {when(t.updatedAt)}
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
      <Routines routines={c.routines} />
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
 * What its agents do on a schedule in each conversation (docs/templates.md,
 * "Routines"), shown as its tools are: before anyone adds one.
 */
function Routines({ routines }: { routines: TemplateRoutine[] }) {
  if (routines.length === 0) return null;
  return (
    <section aria-labelledby="routines-heading" data-testid="routines">
      <h2 id="routines-heading">Routines</h2>
      <ul className="tools">
        {routines.map((routine) => (
          <li key={routine.id}>
            <strong>{routine.name}</strong> <span className="tag subtle">{routineWhen(routine)}</span>
            <br />
            {routine.instruction}
          </li>
        ))}
      </ul>
      <p className="hint">
        In your conversation's time zone. As its owner you can pause, resume, move to another time or cancel each one
        for your conversation.
      </p>
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
