// `@convos-pool/kit/client`: how the pool's clients call it (the CLI, the web
// app, the instance hosts' calls to the control plane): a refused call sent
// again after the delay the server named, under a retry budget, never past
// its deadline. Safe in a browser; nothing above content.
export {
  afterAnswer,
  afterRefusal,
  busyWords,
  fullBudget,
  type GiveUp,
  planRetry,
  type Refused,
  RETRY_POLICY,
  type RetryBudget,
  type RetryPolicy,
  type RetryStep,
} from "./retry-policy.js";
export {
  type Attempt,
  refusalDelayMs,
  Retrier,
  type RetrierOptions,
  type RetryEvent,
  retryingClient,
  retryInterceptor,
} from "./retrier.js";
