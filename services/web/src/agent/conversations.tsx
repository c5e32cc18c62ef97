// "Conversations" on an agent's page (docs/web.md): every conversation the
// agent is in (`Instance.conversations`, the home first), and the owner's two
// changes, each signed here and checked by the agent itself
// (docs/signatures.md, "One agent in several conversations"): "Leave" one
// (RemoveFromConversation; never the last, since that is removing the agent),
// and "Add to a conversation" by its Convos invite (AddToConversation over the
// kit's addToConversationFields, as the CLI signs it). The addition answers
// once the agent has joined, so the form says it is joining until then.
import { useMutation } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import {
  AgentConversationState,
  ConversationTools,
  type AgentConversation,
  type Instance,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  addToConversationFields,
  parseParticipationMode,
  participationModeName,
  type ParticipationModeName,
} from "@convos-pool/kit/browser";
import { useState } from "react";
import { shownError } from "../ui/errors";
import { short, when } from "../words/format";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, INVITE_FIELD, InviteField, Notice, Select } from "../ui/ui";
import { asksSecondAgent, SecondAgentQuestion, useInviteAndQuestion } from "../ui/second-agent";
import { useAction } from "../ui/use-action";
import { MODE_FIELD, MODE_WORDS, ModeSelect } from "./participation";

/** The server's names of the fields, where their errors are. */
const TOOLS_FIELD = "tools";

const STATE_WORDS: Record<AgentConversationState, string> = {
  [AgentConversationState.UNSPECIFIED]: "state unknown",
  [AgentConversationState.JOINING]: "joining",
  [AgentConversationState.JOINED]: "in it",
  [AgentConversationState.REJOINING]: "asking to be let in again",
  [AgentConversationState.LEAVING]: "leaving",
};

type ToolsChoice = "shared" | "none";
const TOOLS_WORDS: Record<ToolsChoice, string> = { shared: "Shared", none: "None" };
const TOOLS_SUMMARIES: Record<ToolsChoice, string> = {
  shared: "its number, mailbox and wallet act there too; the wallet's daily limit is one for all its conversations",
  none: "no tool acts there: it only talks",
};

const nameOf = (c: AgentConversation) => c.name.trim() || "(no name)";

/** When it speaks there, in the list: its mode, and the cooldown when it has one. */
function speaksWords(c: AgentConversation): string {
  const mode = MODE_WORDS[participationModeName(c.participation?.mode ?? 0)].toLowerCase();
  const cooldown = c.participation?.cooldownSeconds ?? 0;
  return cooldown > 0 ? `speaks: ${mode}, ${cooldown} s cooldown` : `speaks: ${mode}`;
}

