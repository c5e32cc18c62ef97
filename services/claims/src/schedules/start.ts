/**
 * Schedules wired for the claims service (server.ts): the host calls, the
 * timers and the firing that joins them, and the two RPC services.
 */
import type { ConnectRouter } from "@connectrpc/connect";
import { HostScheduleService, ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import type { ClientCredentials, Logger } from "@convos-pool/kit/server";
import type { EntityManager } from "@mikro-orm/postgresql";
import { fire } from "./firing.js";
import { grpcScheduleHosts, type ScheduleHosts } from "./hosts.js";
import { createHostScheduleService, createScheduleService, type ScheduleServiceDeps } from "./service.js";
import { startTimers, type Timers } from "./timers.js";

export interface SchedulesOptions {
  /** The agents' hosts as schedules call them; default: gRPC with the service's credential. */
  hosts?: ScheduleHosts | undefined;
  /** How often an idle worker looks for due timers (seconds, at least 0.5); default 0.5. */
  pollingSeconds?: number | undefined;
  /** Whether the timers' check runs every minute by itself; default true. */
  checkEveryMinute?: boolean | undefined;
}

export interface RunningSchedules {
  timers: Timers;
  register(router: ConnectRouter): void;
  stop(): Promise<void>;
}

export async function startSchedules(
  deps: { em: EntityManager; databaseUrl: string | undefined; credentials: ClientCredentials; log: Logger },
  opts: SchedulesOptions = {},
): Promise<RunningSchedules> {
  const hosts = opts.hosts ?? grpcScheduleHosts(deps.credentials);
  // A firing due at the start may run before startTimers returns: its next timer waits for them, tried again.
  const started: { timers?: Timers } = {};
  const setTimer = async (itemId: string, at: number) => {
    if (!started.timers) throw new Error("schedules' timers are not started yet");
    await started.timers.set(itemId, at);
  };
  const common: ScheduleServiceDeps = { em: deps.em, hosts, setTimer, now: Date.now, log: deps.log };
  const timers = await startTimers({
    em: deps.em,
    databaseUrl: deps.databaseUrl,
    log: deps.log,
    fire: (job) => fire(common, job),
    pollingSeconds: opts.pollingSeconds,
    checkEveryMinute: opts.checkEveryMinute,
  }).catch((err: unknown) => {
    hosts.close();
    throw err;
  });
  started.timers = timers;
  return {
    timers,
    register(router) {
      router.service(ScheduleService, createScheduleService(common));
      router.service(HostScheduleService, createHostScheduleService(common));
    },
    async stop() {
      await timers.stop();
      hosts.close();
    },
  };
}
