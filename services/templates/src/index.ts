// The templates service as a package: how to run it (server.ts).
export {
  TEMPLATES_ACCESS,
  parseOperators,
  startTemplateService,
  type RunningTemplateService,
  type TemplateServiceOptions,
} from "./server.js";
export { DEFAULT_SERVED_MODELS, isModelId, parseServedModels } from "./models/policy.js";
/** A store query's plan and its SQL: what bench/templates.ts runs straight on PostgreSQL beside the service. */
export { planStoreQuery, runStorePlan, type ListedRow } from "./catalog/listings.js";
