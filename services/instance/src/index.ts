export {
  HOST_ACCESS,
  instanceCall,
  startInstanceHost,
  type InstanceHostOptions,
  type LlmOptions,
  type RunningInstanceHost,
} from "./host.js";
export { AgentInstance } from "./agent/instance.js";
export { BUSY_NOTICE, LLM_LIMITS, MODEL_CALLS_PER_MINUTE, shares, type LlmLimits } from "./agent/budget.js";
export { CHARS_PER_TOKEN, estimateTokens, PROMPT_LIMITS, type PromptLimits } from "./prompt-caps.js";
export type { ConversationState, InstanceConfig } from "./agent/types.js";
export {
  ChatCompletionsClient,
  LlmError,
  OFFLINE_LABEL,
  OfflineProvider,
  OpenAiProvider,
  SUMMARY_PROMPT,
  systemPrompt,
  turnMessages,
  type ChatMessage,
  type LlmProvider,
  type ToolCall,
  type TurnInput,
} from "./llm.js";
export type { FunctionSpec } from "./tools/agent-tools.js";
export {
  EXTRACTION_PROMPT,
  MEMORY_KINDS,
  Memory,
  extractByRule,
  parseExtraction,
  type MemoryEntry,
  type MemoryKind,
} from "./memory.js";
export { InstanceWallet, MasterSeed } from "./wallet.js";
export { readRecord as readPatternRecord, type PatternRecord } from "./patterns.js";
export { ADOPTED_HINTS_TITLE } from "./adopted-hints.js";
export { FILES, Workspace, instancesDir, type InstanceRecord } from "./workspace.js";
export { MailClient, MailError, type MailMessage, type MailSummary, type Mailbox } from "./tools/mail.js";
export { AgentMailClient } from "./tools/agentmail.js";
export type { HostToolOptions } from "./host.js";
