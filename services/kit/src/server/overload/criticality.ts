// What a server sheds last and first when it is offered more than it can do
// (docs/server-kit.md, "Overload"). A person waiting on an act of theirs (an
// owner's approval, a sign-in, letting an agent go, an agent's turn in a
// conversation) goes before what can be asked again without loss (a store
// listing, a dashboard's refresh, a benchmark). Keyed by `Service/Method`, so
// a service registers nothing: a method not named here is `default`.

export type Criticality = "critical" | "default" | "sheddable";

export const CRITICALITIES: readonly Criticality[] = ["critical", "default", "sheddable"];

/** The header by which a caller lowers its own call's criticality (never raises it): a benchmark says `sheddable`. */
export const CRITICALITY_HEADER = "pool-criticality";

/** Health and reflection are never queued nor refused: a probe must see the server as it is. */
const EXEMPT_SERVICES = new Set(["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]);

export const CRITICALITY_TABLE: Readonly<Record<string, Exclude<Criticality, "default">>> = {
  // An owner's approval (the agent waits on it in a conversation).
  "ApprovalService/AnswerApproval": "critical",
  "InstanceApprovalService/AnswerApproval": "critical",
  // A sign-in.
  "SessionService/CreateSession": "critical",
  "SessionService/GetSigningDomain": "critical",
  "SessionService/StartConvosSignIn": "critical",
  "SessionService/CollectConvosSignIn": "critical",
  // A release: an owner letting an agent go, and what that asks of its host and keys.
  "ClaimService/RemoveAgent": "critical",
  "InstanceService/Release": "critical",
  "AgentKeyService/ReleaseAgentKey": "critical",
  // A conversation's message to its agent: what the agent asks of the pool during its turn.
  "AgentMemoryService/GetMemoryKey": "critical",
  "InstanceMemoryService/GetMemoryKey": "critical",
  "ConfirmationService/AskConfirmation": "critical",
  "InstanceConfirmationService/AskConfirmation": "critical",
  "PaymentSignerService/SignPayment": "critical",
  // Store listings.
  "TemplateService/BrowseStore": "sheddable",
  "TemplateService/ListCreatorTemplates": "sheddable",
  "StoreCurationService/ListFeatured": "sheddable",
  // Dashboards and their refreshes.
  "LineageService/GetTemplateDashboard": "sheddable",
  "LineageService/ListOwnerLineage": "sheddable",
  "ClaimService/ListOwnerAgents": "sheddable",
  "ClaimService/ListAgentActivity": "sheddable",
  "OwnerActivityService/GetOwnerActivity": "sheddable",
  "VersionSignalInsightsService/GetVersionSignals": "sheddable",
  "PatternInsightsService/GetPatternPoolHealth": "sheddable",
};

/**
 * A call's criticality: `exempt` for health and reflection, else the
 * table's, lowered to what the caller's header says if that is lower.
 * `service` is the full name (`convos.pool.v1.ClaimService`).
 */
export function criticalityOf(service: string, method: string, header?: string | null): Criticality | "exempt" {
  if (EXEMPT_SERVICES.has(service)) return "exempt";
  const short = service.slice(service.lastIndexOf(".") + 1);
  const own = CRITICALITY_TABLE[`${short}/${method}`] ?? "default";
  const asked = CRITICALITIES.find((c) => c === header?.trim().toLowerCase());
  return asked && CRITICALITIES.indexOf(asked) > CRITICALITIES.indexOf(own) ? asked : own;
}
