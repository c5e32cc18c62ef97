// The `person` tool's command line, read without touching anything: a bad
// line is a UsageError (exit 2 with the usage), never a half-done command.
import { parseArgs } from "node:util";
import type { CapabilityRequestResultStatus, ConnectionKind, InvocationStatus } from "@convos-pool/convos";
import { CONNECTION_KINDS } from "@convos-pool/kit/content";

/** ConvosConnections' kinds, as the phone's payloads name them: the kit's, held to the Convos CLI's by its test. */
export const KINDS = CONNECTION_KINDS satisfies readonly ConnectionKind[];
/** What a phone may answer an invocation. */
export const STATUSES = [
  "success",
  "capability_not_enabled",
  "capability_revoked",
  "requires_confirmation",
  "authorization_denied",
  "execution_failed",
  "unknown_action",
] as const satisfies readonly InvocationStatus[];
/** What a person may pick on a capability request's card. */
export const PICKS = ["approved", "denied", "cancelled"] as const satisfies readonly CapabilityRequestResultStatus[];
/** The longest --wait, in seconds. */
export const MAX_WAIT_SECONDS = 600;

export const USAGE = `usage: npm run -s person -- <command> --home DIR [--api-url URL]

Acts in a Convos conversation as a person using the Convos apps does (no
agent kind), against the local XMTP node of \`npm start\`. DIR keeps the person's
key and XMTP database: the same DIR is the same person.

commands:
  join INVITE --name NAME                          join; prints {"conversationId","inboxId"}
  say CONVERSATION_ID TEXT [--reply-to MESSAGE_ID] prints {"id"}
  react CONVERSATION_ID MESSAGE_ID EMOJI [--remove] prints {"id"}
  messages CONVERSATION_ID [--after MESSAGE_ID]    one {"id","sender","text","replyTo"?} a line, oldest first
      [--wait SECONDS [--containing TEXT]]         waits up to SECONDS for a message of someone else (with TEXT
                                                   in it), a line on stderr every 15 s; exits 1 if none came
  conversations                                    the person's conversations, one {"id","name","members"} a line
                                                   (an agent's owner finds the agent's "… · approvals" here)

their phone (ConvosConnections, docs/connections.md):
  phone-share CONVERSATION_ID KIND --data JSON | --data-file FILE
      publishes what the phone shares of KIND (${KINDS.join(", ")});
      JSON is the kind's data, an object (a "summary" in it is what the apps show); prints {"id"}
  phone-answer CONVERSATION_ID [--status STATUS] [--error-message TEXT] [--pick PICK] [--wait SECONDS]
      answers every invocation and capability request of others since the last phone-answer of this
      home: an invocation with STATUS (default success, with an eventId for create_event), a
      capability request with PICK (approved, denied or cancelled; default approved); one JSON line
      each, what was asked and what was answered. --wait: waits up to SECONDS for at least one.
      STATUS: ${STATUSES.join(", ")}

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
  | (Common & {
      command: "messages";
      conversationId: string;
      after?: string;
      /** Wait this long for a message of someone else (0: list what is there now). */
      waitSeconds: number;
      /** With a wait: only a message with this text in it ends it. */
      containing?: string;
    })
  | (Common & { command: "conversations" })
  | (Common & {
      command: "phone-share";
      conversationId: string;
      kind: ConnectionKind;
      /** The kind's data, or the file that holds it as JSON (read when the command runs). */
      data: { json: Record<string, unknown> } | { file: string };
    })
  | (Common & {
      command: "phone-answer";
      conversationId: string;
      status: InvocationStatus;
      errorMessage?: string;
      pick: CapabilityRequestResultStatus;
      waitSeconds: number;
    });

/** Which options each command takes besides --home and --api-url. */
const OWN_OPTIONS: Record<Command["command"], readonly string[]> = {
  join: ["name"],
  say: ["reply-to"],
  react: ["remove"],
  messages: ["after", "wait", "containing"],
  conversations: [],
  "phone-share": ["data", "data-file"],
  "phone-answer": ["status", "error-message", "pick", "wait"],
};
const POSITIONALS: Record<Command["command"], number> = {
  join: 1,
  say: 2,
  react: 3,
  messages: 1,
  conversations: 0,
  "phone-share": 2,
  "phone-answer": 1,
};
const OPTIONS = [
  "name",
  "reply-to",
  "remove",
  "after",
  "containing",
  "data",
  "data-file",
  "status",
  "error-message",
  "pick",
  "wait",
] as const;

function waitSecondsOf(wait = "0"): number {
  const seconds = Number(wait);
  if (!/^\d+(\.\d+)?$/.test(wait) || seconds > MAX_WAIT_SECONDS)
    throw new UsageError(`--wait: ${wait} is not a number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
  return seconds;
}

/** A kind's data as given on the command line or in a file: a JSON object, or why not. */
export function phoneData(text: string, from: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${from}: not JSON: ${(err as Error).message}`);
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) throw new UsageError(`${from}: not a JSON object`);
  return data as Record<string, unknown>;
}

const oneOf = <T extends string>(list: readonly T[], value: string, flag: string): T => {
  if (!(list as readonly string[]).includes(value))
    throw new UsageError(`${flag}: ${value} is not one of ${list.join(", ")}`);
  return value as T;
};

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
          containing: { type: "string" },
          data: { type: "string" },
          "data-file": { type: "string" },
          status: { type: "string" },
          "error-message": { type: "string" },
          pick: { type: "string" },
          wait: { type: "string" },
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
  for (const option of OPTIONS)
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
    case "messages": {
      if (values.containing !== undefined && values.wait === undefined)
        throw new UsageError("--containing goes with --wait");
      return {
        ...common,
        command: cmd,
        conversationId: first,
        ...(values.after ? { after: values.after } : {}),
        waitSeconds: waitSecondsOf(values.wait),
        ...(values.containing ? { containing: values.containing } : {}),
      };
    }
    case "conversations":
      return { ...common, command: cmd };
    case "phone-share": {
      const kind = oneOf(KINDS, second, "phone-share KIND");
      if ((values.data === undefined) === (values["data-file"] === undefined))
        throw new UsageError("phone-share needs --data JSON or --data-file FILE (one of them)");
      const data =
        values.data !== undefined ? { json: phoneData(values.data, "--data") } : { file: values["data-file"] ?? "" };
      return { ...common, command: cmd, conversationId: first, kind, data };
    }
    case "phone-answer": {
      const status = oneOf(STATUSES, values.status ?? "success", "--status");
      const pick = oneOf(PICKS, values.pick ?? "approved", "--pick");
      const waitSeconds = waitSecondsOf(values.wait);
      if (values["error-message"] !== undefined && status === "success")
        throw new UsageError("--error-message goes with a --status other than success");
      return {
        ...common,
        command: cmd,
        conversationId: first,
        status,
        ...(values["error-message"] ? { errorMessage: values["error-message"] } : {}),
        pick,
        waitSeconds,
      };
    }
  }
}
