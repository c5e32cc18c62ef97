// One agent of its owner: pin or follow its template's updates, remove it, withdraw from its wallet,
// set its trust level, who may ask it for what and when it speaks, clone it with what it learned into another
// conversation, transfer it, what it knows and who taught it, what it did (its activity log) and where it came
// from (lineage). Every change is signed here by the owner.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  InheritanceState,
  InstanceState,
  SyncState,
  type Instance,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  DEFAULT_CARRY,
  MEMORY_KINDS,
  TRUST_LEVEL_NAMES,
  TRUST_LEVEL_SUMMARIES,
  cloneFields,
  effectiveMaxTrustLevel,
  parseTrustLevel,
  trustLevelName,
  type MemoryKind,
  type TrustLevelName,
} from "@convos-pool/kit/browser";
import { useState } from "react";
import { parseEther } from "viem";
import { FieldError, missingFromAnswer, shownError, type ShownError } from "../errors";
import { BadgeCheck } from "./agent-badge";
import { WithdrawFunds } from "./agent-funds";
import { eth, outcomeName, short, stateName, syncName, trustName, when } from "../format";
import { Link, navigate } from "../router";
import { useSession } from "../session";
import { MemoryList } from "./agent-memory";
import { ParticipationForm } from "./agent-participation";
import { PermissionsForm } from "./agent-permissions";
import { useAction } from "./use-action";
import {
  Empty,
  ErrorBox,
  Loading,
  Notice,
  Page,
  Pager,
  Select,
  SignInFirst,
  TextArea,
  TextField,
  usePages,
} from "../ui";

const KIND_HELP: Record<MemoryKind, string> = {
  training: "what it learned doing its job",
  personalization: "what it learned about the people it works with",
  credentials: "secrets it was given (only when you say so)",
};

export function AgentPage({ id }: { id: string }) {
  const { signedIn, inboxId } = useSession();
  const agent = useQuery(
    ClaimService.method.getInstance,
    { instanceId: id },
    { enabled: signedIn, refetchInterval: 3_000 },
  );
  if (!signedIn) {
    return (
      <Page title="Agent">
        <SignInFirst what="this agent" />
      </Page>
    );
  }
  if (agent.isPending) return <Loading what="the agent" />;
  const i = agent.data?.instance;
  if (agent.error || !i) {
    return (
      <Page title="Agent">
        <ErrorBox error={shownError(agent.error ?? missingFromAnswer("agent"))} />
      </Page>
    );
  }
  if (i.pendingOwnerId === inboxId && i.ownerId !== inboxId) return <Offered agent={i} />;
  return <OwnedAgent agent={i} />;
}

