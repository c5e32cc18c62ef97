// The agent's questions as a person's Convos app sees them: what the
// browser tests that confirm a step in Convos (confirm-in-convos, no-wallet)
// read from the person's Convos CLI.
import { waitFor } from "@convos-pool/testing";
import type { ConvosCli } from "@convos-pool/testing/convos-cli";

/** A message as `convos conversation messages --json` lists it. */
interface Listed {
  id: string;
  senderInboxId: string;
  content: string;
}

/**
 * The agent's question with `code` in `person`'s direct conversation with it
 * (any but `home`), as their Convos CLI lists it; asked of `name` ("Saul, may I do this…").
 */
export async function questionWith(
  person: { cli: ConvosCli; inboxId: string; name: string },
  home: string,
  code: string,
): Promise<{ dm: string; id: string; content: string }> {
  let found: { dm: string; id: string; content: string } | undefined;
  await waitFor(
    `the agent asking ${person.name} directly (code ${code})`,
    async () => {
      const listed = await person.cli.run<{ conversationId: string }[]>(["conversations", "list", "--sync"]);
      for (const c of listed.filter((l) => l.conversationId !== home)) {
        const messages = await person.cli.run<Listed[]>(["conversation", "messages", c.conversationId, "--sync"]);
        const q = messages.find(
          (m) =>
            m.senderInboxId !== person.inboxId &&
            typeof m.content === "string" &&
            m.content.startsWith(`${person.name}, may I do this`) &&
            m.content.includes(`(code ${code})`),
        );
        if (q) found = { dm: c.conversationId, id: q.id, content: q.content };
      }
      return found !== undefined;
    },
    60_000,
    1_000,
  );
  return found!;
}
