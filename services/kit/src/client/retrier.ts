// The thin shell around retry-policy.ts: one client's budget, the waiting,
// and the Connect interceptor every face of the pool installs (the web app's
// transport, the instance hosts' calls to the control plane; the CLI, which
// speaks REST, uses the Retrier with its own reading of a refusal).
import type { DescService } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { RetryInfoSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";
import {
  afterAnswer,
  afterRefusal,
  fullBudget,
  type GiveUp,
  planRetry,
  RETRY_POLICY,
  type RetryBudget,
  type RetryPolicy,
} from "./retry-policy.js";

/** What a face is told of each wait, and of a refusal it gives up on. */
export type RetryEvent =
  | { kind: "waiting"; waitMs: number; retry: number; procedure: string }
  | { kind: "gave up"; why: GiveUp; delayMs: number; procedure: string };

export interface RetrierOptions {
  policy?: RetryPolicy;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
  /** A number in [0, 1) (tests). */
  random?: () => number;
  /** How a retry waits; ends early, rejecting, when `signal` aborts (tests: at once). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told of every wait and every refusal given up on: where a face says what is happening. */
  onEvent?: (event: RetryEvent) => void;
}

export interface Attempt {
  /** What is retried, for the events ("convos.pool.v1.ClaimService/Claim", "POST /api/pool/claim"). */
  procedure: string;
  /** When the call's deadline passes (milliseconds since the epoch), if it has one. */
  deadlineMs?: number | undefined;
  /** The caller's abort, which ends a wait too. */
  signal?: AbortSignal | undefined;
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The caller's abort ends the wait with its reason (Connect's deadline or cancel).
    const aborted = () => reject(signal?.reason instanceof Error ? signal.reason : new Error("the call was aborted"));
    if (signal?.aborted) return aborted();
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      aborted();
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/**
 * The delay a refusal names, in milliseconds: RESOURCE_EXHAUSTED or
 * UNAVAILABLE with a google.rpc.RetryInfo. Anything else is no refusal.
 */
export function refusalDelayMs(err: unknown): number | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  if (err.code !== Code.ResourceExhausted && err.code !== Code.Unavailable) return undefined;
  const delay = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
  if (!delay) return undefined;
  return Number(delay.seconds) * 1000 + Math.ceil(delay.nanos / 1e6);
}

/** One client's retries: its budget is shared by all its calls. */
export class Retrier {
  private budget: RetryBudget;
  private readonly policy: RetryPolicy;
  /** The clock deadlines are read against. */
  readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly opts: RetrierOptions = {}) {
    this.policy = opts.policy ?? RETRY_POLICY;
    this.budget = fullBudget(this.policy);
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? sleepFor;
  }

  /** What is left of the budget (tests, logs). */
  get tokens(): number {
    return this.budget.tokens;
  }

  /**
   * Runs `call`, and again after each refusal `refusal` reads (its delay in
   * milliseconds) while the policy allows; then the last answer or error.
   * `call` gets the retry's number (0 the first time).
   */
  async run<T>(attempt: Attempt, call: (retry: number) => Promise<T>, refusal = refusalDelayMs): Promise<T> {
    for (let retries = 0; ; retries++) {
      let delayMs: number | undefined;
      try {
        const answer = await call(retries);
        this.budget = afterAnswer(this.budget, this.policy);
        return answer;
      } catch (err) {
        delayMs = refusal(err);
        if (delayMs === undefined) {
          this.budget = afterAnswer(this.budget, this.policy);
          throw err;
        }
        this.budget = afterRefusal(this.budget);
        const step = planRetry(
          {
            delayMs,
            retries,
            budget: this.budget,
            nowMs: this.now(),
            deadlineMs: attempt.deadlineMs,
            random: this.random(),
          },
          this.policy,
        );
        if (!step.retry) {
          this.opts.onEvent?.({ kind: "gave up", why: step.why, delayMs, procedure: attempt.procedure });
          throw err;
        }
        this.opts.onEvent?.({ kind: "waiting", waitMs: step.waitMs, retry: retries + 1, procedure: attempt.procedure });
        await this.sleep(step.waitMs, attempt.signal);
      }
    }
  }
}

const TIMEOUT_HEADER = "connect-timeout-ms";

/**
 * A Connect client interceptor that sends a refused unary call again as the
 * Retrier allows. The call's deadline is its timeout (Connect's
 * `connect-timeout-ms`, set from the call's `timeoutMs`); a retry says what
 * is left of it, so the server drops what it could not finish in time.
 * Streams are not retried: what was sent of them cannot be taken back.
 */
export function retryInterceptor(retrier: Retrier): Interceptor {
  const now = retrier.now;
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const timeout = Number(req.header.get(TIMEOUT_HEADER) ?? Number.NaN);
    const start = now();
    const deadlineMs = Number.isFinite(timeout) && timeout > 0 ? start + timeout : undefined;
    return retrier.run(
      { procedure: `${req.service.typeName}/${req.method.name}`, deadlineMs, signal: req.signal },
      (retry) => {
        if (retry > 0 && deadlineMs !== undefined)
          req.header.set(TIMEOUT_HEADER, String(Math.max(1, deadlineMs - now())));
        return next(req);
      },
    );
  };
}

/**
 * `client` with each unary method sent again as the Retrier allows: for a
 * client whose transport is made elsewhere (the kit's service clients). The
 * deadline is the call's `timeoutMs`; a retry gets what is left of it.
 */
export function retryingClient<S extends DescService>(service: S, client: Client<S>, retrier: Retrier): Client<S> {
  const now = retrier.now;
  const methods: Record<string, unknown> = { ...client };
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const call = (client as Record<string, ((req: unknown, opts?: CallOptions) => Promise<unknown>) | undefined>)[
      method.localName
    ];
    if (!call) continue;
    methods[method.localName] = (req: unknown, opts: CallOptions = {}) => {
      const deadlineMs = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? now() + opts.timeoutMs : undefined;
      return retrier.run(
        { procedure: `${service.typeName}/${method.name}`, deadlineMs, signal: opts.signal },
        (retry) =>
          call(
            req,
            retry > 0 && deadlineMs !== undefined ? { ...opts, timeoutMs: Math.max(1, deadlineMs - now()) } : opts,
          ),
      );
    };
  }
  return methods as Client<S>;
}