function OwnedAgent({ agent: i }: { agent: Instance }) {
  const { sign } = useSession();
  const act = useAction();
  const pin = useMutation(ClaimService.method.setInstancePin);
  const remove = useMutation(ClaimService.method.removeAgent);
  const transfer = useMutation(ClaimService.method.transferAgent);
  const [newOwner, setNewOwner] = useState("");
  const pinned = i.sync?.state === SyncState.PINNED;
  const live = i.state === InstanceState.CLAIMED;

  return (
    <Page title={i.agentName || i.id}>
      {i.templateDelisting && (
        <Notice>
          <span data-testid="template-delisted">
            The pool's operators took this agent's template out of the store on {when(i.templateDelisting.delistedAt)}:{" "}
            {i.templateDelisting.reason}
          </span>{" "}
          It keeps working here and keeps getting its template's updates; no new agent of it can be added.
        </Notice>
      )}
      <dl className="facts">
        <dt>Agent</dt>
        <dd>
          <code>{i.id}</code>
        </dd>
        <dt>State</dt>
        <dd data-testid="agent-state">{stateName(i.state)}</dd>
        <dt>Conversation</dt>
        <dd>
          <code>{i.conversationId || "—"}</code>
        </dd>
        <dt>Template</dt>
        <dd>
          <Link to={`/templates/${i.templateId}`}>{i.templateId}</Link>
        </dd>
        <dt>Instructions</dt>
        <dd data-testid="agent-sync">{syncName(i)}</dd>
        <dt>Model</dt>
        <dd>
          {i.model}
          {i.modelOverridden && " (chosen by you)"}
        </dd>
        <dt>Tools</dt>
        <dd>{i.tools.length ? i.tools.map((t) => `${t.toolId}: ${t.handle}`).join(", ") : "—"}</dd>
        {i.inheritance && i.inheritance.state !== InheritanceState.UNSPECIFIED && (
          <>
            <dt>Inherited</dt>
            <dd>
              {i.inheritance.state === InheritanceState.SENT && `from its parent: ${i.inheritance.carry.join(", ")}`}
              {i.inheritance.state === InheritanceState.PENDING && "waiting for its parent's summary"}
              {i.inheritance.state === InheritanceState.FAILED && `nothing: ${i.inheritance.error}`}
            </dd>
          </>
        )}
        {i.pendingOwnerId && (
          <>
            <dt>Offered to</dt>
            <dd>
              <code>{i.pendingOwnerId}</code> (until they accept)
            </dd>
          </>
        )}
        <dt>Claimed</dt>
        <dd>{when(i.claimedAt)}</dd>
      </dl>
      <ErrorBox error={act.errorOfOthers("transfer")} />
      {act.done && <Notice>{act.done}</Notice>}
      {live && (
        <div className="actions">
          <button
            type="button"
            disabled={!!act.busy}
            onClick={() =>
              void act.run(
                "pin",
                pinned ? "It follows its template's updates again." : "Pinned: it stays on this version.",
                async () => {
                  const ownerSignature = await sign("SetInstancePin", { instanceId: i.id, pinned: !pinned });
                  await pin.mutateAsync({ instanceId: i.id, pinned: !pinned, ownerSignature });
                },
              )
            }
          >
            {pinned ? "Unpin: follow updates" : "Pin to this version"}
          </button>
          <button
            type="button"
            className="danger"
            disabled={!!act.busy}
            onClick={() => {
              if (!window.confirm("Remove this agent from its conversation? Its memory is deleted.")) return;
              void act.run("remove", "Removed.", async () => {
                const ownerSignature = await sign("RemoveAgent", { instanceId: i.id });
                await remove.mutateAsync({ instanceId: i.id, ownerSignature });
                navigate("/agents");
              });
            }}
          >
            Remove
          </button>
        </div>
      )}
      <WithdrawFunds agent={i} />
      {live && <TrustForm agent={i} />}
      {live && <PermissionsForm agent={i} />}
      {live && <ParticipationForm agent={i} />}
      {live && <CloneForm parent={i} />}
      {live && (
        <form
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            void act.run("transfer", "Offered: it becomes theirs when they accept.", async () => {
              const ownerSignature = await sign("TransferAgent", { instanceId: i.id, newOwnerId: newOwner.trim() });
              await transfer.mutateAsync({ instanceId: i.id, newOwnerId: newOwner.trim(), ownerSignature });
            });
          }}
        >
          <h2>Transfer</h2>
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
          <button type="submit" disabled={!!act.busy}>
            Offer the agent
          </button>
        </form>
      )}
      {live && <BadgeCheck inboxId={i.inboxId} />}
      {live && <MemoryList instanceId={i.id} />}
      {(live || i.state === InstanceState.CRASHED) && <Activity id={i.id} />}
      <Lineage id={i.id} />
    </Page>
  );
}

/** "0.05" ETH in wei: above 0, at most 18 decimals. */
function dailyLimitWei(text: string): bigint {
  const wei = /^\d+(\.\d{1,18})?$/.test(text.trim()) ? parseEther(text.trim()) : 0n;
  if (wei <= 0n) throw new FieldError("daily_spend_limit_wei", "an amount of ETH above 0, such as 0.05");
  return wei;
}

/**
 * Its trust level and what that allows, and a choice of another up to the
 * highest its template allows (L2 when the template names none), with L4's
 * daily spending limit in ETH. The owner signs SetTrustLevel; the agent
 * checks it and enforces the level itself.
 */
