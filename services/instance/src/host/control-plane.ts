// The host's clients of the control plane (the pattern pool, version
// signals, the vault and its marks): each a kit service client whose unary
// calls a busy service refuses for now (RESOURCE_EXHAUSTED or UNAVAILABLE
// with RetryInfo) are sent again after the named delay, under one retry
// budget for the whole host (docs/server-kit.md, "Clients that back off"),
// so that a host's agents refused together add a tenth to the load, not
// three times it. Each wait and each refusal given up on is logged: what
// an operator reads to see that the control plane is shedding load.
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { busyWords, Retrier, type RetryEvent, retryingClient } from "@convos-pool/kit/client";
import { type ClientCredentials, createServiceClient, type Logger, type ServiceClient } from "@convos-pool/kit/server";

/** What the host logs of a retry event (pure). */
export function retryLogLine(event: RetryEvent): {
  level: "info" | "warn";
  msg: string;
  fields: Record<string, unknown>;
} {
  if (event.kind === "waiting")
    return {
      level: "info",
      msg: busyWords(event.waitMs),
      fields: { procedure: event.procedure, waitMs: event.waitMs, retry: event.retry },
    };
  return {
    level: "warn",
    msg: `the pool is busy and the call is not tried again (${event.why})`,
    fields: { procedure: event.procedure, delayMs: event.delayMs, why: event.why },
  };
}

/** The host's retries: one budget for all its clients of the control plane, each event logged. */
export function hostRetrier(log: Logger, opts: Omit<ConstructorParameters<typeof Retrier>[0] & {}, "onEvent"> = {}) {
  return new Retrier({
    ...opts,
    onEvent: (event) => {
      const line = retryLogLine(event);
      log[line.level](line.msg, line.fields);
    },
  });
}

/** A client of `service` at `url` under the host's credential, retrying refusals as `retrier` allows. */
export function controlPlaneClient<S extends DescService>(
  service: S,
  url: string,
  credentials: ClientCredentials,
  retrier: Retrier,
): ServiceClient<S> {
  const made = createServiceClient(service, url, credentials);
  const client: Client<S> = retryingClient(service, made.client, retrier);
  return { client, close: () => made.close() };
}
