// The standard gRPC health protocol (grpc.health.v1.Health), so any probe
// (grpc_health_probe, Kubernetes, buf curl, grpc-js) can ask a pool service
// whether it serves. startServer registers it on every server.

import { create } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from "@convos-pool/gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

type Listener = (service: string, status: ServingStatus) => void;

/**
 * Serving status per service name. "" is the server as a whole; services are
 * named by their fully-qualified name, e.g. "convos.pool.v1.TemplateService".
 */
export class HealthState {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly listeners = new Set<Listener>();
  private readonly closed = new AbortController();

  set(service: string, serving: boolean): void {
    this.setStatus(service, serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  /** The status, or undefined for a service this server does not know. */
  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Every known service (and "") becomes NOT_SERVING. */
  setAllNotServing(): void {
    for (const service of [...this.statuses.keys()]) this.setStatus(service, ServingStatus.NOT_SERVING);
  }

  /** Ends every Watch stream (after it has seen the last status). Used on shutdown. */
  close(): void {
    this.closed.abort();
  }

  /** Aborted when close() has been called. */
  get closedSignal(): AbortSignal {
    return this.closed.signal;
  }

  /** Calls `fn` on every change; returns the unsubscribe function. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private setStatus(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const fn of this.listeners) fn(service, status);
  }
}

/** The grpc.health.v1.Health implementation backed by `state`. */
export function healthService(state: HealthState): Partial<ServiceImpl<typeof Health>> {
  return {
    check(req: HealthCheckRequest): HealthCheckResponse {
      const status = state.get(req.service);
      // The protocol: Check of an unknown service fails with NOT_FOUND.
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status });
    },

    // The protocol: Watch sends the current status (SERVICE_UNKNOWN for an
    // unknown service, without failing), then every change, until the call
    // ends. Here it also ends when the server shuts down.
    async *watch(req: HealthCheckRequest, ctx: HandlerContext): AsyncGenerator<HealthCheckResponse> {
      const pending: ServingStatus[] = [];
      let wake: (() => void) | undefined;
      const notify = () => {
        wake?.();
        wake = undefined;
      };
      const unsubscribe = state.subscribe((service, status) => {
        if (service === req.service) {
          pending.push(status);
          notify();
        }
      });
      ctx.signal.addEventListener("abort", notify);
      state.closedSignal.addEventListener("abort", notify);
      try {
        let last = state.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        yield create(HealthCheckResponseSchema, { status: last });
        for (;;) {
          for (let status = pending.shift(); status !== undefined; status = pending.shift()) {
            if (status === last) continue;
            last = status;
            yield create(HealthCheckResponseSchema, { status });
          }
          if (ctx.signal.aborted || state.closedSignal.aborted) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        unsubscribe();
        ctx.signal.removeEventListener("abort", notify);
        state.closedSignal.removeEventListener("abort", notify);
      }
    },
  };
}

/** Registers the health service on a router. */
export function registerHealth(router: ConnectRouter, state: HealthState): void {
  router.service(Health, healthService(state));
}
