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

/** The direct conversations a person's questions were found in: the agent asks again where it asked before. */
const asked = new WeakMap<ConvosCli, string[]>();

/**
 * The agent's question with `code` in `person`'s direct conversation with it
 * (any but `home`), as their Convos CLI lists it; asked of `name` ("Saul, may I do this…").
 * The conversations an earlier question was found in are read first, and the
 * person's conversations listed only when it is not there: each command of the
 * CLI costs a second or more of CPU.
 */
export async function questionWith(
  person: { cli: ConvosCli; inboxId: string; name: string },
  home: string,
  code: string,
): Promise<{ dm: string; id: string; content: string }> {
  let found: { dm: string; id: string; content: string } | undefined;
  const known = asked.get(person.cli) ?? [];
  const findIn = async (ids: string[]) => {
    for (const id of ids) {
      const messages = await person.cli.run<Listed[]>(["conversation", "messages", id, "--sync"]);
      const q = messages.find(
        (m) =>
          m.senderInboxId !== person.inboxId &&
          typeof m.content === "string" &&
          m.content.startsWith(`${person.name}, may I do this`) &&
          m.content.includes(`(code ${code})`),
      );
      if (q) return { dm: id, id: q.id, content: q.content };
    }
    return undefined;
  };
  await waitFor(
    `the agent asking ${person.name} directly (code ${code})`,
    async () => {
      found = await findIn(known);
      if (found) return true;
      const listed = await person.cli.run<{ conversationId: string }[]>(["conversations", "list", "--sync"]);
      found = await findIn(listed.map((l) => l.conversationId).filter((id) => id !== home && !known.includes(id)));
      return found !== undefined;
    },
    60_000,
    1_000,
  );
  if (!known.includes(found!.dm)) asked.set(person.cli, [...known, found!.dm]);
  return found!;
}
