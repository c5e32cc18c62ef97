export { HOST_ACCESS, instanceCall, startInstanceHost, type RunningInstanceHost } from "./host/host.js";
export type { InstanceHostOptions, LlmOptions } from "./host/options.js";
export { Agent } from "./agent/face/agent.js";
export {
  BUSY_NOTICE,
  LLM_LIMITS,
  MODEL_CALLS_PER_MINUTE,
  shares,
  type LlmLimits,
} from "./agent/conversation/budget.js";
export { BUSY_ANSWER_SHORTLY, COULD_NOT_GET_TO_THIS } from "./agent/turns/backlog.js";
export { TOO_MANY_WAITING } from "./agent/turns/queue.js";
export { CHARS_PER_TOKEN, estimateTokens, PROMPT_LIMITS, type PromptLimits } from "./model/caps.js";
export type { ConversationState } from "./agent/conversation/listening.js";
export { readHome } from "./agent/conversation/files.js";
export type { InstanceConfig } from "./agent/state/settings.js";
export { ChatCompletionsClient, LlmError, OpenAiProvider } from "./model/openai.js";
export { OFFLINE_LABEL, OfflineProvider } from "./model/offline.js";
export { SUMMARY_PROMPT, systemPrompt, turnMessages } from "./model/prompt.js";
export { CHOOSER_PROMPT, chooseByRuleAnswer } from "./model/chooser.js";
export { WITHHELD_OTHERS } from "./agent/conversation/answer.js";
export type { ChatMessage, LlmProvider, ToolCall, TurnInput } from "./model/turn.js";
export type { FunctionSpec } from "./tools/functions/tool.js";
export { AddressBook } from "./tools/address-book/store.js";
export { MAX_CONTACTS, saveRequestsIn, type Contact, type SaveRequest } from "./tools/address-book/policy.js";
export {
  EXTRACTION_PROMPT,
  MEMORY_KINDS,
  Memory,
  extractByRule,
  parseExtraction,
  type MemoryEntry,
  type MemoryKind,
} from "./memory/store.js";
export { type AgentKeys, InstanceWallet, seedKeys } from "./platform/keys.js";
export { readRecord as readPatternRecord, type PatternRecord } from "./memory/patterns.js";
export { ADOPTED_HINTS_TITLE } from "./memory/hints.js";
export { FILES, Workspace, instancesDir, type InstanceRecord } from "./platform/workspace.js";
export { MailClient, MailError, type MailMessage, type MailSummary, type Mailbox } from "./tools/providers/mail.js";
export { AgentMailClient } from "./tools/providers/agentmail.js";
export { INSTANCE_RUNTIMES, type HostToolOptions, type InstanceRuntime } from "./host/options.js";
export { findOpenClaw, openClawDir, OPENCLAW_VERSION, type OpenClawInstall } from "./openclaw/install.js";
export { OpenClawRuntime, OPENCLAW_DIR } from "./openclaw/runtime.js";
export { OpenClawGateway } from "./openclaw/gateway.js";
export { ALTERED_REPLY } from "./openclaw/provider.js";
export { AGENTS_MD, entriesFromMemoryMd, memoryMd, SIGNED_FILES, signedFiles } from "./openclaw/files.js";
export { hostOptionsFromEnv } from "./host/config.js";
