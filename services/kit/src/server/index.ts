// `@convos-pool/kit/server`: what every service runs on. The server (one
// port for Connect, gRPC and gRPC-Web; health, reflection, metrics, bounded
// errors, request parse errors, connection limits, TLS, graceful close),
// service credentials and their interceptors, clients of other services and
// of the providers (HttpClient), logs, traces, rate limits, page tokens (and
// a store query's checks, whose cursor is one), a
// database that is away, the admission at a server's entry and deadlines
// end to end (overload/), and the jobs' helpers (batches, repeats, bounded
// concurrency). Loads no ORM: what needs a database is `@convos-pool/kit/service`.
export {
  type AccessPolicy,
  callerHeaders,
  callerHost,
  callerInboxId,
  callerPrincipal,
  type ClientCredentials,
  generateServiceCredentials,
  hostCredentials,
  withHostCredential,
  type HostIdentity,
  hostIdentity,
  newServiceToken,
  type Principal,
  PRINCIPALS,
  sameSecret,
  serviceAuthInterceptor,
  serviceCredentialClientInterceptor,
  type ServiceCredentials,
  type ServiceCredentialSet,
  serviceCredentialsFromEnv,
  ServiceDirectory,
  serviceEnv,
  tokenDigest,
} from "./auth.js";
export { Batcher, type BatcherOptions, type Settle } from "./batcher.js";
export { boundedError, boundedErrorsInterceptor, MAX_ERROR_MESSAGE } from "./bounded-errors.js";
export { asTheySettle, forEachLimited } from "./concurrency.js";
export {
  addressKey,
  admission,
  ConnectionGate,
  type ConnectionLimits,
  connectionLimitsOf,
  type CutReason,
} from "./connection-limits.js";
export { databaseAwayInterceptor, isDatabaseAway, whileDatabaseAway } from "./db-away.js";
export { healthService, HealthState, registerHealth, ServingStatus } from "./health.js";
export {
  codeOfStatus,
  type HttpAnswer,
  HttpClient,
  type HttpClientOptions,
  HttpError,
  type HttpRequest,
  retryAfterMs,
  type RetryPolicy,
} from "./http-client.js";
export { fromInstanceCallError, toInstanceCallError } from "./instance-call-error.js";
export {
  DEFAULT_LIMITS,
  type LimitConfig,
  limitExceeded,
  limitExceededOf,
  limitsFromEnv,
  memoryRates,
  NO_LIMITS,
  parseLimits,
  type Rate,
  RateLimit,
  type RateStore,
} from "./limits.js";
export {
  createLogger,
  type LogFields,
  type Logger,
  type LoggerOptions,
  loggingInterceptor,
  type LoggingOptions,
  type LogLevel,
  REDACTED,
  SECRET_KEY_PATTERN,
} from "./log.js";
export {
  answerScrape,
  codeLabel,
  Metrics,
  metricsInterceptor,
  type MetricsServerOptions,
  type RunningMetricsServer,
  startMetricsServer,
} from "./metrics.js";
export { Admission, type AdmissionOptions, type Clock, type Refusal, type Ticket } from "./overload/admission.js";
export { admissionFromEnv, parseAdmission, SERVER_ADMISSION } from "./overload/config.js";
export {
  type Criticality,
  CRITICALITY_HEADER,
  CRITICALITY_TABLE,
  criticalityOf,
} from "./overload/criticality.js";
export {
  deadlinePassed,
  remainingMs,
  runWithDeadline,
  timeoutOf,
  withCallerDeadline,
  withoutDeadline,
} from "./overload/deadline.js";
export { ADMISSION_LIMIT, admissionGate, type AdmissionGate, overloaded } from "./overload/interceptor.js";
export { GradientLimit, type GradientLimitOptions } from "./overload/limit.js";
export { ClientThrottle, type ThrottleOptions, throttled } from "./overload/throttle.js";
export { decodePageToken, encodePageToken, isDateAndId, pageSize } from "./page-token.js";
export {
  MAX_STORE_CATEGORY,
  MAX_STORE_QUERY,
  storeCursor,
  storeQueryViolations,
  storeSort,
} from "./store-query.js";
export { parseErrorsAsInvalidArgument } from "./parse-errors.js";
export { freePort, reservePort, type PortReservation } from "./ports.js";
export { REFLECTION_SERVICE, registerReflection } from "./reflection.js";
export { Repeater, type RepeaterOptions } from "./repeat.js";
export { createServiceClient, type ServiceClient } from "./service-client.js";
export {
  CORS_ALLOWED_HEADERS,
  CORS_ALLOWED_METHODS,
  CORS_EXPOSED_HEADERS,
  DEFAULT_MAX_REQUEST_BYTES,
  installShutdownHandlers,
  peerAddress,
  peerAddressOf,
  type RunningServer,
  type ServerOptions,
  type ServerRequest,
  type ServerResponse,
  startServer,
} from "./start.js";
export { type TlsConfig, tlsFromEnv } from "./tls.js";
export {
  activeContext,
  activeTraceIds,
  annotate,
  inServerSpan,
  inSpan,
  startTracing,
  type Tracing,
  tracingClientInterceptor,
  tracingOn,
  tracingServerInterceptor,
  withContext,
} from "./tracing.js";
export { DRAIN_LIMIT, drainUnreadRequests } from "./unread-requests.js";