function TrustForm({ agent: i }: { agent: Instance }) {
  const { sign } = useSession();
  const act = useAction();
  const template = useQuery(TemplateService.method.getTemplate, { templateId: i.templateId });
  const save = useMutation(ClaimService.method.setTrustLevel);
  const content = template.data?.template?.content;
  // A template the owner cannot read (someone else's, made private since): every level; the agent refuses one above its highest.
  const max = content ? effectiveMaxTrustLevel(content.maxTrustLevel) : TrustLevel.AUTONOMOUS;
  const levels = TRUST_LEVEL_NAMES.filter((n) => {
    const level = parseTrustLevel(n);
    return level !== undefined && level <= max;
  });
  const current = trustLevelName(i.trustLevel);
  const [picked, setPicked] = useState<TrustLevelName>();
  // The highest it may have; L1 is always among them.
  const fallback = current && levels.includes(current) ? current : (levels.at(-1) ?? "L1");
  const chosen = picked && levels.includes(picked) ? picked : fallback;
  const [limit, setLimit] = useState(
    i.trustLevel === TrustLevel.AUTONOMOUS && i.dailySpendLimitWei ? eth(i.dailySpendLimitWei) : "",
  );

  return (
    <form
      className="card"
      aria-labelledby="trust-heading"
      onSubmit={(e) => {
        e.preventDefault();
        void act.run("trust", `Its trust level is now ${chosen}.`, async () => {
          const trustLevel = parseTrustLevel(chosen);
          if (trustLevel === undefined) throw new Error(`no trust level is called "${chosen}"`);
          const wei = chosen === "L4" ? dailyLimitWei(limit) : 0n;
          const ownerSignature = await sign("SetTrustLevel", { instanceId: i.id, trustLevel, dailySpendLimitWei: wei });
          await save.mutateAsync({
            instanceId: i.id,
            trustLevel,
            dailySpendLimitWei: chosen === "L4" ? wei.toString() : "",
            ownerSignature,
          });
        });
      }}
    >
      <h2 id="trust-heading">Trust level</h2>
      <p data-testid="agent-trust">
        {current ? (
          <>
            <strong>{current}</strong>: {TRUST_LEVEL_SUMMARIES[current]}
            {i.trustLevel === TrustLevel.AUTONOMOUS &&
              i.dailySpendLimitWei &&
              `, up to ${eth(i.dailySpendLimitWei)} ETH a day`}
            .
          </>
        ) : (
          "Not set: it was added before trust levels."
        )}
      </p>
      <Select
        label="Level"
        name="trust_level"
        error={act.errorOf("trust")}
        value={chosen}
        onChange={(e) => setPicked(e.target.value as TrustLevelName)}
        hint={
          content
            ? `Its template allows up to ${trustName(max)}.`
            : template.error
              ? "Its template could not be read: the agent refuses a level above the highest it allows."
              : undefined
        }
      >
        {levels.map((n) => (
          <option key={n} value={n}>
            {n}: {TRUST_LEVEL_SUMMARIES[n]}
          </option>
        ))}
      </Select>
      {chosen === "L4" && (
        <TextField
          label="Daily spending limit (ETH)"
          name="daily_spend_limit_wei"
          error={act.errorOf("trust")}
          required
          inputMode="decimal"
          value={limit}
          onChange={(e) => setLimit(e.target.value)}
          placeholder="0.05"
          hint="The most it may spend in a day without asking you."
          autoComplete="off"
        />
      )}
      <ErrorBox error={act.errorOf("trust")} fieldsShown={["trust_level", "daily_spend_limit_wei"]} />
      {act.done && <Notice>{act.done}</Notice>}
      <button type="submit" disabled={!!act.busy}>
        {act.busy ? "Saving…" : "Sign and save"}
      </button>
    </form>
  );
}

