// One agent of its owner, in sections (docs/web.md, "An agent's page"): what it is, pin or follow its
// template's updates (a newer version than the one it is pinned to, badged on the Overview) and remove it; its
// conversations (add it to another, take it out of one); its wallet; its trust level, who may ask it for what and when it speaks;
// what it knows and who taught it; its owner's address book; what it did (its activity log); clone or transfer it;
// its verified badge.
// Every change is signed here by the owner.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState, type Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { missingFromAnswer, shownError } from "../ui/errors";
import { short, when } from "../words/format";
import { newerRelease } from "./newer-version";
import { Link, useLocation } from "../router";
import { SECTION_PARAM, Sections, type Section } from "../ui/sections";
import { useSession } from "../sign-in/session";
import { ErrorBox, Loading, Notice, Page, SignInFirst } from "../ui/ui";
import { Activity } from "./activity";
import { AddressBook } from "./address-book";
import { Approvals } from "./approvals";
import { BadgeCheck } from "./badge";
import { WithdrawFunds } from "./funds";
import { limitSentence } from "./money-words";
import { Conversations } from "./conversations";
import { CloneForm, TransferForm } from "./hand-on";
import { MemoryList } from "./memory";
import { Overview } from "./overview";
import { ParticipationForm } from "./participation";
import { Reminders } from "./reminders";
import { PermissionsForm } from "./permissions";
import { TrustForm } from "./trust";
import { useAction } from "../ui/use-action";

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

/**
 * The agent's sections, in the order of the navigation. A section that does not apply to this agent
 * (no wallet; one that has ended) is left out, and an address naming it opens the overview.
 */
export function agentSections(i: Instance): Section[] {
  const live = i.state === InstanceState.CLAIMED;
  const wallet = i.tools.some((t) => t.toolId === "crypto");
  const all: (Section & { shown: boolean })[] = [
    {
      id: "overview",
      name: "Overview",
      // Seen from every section: a pinned agent's newer version waits at the top of its overview.
      badge: live && newerRelease(i) ? "new version" : undefined,
      shown: true,
      content: <Overview agent={i} />,
    },
    { id: "conversations", name: "Conversations", shown: live, content: <Conversations agent={i} /> },
    { id: "approvals", name: "Approvals", shown: live, content: <Approvals id={i.id} /> },
    { id: "money", name: "Money", shown: wallet, content: <Money agent={i} /> },
    {
      id: "trust",
      name: "Trust and permissions",
      shown: live,
      content: (
        <>
          <TrustForm agent={i} />
          <PermissionsForm agent={i} />
          <ParticipationForm agent={i} />
        </>
      ),
    },
    { id: "reminders", name: "Reminders", shown: live, content: <Reminders agent={i} /> },
    { id: "memory", name: "Memory", shown: live, content: <MemoryList agent={i} /> },
    { id: "address-book", name: "Address book", shown: live, content: <AddressBook agent={i} /> },
    {
      id: "activity",
      name: "Activity",
      shown: live || i.state === InstanceState.CRASHED,
      content: <Activity id={i.id} />,
    },
    {
      id: "hand-on",
      name: "Hand it on",
      shown: live,
      content: (
        <>
          <CloneForm parent={i} />
          <TransferForm agent={i} />
        </>
      ),
    },
    { id: "badge", name: "Badge", shown: live, content: <BadgeCheck inboxId={i.inboxId} /> },
  ];
  return all.filter((s) => s.shown);
}

function OwnedAgent({ agent: i }: { agent: Instance }) {
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
      <Sections label="Agent sections" sections={agentSections(i)} />
    </Page>
  );
}

/** Its wallet and your share of it; what it may spend is its trust level's and the daily limit you set. */
function Money({ agent: i }: { agent: Instance }) {
  const { pathname } = useLocation();
  return (
    <>
      <WithdrawFunds agent={i} />
      <p>
        <span data-testid="money-limit">{limitSentence(i)}</span>{" "}
        <Link to={`${pathname}?${SECTION_PARAM}=trust`}>Change it in Trust and permissions</Link>.
      </p>
    </>
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
