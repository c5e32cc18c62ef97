// The REST bodies, typed once (docs/rest.md): what each area's paths answer,
// as its json.ts (or routes.ts) declares it and its handlers build it, and
// the names some paths take (`*RequestJson`, from the fields they accept). The
// package's `./rest-json` entry, for clients that read these bodies (the
// CLI): a field renamed here fails their type check. Clients' product code
// imports the types only (erased, nothing of the gateway runs in them); the
// writers below are for their tests, to read what the gateway really writes.

export type { AddressBookJson } from "./address-book/routes.js";
export type { ActivityEntryJson, ActivityPageJson, SignedPaymentJson, WithdrawalJson } from "./agents/activity.js";
export type {
  AcceptRequestJson,
  AgentConversationJson,
  AgentJson,
  OwnerSignedRequestJson,
  ParticipationJson,
  PermissionsJson,
  PinRequestJson,
  TransferRequestJson,
} from "./agents/json.js";
export type { ApprovalsJson } from "./approvals/routes.js";
export type { ClaimProgressJson, ClaimRequestJson } from "./claims/json.js";
export type { SealedJson } from "./core/sealed-json.js";
export type { ScheduleItemJson, SchedulesJson } from "./schedules/routes.js";
export type { MemoryCountsJson, MemoryExportJson, MemoryKeyJson, MemoryListJson } from "./memory/json.js";
export type {
  RolloutActionName,
  RolloutBoundsJson,
  RolloutJson,
  RolloutStateName,
  RolloutStepJson,
  RolloutWatchJson,
  StepActionName,
} from "./rollouts/json.js";
export type { SessionJson } from "./sessions/routes.js";
export type { TemplateJson, TemplateVersionJson, TemplateVersionsPageJson } from "./templates/json.js";

export { instanceToJson } from "./agents/json.js";
export { claimProgressToJson } from "./claims/json.js";
export { scheduleItemToJson } from "./schedules/routes.js";
export { templateToJson } from "./templates/json.js";
