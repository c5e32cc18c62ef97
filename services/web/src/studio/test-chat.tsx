// The studio's test chat, beside the editor (docs/templates.md, "The test
// chat"): the draft as it stands in the editor, unsaved, answers its creator
// (ClaimService.TryDraft). Private: nothing of it is kept, and no tool runs;
// a tool the draft would use is shown as "Would call …". Each send carries
// the chat so far; the pool remembers none of it.
import { useMutation } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { DraftToolCall } from "@convos-pool/gen/convos/pool/v1/draft_chat_pb.js";
import { contentFromJson, validateContent, type TemplateContentJson } from "@convos-pool/kit/browser";
import { useState } from "react";
import { shownError, type ShownError } from "../ui/errors";
import { ErrorBox, TextArea } from "../ui/ui";

/** The lines the pool reads at once (its MAX_LINES): older ones are left out of what is sent. */
const SENT_LINES = 20;

interface Line {
  /** Its place in this chat, which only grows (or starts over). */
  n: number;
  fromAgent: boolean;
  text: string;
  toolCalls?: DraftToolCall[];
}

export function TestChat({ templateId, draft }: { templateId: string; draft: () => TemplateContentJson }) {
  const tryDraft = useMutation(ClaimService.method.tryDraft);
  const [lines, setLines] = useState<Line[]>([]);
  const [text, setText] = useState("");
  const [error, setError] = useState<ShownError>();
  // The draft's name when it last answered (the editor's JSON may not parse meanwhile).
  const [name, setName] = useState("The draft");

  async function send() {
    const said = text.trim();
    if (!said) return;
    setError(undefined);
    const chat = [...lines, { n: lines.length, fromAgent: false, text: said }];
    try {
      const content = draft();
      validateContent(content);
      setName(content.agent_name);
      setLines(chat);
      setText("");
      const res = await tryDraft.mutateAsync({
        templateId,
        content: contentFromJson(content),
        lines: chat.slice(-SENT_LINES).map((l) => ({ fromAgent: l.fromAgent, text: l.text })),
      });
      setLines([
        ...chat,
        { n: chat.length, fromAgent: true, text: res.answer?.reply ?? "", toolCalls: res.answer?.toolCalls ?? [] },
      ]);
    } catch (err) {
      setError(shownError(err));
    }
  }

  return (
    <section className="card test-chat" aria-labelledby="test-chat-heading">
      <h2 id="test-chat-heading">Test chat</h2>
      <p className="hint">
        Talk to the draft as it stands in the editor, before you save or publish. Only you see this chat and nothing of
        it is kept; tools do not run.
      </p>
      <ol className="test-chat-lines" aria-live="polite" data-testid="test-chat-lines">
        {lines.map((l) => (
          <li
            key={l.n}
            className={l.fromAgent ? "from-agent" : "from-you"}
            data-testid={l.fromAgent ? "draft-line" : "your-line"}
          >
            <strong>{l.fromAgent ? name : "You"}:</strong> {l.text}
            {l.toolCalls?.map((c) => (
              <p key={`${c.name}(${c.arguments})`} className="hint" data-testid="would-call">
                Would call <code>{c.name}</code> with <code>{c.arguments}</code> (not run in a test chat)
              </p>
            ))}
          </li>
        ))}
      </ol>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
        aria-busy={tryDraft.isPending}
      >
        <TextArea
          label="Your message to the draft"
          name="test-message"
          rows={2}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <ErrorBox error={error} fieldsShown={[]} />
        <div className="actions">
          <button type="submit" disabled={tryDraft.isPending || !text.trim()}>
            {tryDraft.isPending ? "Waiting for the draft…" : "Send"}
          </button>
          <button
            type="button"
            disabled={lines.length === 0}
            onClick={() => {
              setLines([]);
              setError(undefined);
            }}
          >
            Start over
          </button>
        </div>
      </form>
    </section>
  );
}
