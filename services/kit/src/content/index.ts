// `@convos-pool/kit/content`, the kit's ground floor: the pool's vocabulary,
// the same in every service, the CLI, the agent and the web app. The
// contract (id formats, header names, signature windows, the errors every
// service returns and the request checks that throw them), template content
// (its JSON, limits, canonical hash, SOUL, bases, IDENTITY.md), trust levels,
// permissions and participation by the names people use, the values typed
// for tools checked by their kind, display names,
// the pattern scan and the line diff. No Node module and nothing above it.
export { confusableSkeleton } from "./confusables.js";
export {
  CALLER_HEADER,
  GRANTED_TOOLS,
  INBOX_ID_PATTERN,
  INSTANCE_HEADER,
  INSTANCE_ID_PATTERN,
  NONCE_KEEP_SECONDS,
  nonceUsed,
  POOL_CURATOR,
  SERVICE_TOKEN_HEADER,
  SIGNATURE_MAX_AGE_SECONDS,
  snakeCase,
  TEMPLATE_ID_PATTERN,
  WEI_PATTERN,
} from "./contract.js";
export { cleanDisplayName, MAX_DISPLAY_NAME, namesLookAlike } from "./display-name.js";
export { mayActFor, type Placement } from "./placement.js";
export {
  alreadyExists,
  conflict,
  deadlineExceeded,
  failedPrecondition,
  failedPreconditionOn,
  type FieldViolationInfo,
  fieldViolations,
  invalidArgument,
  invalidArguments,
  notFound,
  permissionDenied,
  preconditionFailed,
  type PreconditionFailureInfo,
  preconditionFailureOf,
  requireEnum,
  requireInt,
  requirePresent,
  requireString,
  type StringRule,
  unauthenticated,
} from "./errors.js";
export { renderIdentity, renderSoul } from "./identity-md.js";
export { randomId, templateIdFor } from "./ids.js";
export {
  MAX_COOLDOWN_SECONDS,
  parseParticipationMode,
  PARTICIPATION_MODE_NAMES,
  PARTICIPATION_SUMMARIES,
  type ParticipationModeName,
  participationModeName,
  type ResolvedParticipation,
  resolveParticipation,
} from "./participation.js";
export {
  MAX_PATTERN_CHARS,
  normalizePatternText,
  PATTERN_REFUSAL_REASONS,
  type PatternRefusalReason,
  type PatternScan,
  patternScanViews,
  patternTextProblem,
  scanPattern,
} from "./pattern-scan.js";
export {
  DEFAULT_PERMISSION_VALUES,
  GRANT_NAMES,
  type GrantName,
  grantName,
  MEMBER_GRANT_FIELDS,
  OUTSIDER_REPLY_NAMES,
  type OutsiderReplyName,
  outsiderReplyName,
  parseGrant,
  parseOutsiderReply,
  permissionNames,
  permissionsMessage,
  type ResolvedPermissions,
  resolvePermissions,
} from "./permissions.js";
export {
  compactSoul,
  ESCALATION_ACTIONS,
  type EscalationActionName,
  type EscalationRuleJson,
  type FieldFailure,
  isEmptySoul,
  readSoulJson,
  RESPONSE_STYLES,
  type ResponseStyleName,
  SOUL_FIELDS,
  SOUL_LIMITS,
  SOUL_SECTIONS,
  type SoulBehaviorJson,
  type SoulCapabilitiesJson,
  type SoulConstraintsJson,
  soulFromJson,
  type SoulIdentityJson,
  type SoulJson,
  type SoulPhilosophyJson,
  type SoulSection,
  soulToJson,
  validateSoul,
} from "./soul.js";
export {
  CONTENT_FIELDS,
  ContentJsonError,
  fillContentJson,
  fillPatchJson,
  TEMPLATE_METADATA_FIELDS,
} from "./template-json.js";
export {
  compareReleaseKeys,
  formatReleaseKey,
  MAX_TEMPLATE_LAYERS,
  releaseKey,
  resolveContent,
} from "./template-resolve.js";
export { checkAvatar, checkConversationStarters, FACE_LIMITS, isAvatarUrl } from "./face.js";
export {
  applyPatch,
  type BaseJson,
  baseToJson,
  canonicalJson,
  checkReleaseNotes,
  contentFromJson,
  contentToJson,
  DEFAULT_MODEL,
  jsonHash,
  LIMITS,
  type ModelJson,
  modelToJson,
  parseRuntime,
  patchToJson,
  POOL_TOOL_IDS,
  runsOnOpenClaw,
  RUNTIME_NAMES,
  type RuntimeName,
  runtimeName,
  type TemplateContentJson,
  type TemplatePatchJson,
  type ToolJson,
  toolToJson,
  validateContent,
  validatePatch,
} from "./template.js";
export {
  isToolKindName,
  MAX_TOOL_VALUE,
  parseToolKind,
  TOOL_KIND_EXAMPLES,
  TOOL_KIND_INPUT_TYPES,
  TOOL_KIND_NAMES,
  type ToolKindName,
  toolKind,
  toolKindName,
  toolValueProblem,
} from "./tool-values.js";
export { type DiffLine, diffLines, unifiedDiff } from "./text-diff.js";
export {
  DEFAULT_MAX_TRUST_LEVEL,
  effectiveMaxTrustLevel,
  initialTrustLevel,
  isTrustLevelName,
  NOT_A_TRUST_LEVEL,
  parseTrustLevel,
  TRUST_LEVEL_NAMES,
  TRUST_LEVEL_SUMMARIES,
  type TrustLevelName,
  trustLevelName,
} from "./trust.js";
export { CLAIM_STAGE_WORDS, claimEnded, claimStageWords, elapsedWords } from "./claim-progress.js";