/** Its activity log, newest first: each tool call and how it ended, and each change of level or of who may ask. */
function Activity({ id }: { id: string }) {
  const pages = usePages();
  const log = useQuery(
    ClaimService.method.listAgentActivity,
    { instanceId: id, pageSize: 20, pageToken: pages.token },
    { refetchInterval: 5_000 },
  );
  return (
    <section aria-labelledby="activity-heading">
      <h2 id="activity-heading">Activity</h2>
      {log.isPending && <Loading what="its activity" />}
      {log.error && <ErrorBox error={shownError(log.error)} />}
      {log.data?.entries.length === 0 && (
        <Empty>Nothing yet: its tool calls and your changes to it show here, newest first.</Empty>
      )}
      {log.data && log.data.entries.length > 0 && (
        <ol className="activity" aria-label="Activity, newest first">
          {log.data.entries.map((e) => (
            <li key={e.id} data-testid="activity-entry">
              <strong>
                {e.toolId} · {e.action} · {outcomeName(e.outcome)}
              </strong>
              <p className="meta">
                {when(e.at)} · at {trustName(e.trustLevel)}
                {e.target && (
                  <>
                    {" "}
                    · for <code>{e.target}</code>
                  </>
                )}
                {e.amountWei && ` · ${eth(e.amountWei)} ETH`}
                {e.approved && " · approved by you"}
              </p>
              {e.detail && <p>{e.detail}</p>}
            </li>
          ))}
        </ol>
      )}
      <Pager pages={pages} nextToken={log.data?.nextPageToken} label="Activity pages" />
    </section>
  );
}

function CloneForm({ parent }: { parent: Instance }) {
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
      const creatorId = template.data?.template?.creatorId;
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
      <TextField
        label="Conversation invite"
        name="conversation_invite"
        error={error}
        required
        value={invite}
        onChange={(e) => setInvite(e.target.value)}
        autoComplete="off"
      />
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
      <ErrorBox error={error} fieldsShown={["conversation_invite", "context_prompt"]} />
      {claim.isPending && <Notice>Claiming a clone and joining the conversation…</Notice>}
      <button type="submit" disabled={claim.isPending}>
        {claim.isPending ? "Cloning…" : "Sign and clone"}
      </button>
    </form>
  );
}

function Lineage({ id }: { id: string }) {
  const lineage = useQuery(LineageService.method.getLineage, { instanceId: id });
  return (
    <section aria-labelledby="lineage-heading">
      <h2 id="lineage-heading">Lineage</h2>
      {lineage.isPending && <Loading what="its lineage" />}
      {lineage.error && <ErrorBox error={shownError(lineage.error)} />}
      {lineage.data && (
        <>
          <p>
            {lineage.data.ancestors.length === 0 ? "An original: not cloned from another agent." : "Cloned from: "}
            {lineage.data.ancestors.map((a, n) => (
              <span key={a.instanceId}>
                {n > 0 && " ← "}
                <Link to={`/agents/${a.instanceId}`}>{a.instanceId}</Link>
              </span>
            ))}
          </p>
          <p>
            {lineage.data.descendants.length === 0
              ? "No clones."
              : `${lineage.data.descendants.length} clone${lineage.data.descendants.length > 1 ? "s" : ""}: `}
            {lineage.data.descendants.map((d, n) => (
              <span key={d.instanceId}>
                {n > 0 && ", "}
                <Link to={`/agents/${d.instanceId}`}>{d.instanceId}</Link>
                {d.endedAt && " (ended)"}
              </span>
            ))}
          </p>
        </>
      )}
    </section>
  );
}

function Offered({ agent: i }: { agent: Instance }) {
  const { sign } = useSession();
  const act = useAction();
  const accept = useMutation(ClaimService.method.acceptAgent);
  return (
    <Page title={`${i.agentName || i.id}, offered to you`}>
      <p>
        <code title={i.ownerId}>{short(i.ownerId)}</code> offers you this agent, in conversation{" "}
        <code>{short(i.conversationId)}</code>.
      </p>
      <ErrorBox error={act.error} />
      {act.done && <Notice>{act.done}</Notice>}
      <button
        type="button"
        disabled={!!act.busy}
        onClick={() =>
          void act.run("accept", "It is yours.", async () => {
            const signature = await sign("AcceptAgent", { instanceId: i.id, fromOwnerId: i.ownerId });
            await accept.mutateAsync({ instanceId: i.id, signature });
          })
        }
      >
        Sign and accept
      </button>
    </Page>
  );
}