export function Conversations({ agent: i }: { agent: Instance }) {
  const { sign } = useSession();
  const act = useAction();
  const leave = useMutation(ClaimService.method.removeFromConversation);
  const list = [...i.conversations.filter((c) => c.home), ...i.conversations.filter((c) => !c.home)];
  // The pool refuses to take it out of its last conversation: no button there.
  const joined = list.filter((c) => c.state === AgentConversationState.JOINED).length;

  return (
    <section aria-labelledby="conversations-heading">
      <h2 id="conversations-heading">Its conversations</h2>
      <p>
        One agent, with what you taught it, in each. What members say in one stays in that one; what you teach it
        travels with it.
      </p>
      {list.length === 0 ? (
        <Empty>The pool lists no conversation of it yet; add it to one below.</Empty>
      ) : (
        <ol className="activity" aria-label="Its conversations">
          {list.map((c) => (
            <li key={c.conversationId || "joining"} data-testid="conversation">
              <strong>{nameOf(c)}</strong>
              {c.home && (
                <>
                  {" "}
                  <span className="tag">home</span>
                </>
              )}
              <p className="meta">
                {STATE_WORDS[c.state] ?? STATE_WORDS[AgentConversationState.UNSPECIFIED]} · {speaksWords(c)} ·{" "}
                {c.tools === ConversationTools.NONE ? "no tools" : "tools shared"}
                {c.joinedAt && <> · joined {when(c.joinedAt)}</>}
                {c.conversationId && (
                  <>
                    {" "}
                    · <code title={c.conversationId}>{short(c.conversationId)}</code>
                  </>
                )}
              </p>
              {c.state === AgentConversationState.JOINED && joined > 1 && (
                <button
                  type="button"
                  className="small danger"
                  disabled={!!act.busy}
                  aria-label={`Leave ${nameOf(c)}`}
                  onClick={() => {
                    if (
                      !window.confirm(
                        `Take it out of ${nameOf(c)}? What its members taught it there is forgotten; it stays in its other conversations.`,
                      )
                    )
                      return;
                    void act.run("leave", `It left ${nameOf(c)}.`, async () => {
                      const conversationId = c.conversationId;
                      const ownerSignature = await sign("RemoveFromConversation", { instanceId: i.id, conversationId });
                      await leave.mutateAsync({ instanceId: i.id, conversationId, ownerSignature });
                    });
                  }}
                >
                  Leave
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
      <ErrorBox error={act.errorOf("leave")} />
      {act.done && <Notice>{act.done}</Notice>}
      <AddForm agent={i} act={act} />
    </section>
  );
}

function AddForm({ agent: i, act }: { agent: Instance; act: ReturnType<typeof useAction> }) {
  const { sign, inboxId } = useSession();
  const add = useMutation(ClaimService.method.addToConversation);
  const { invite, changeInvite, secondAgent, setSecondAgent } = useInviteAndQuestion();
  const [tools, setTools] = useState<ToolsChoice>("shared");
  const [mode, setMode] = useState<ParticipationModeName>("auto");
  // Another agent of its template is there: the owner confirms a second one (docs/claims.md).
  const error = act.errorOf("add");
  const joining = act.busy === "add";

  const submit = (confirmSecondAgent: boolean) =>
    void act.run("add", "It has joined: it answers there as you chose.", async () => {
      setSecondAgent(false);
      const participation = { mode: parseParticipationMode(mode), cooldownSeconds: 0 };
      const chosenTools = tools === "none" ? ConversationTools.NONE : ConversationTools.SHARED;
      // The owner and the agent are the session's and the request's: the rest is what the agent checks.
      const { inboxId: _owner, ...fields } = addToConversationFields({
        ownerId: inboxId ?? "",
        instanceId: i.id,
        conversationInvite: invite,
        participation,
        tools: chosenTools,
        secondAgent: confirmSecondAgent,
      });
      const ownerSignature = await sign("AddToConversation", fields);
      try {
        await add.mutateAsync({
          instanceId: i.id,
          conversationInvite: invite.trim(),
          participation,
          tools: chosenTools,
          confirmSecondAgent,
          ownerSignature,
        });
      } catch (err) {
        // Asked, not refused: the question replaces the error.
        if (asksSecondAgent(shownError(err))) setSecondAgent(true);
        throw err;
      }
      changeInvite("");
      setTools("shared");
      setMode("auto");
    });

  return (
    <form
      className="card"
      aria-labelledby="add-conversation-heading"
      aria-busy={joining}
      onSubmit={(e) => {
        e.preventDefault();
        submit(false);
      }}
    >
      <h3 id="add-conversation-heading">Add to a conversation</h3>
      <InviteField
        error={error}
        value={invite}
        onChange={changeInvite}
        hint="The Convos invite link (or its code) of the conversation it joins, as itself: the same agent, not a copy."
      />
      <Select
        label="Tools there"
        name={TOOLS_FIELD}
        error={error}
        value={tools}
        onChange={(e) => setTools(e.target.value as ToolsChoice)}
        hint={TOOLS_SUMMARIES[tools]}
      >
        {(Object.keys(TOOLS_WORDS) as ToolsChoice[]).map((t) => (
          <option key={t} value={t}>
            {TOOLS_WORDS[t]}
          </option>
        ))}
      </Select>
      <ModeSelect label="When it speaks there" error={error} value={mode} onChange={setMode} />
      {!secondAgent && <ErrorBox error={error} fieldsShown={[INVITE_FIELD, TOOLS_FIELD, MODE_FIELD]} />}
      {joining && (
        <p role="status" data-testid="conversation-joining">
          Joining: it asks to be let in, and waits until the conversation lets it in.
        </p>
      )}
      {secondAgent && !joining ? (
        <SecondAgentQuestion
          question="Another agent of its template is in that conversation; add this one too?"
          confirm="Sign and add it anyway"
          onConfirm={() => submit(true)}
          onCancel={() => setSecondAgent(false)}
        />
      ) : (
        <button type="submit" disabled={!!act.busy}>
          {joining ? "Joining…" : "Sign and add it"}
        </button>
      )}
    </form>
  );
}
