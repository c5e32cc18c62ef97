// The `person` tool's command line, read without touching anything: a bad
// line is a UsageError (exit 2 with the usage), never a half-done command.
import { parseArgs } from "node:util";

export const USAGE = `usage: npm run -s person -- <command> --home DIR [--api-url URL]

Acts in a Convos conversation as a person using the Convos apps does (no
agent kind), against the local XMTP node of \`npm start\`. DIR keeps the person's
key and XMTP database: the same DIR is the same person.

commands:
  join INVITE --name NAME                          join; prints {"conversationId","inboxId"}
  say CONVERSATION_ID TEXT [--reply-to MESSAGE_ID] prints {"id"}
  react CONVERSATION_ID MESSAGE_ID EMOJI [--remove] prints {"id"}
  messages CONVERSATION_ID [--after MESSAGE_ID]    one {"id","sender","text","replyTo"?} a line, oldest first

options:
  --home DIR       the person's home (required)
  --api-url URL    the XMTP node (default http://localhost:5556)
`;

export const DEFAULT_API_URL = "http://localhost:5556";

export class UsageError extends Error {}

interface Common {
  home: string;
  apiUrl: string;
}

export type Command =
  | (Common & { command: "join"; invite: string; name: string })
  | (Common & { command: "say"; conversationId: string; text: string; replyTo?: string })
  | (Common & { command: "react"; conversationId: string; messageId: string; emoji: string; remove: boolean })
  | (Common & { command: "messages"; conversationId: string; after?: string });

/** Which options each command takes besides --home and --api-url. */
const OWN_OPTIONS: Record<Command["command"], readonly string[]> = {
  join: ["name"],
  say: ["reply-to"],
  react: ["remove"],
  messages: ["after"],
};
const POSITIONALS: Record<Command["command"], number> = { join: 1, say: 2, react: 3, messages: 1 };

export function parseCommand(argv: readonly string[]): Command {
  const parsed = (() => {
    try {
      return parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: {
          home: { type: "string" },
          "api-url": { type: "string" },
          name: { type: "string" },
          "reply-to": { type: "string" },
          remove: { type: "boolean" },
          after: { type: "string" },
        },
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  })();
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (!command) throw new UsageError("no command");
  if (!(command in OWN_OPTIONS)) throw new UsageError(`unknown command: ${command}`);
  const cmd = command as Command["command"];
  for (const option of ["name", "reply-to", "remove", "after"] as const)
    if (values[option] !== undefined && !OWN_OPTIONS[cmd].includes(option))
      throw new UsageError(`${cmd} takes no --${option}`);
  if (rest.length !== POSITIONALS[cmd])
    throw new UsageError(`${cmd} takes ${POSITIONALS[cmd]} argument(s), got ${rest.length}`);
  if (rest.some((a) => a === "")) throw new UsageError(`${cmd}: an empty argument`);
  if (!values.home) throw new UsageError("--home DIR is required");
  const apiUrl = values["api-url"] ?? DEFAULT_API_URL;
  if (!URL.canParse(apiUrl)) throw new UsageError(`--api-url: not a URL: ${apiUrl}`);
  const common = { home: values.home, apiUrl };
  // Counted and non-empty above.
  const [first = "", second = "", third = ""] = rest;
  switch (cmd) {
    case "join":
      if (!values.name) throw new UsageError("join needs --name NAME");
      return { ...common, command: cmd, invite: first, name: values.name };
    case "say":
      return {
        ...common,
        command: cmd,
        conversationId: first,
        text: second,
        ...(values["reply-to"] ? { replyTo: values["reply-to"] } : {}),
      };
    case "react":
      return {
        ...common,
        command: cmd,
        conversationId: first,
        messageId: second,
        emoji: third,
        remove: values.remove ?? false,
      };
    case "messages":
      return { ...common, command: cmd, conversationId: first, ...(values.after ? { after: values.after } : {}) };
  }
}
