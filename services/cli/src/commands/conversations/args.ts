// The values the conversation commands read from the command line.
import { CommandUsageError } from "../../core/args.js";

/** Whether an agent's tools act in one of its conversations, by the names the REST body takes. */
export const CONVERSATION_TOOLS = ["shared", "none"] as const;
export type ConversationToolsName = (typeof CONVERSATION_TOOLS)[number];

/** `--tools shared|none` of add-to. */
export function conversationToolsArg(value: string, command: string): ConversationToolsName {
  if (!(CONVERSATION_TOOLS as readonly string[]).includes(value))
    throw new CommandUsageError(`--tools takes ${CONVERSATION_TOOLS.join(", ")} (got "${value}")`, command);
  return value as ConversationToolsName;
}
