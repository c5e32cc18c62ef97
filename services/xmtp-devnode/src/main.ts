// Runs the local XMTP node on its own. Environment (all optional):
//   PORT (5556, the SDK's `local` environment), HOST (127.0.0.1),
//   DATABASE_URL (postgres://; absent: embedded PGlite in XMTP_DEVNODE_DATA_DIR, default .data/xmtp-devnode),
//   METRICS_PORT (Prometheus metrics at GET /metrics over HTTP/1.1 on this port, on HOST; 0: a free one, printed;
//     absent: not served. Off by default: a second fixed port would clash between nodes run side by side, and a
//     scraper needs a port it knows anyway; `npm start` serves them on a free port and prints it),
//   POOL_METRICS_TOKEN (a scrape must then send Authorization: Bearer <token>, as for every pool service)
//   XMTP_WRITES_PER_5MIN (3000), XMTP_READS_PER_5MIN (20000): the network's rate limits per client, past which a
//     call is refused with RESOURCE_EXHAUSTED (rate-limit.ts; 0: no limit)
//   XMTP_MAX_STREAMS (20000): subscriptions held at once, past which a new one is refused with RESOURCE_EXHAUSTED
//     (subscriptions.ts; 0: no limit)
import { resolve } from "node:path";
import { runService } from "@convos-pool/kit/service";
import { NETWORK_LIMITS } from "./rate-limit.js";
import { DEFAULT_DEVNODE_PORT, startDevnode } from "./server.js";
import { DEFAULT_MAX_STREAMS } from "./subscriptions.js";

const node = await runService(
  "xmtp-devnode",
  (env, log) => {
    const metricsPort = env.int("METRICS_PORT", undefined, 0);
    return {
      port: env.port(DEFAULT_DEVNODE_PORT),
      host: env.host("127.0.0.1"),
      databaseUrl: env.optional("DATABASE_URL"),
      embeddedDir: resolve(env.optional("XMTP_DEVNODE_DATA_DIR") ?? ".data/xmtp-devnode"),
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      rateLimits: {
        writes: env.int("XMTP_WRITES_PER_5MIN", NETWORK_LIMITS.writes, 0),
        reads: env.int("XMTP_READS_PER_5MIN", NETWORK_LIMITS.reads, 0),
      },
      maxStreams: env.int("XMTP_MAX_STREAMS", DEFAULT_MAX_STREAMS, 0),
      log,
    };
  },
  startDevnode,
);
process.stdout.write(`XMTP devnode: ${node.url} (SDK: env "local", or apiUrl "${node.url}")\n`);
if (node.metricsUrl) process.stdout.write(`  metrics (Prometheus): ${node.metricsUrl}/metrics\n`);
