// One instance host alone, for the benchmarks that measure a host without a
// pool around it (instances, live-agents, llm-cost, participation): the
// environment of services/instance/src/main.ts, but its agents' keys derived
// in this process from BENCH_MASTER_SEED, as tests of a host alone derive
// them. A deployed host takes each agent's key from the keys service and holds
// no seed (docs/security.md, "Agents' keys").
import { runService } from "@convos-pool/kit/service";
import { hostOptionsFromEnv, startInstanceHost } from "@convos-pool/instance";

const host = await runService(
  "instance-host",
  (env, log) => ({
    ...hostOptionsFromEnv(env, log),
    masterSeed: env.required("BENCH_MASTER_SEED", "the seed this lone host derives its agents' keys from"),
  }),
  startInstanceHost,
);
process.stdout.write(`instance host: ${host.url} (${host.instances.size} instances)\n`);
