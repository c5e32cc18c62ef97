// What of an RPC reaches the old generation: the bytes by which the old
// generation grows per call over calls made one after another, both ends in
// this process, from a full GC to three scavenges after the last call. Such
// bytes outlived the scavenges though no call was in flight, and only a full
// GC takes them back; at 200 claims/s they are what brings the claims
// service's full GCs (docs/performance/promotion.md).
//
//   npm run bench:promotion                 1,000 calls a round, median of three rounds
//
// Node's HTTP/2 and HTTP/1.1 bare, each also with an 8 KB array hung on every
// call's stream or request: the share of it promoted says whether what hangs
// on a finished call outlives the scavenges. Then Connect over each, both
// ends and each end alone, connect-node's HTTP client alone (the client
// without Connect's protocol layer), and Connect over HTTP/2 with every
// listener of a stream and its request and response objects removed once it
// closed.
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createClient } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createNodeHttpClient,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { QUICK, median } from "./lib.js";

const CALLS = QUICK ? 200 : 1000;
const ROUNDS = QUICK ? 1 : 3;
const MARK_BYTES = 8000;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as (options?: { type: "major" | "minor" }) => void;

type Call = () => Promise<unknown>;
interface Case {
  name: string;
  /** Starts the server and returns one call; `mark` hangs MARK_BYTES on each call's stream or request. */
  setUp(mark: boolean): Promise<{ call: Call; close: () => void }>;
  /** Whether to measure, with a second run, the share of MARK_BYTES hung on each call that is promoted. */
  markable?: boolean;
}

const tick = () => new Promise((r) => setTimeout(r, 20));
const oldGeneration = () =>
  getHeapSpaceStatistics()
    .filter((s) => s.space_name !== "new_space")
    .reduce((sum, s) => sum + s.space_used_size, 0);
const markArray = () => new Array(MARK_BYTES / 8).fill(1.5);

async function listen(server: http.Server | http2.Http2Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Bytes promoted per call, one round per entry. */
async function promotedPerCall(call: Call): Promise<number[]> {
  for (let i = 0; i < CALLS / 2; i++) await call(); // compiled and settled first
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await tick();
    gc();
    await tick();
    const before = oldGeneration();
    for (let i = 0; i < CALLS; i++) await call();
    for (let k = 0; k < 3; k++) {
      await tick();
      gc({ type: "minor" });
    }
    rounds.push((oldGeneration() - before) / CALLS);
  }
  return rounds;
}

function bareHttp2Server() {
  return http2.createServer().on("stream", (stream) => {
    stream.resume();
    stream.on("end", () => {
      stream.respond({ ":status": 200 });
      stream.end("ok");
    });
  });
}

/** Answers an empty message (an empty CreateSessionResponse) to whatever comes. */
function bareHandler(req: http.IncomingMessage, res: http.ServerResponse) {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/proto" });
    res.end();
  });
}

function bareHttp1Client(base: string, mark: boolean): { call: Call; agent: http.Agent } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(`${base}/convos.pool.v1.SessionService/CreateSession`, {
        method: "POST",
        agent,
        headers: { "content-type": "application/proto" },
      });
      if (mark) Object.assign(req, { mark: markArray() });
      req.on("response", (res) => res.resume().on("end", resolve));
      req.on("error", reject);
      req.end(Buffer.from([10, 3, 97, 98, 99])); // CreateSessionRequest{inbox_id: "abc"}
    });
  return { call, agent };
}

const sessionRoutes = connectNodeAdapter({
  routes: (r) => r.service(SessionService, { createSession: (req) => ({ token: `${req.inboxId}.token` }) }),
});

/** Removes every listener of a finished stream (and of its compat request and response): what hung on it is let go. */
function letGoOnClose(stream: http2.Http2Stream, ...others: NodeJS.EventEmitter[]) {
  stream.once("close", () =>
    setImmediate(() => {
      for (const emitter of [stream, ...others]) emitter.removeAllListeners().on("error", () => {});
    }),
  );
}

class LettingGoSessionManager extends Http2SessionManager {
  override async request(...args: Parameters<Http2SessionManager["request"]>) {
    const stream = await super.request(...args);
    letGoOnClose(stream);
    return stream;
  }
}

function connectCase(name: string, version: "1.1" | "2", ends: "both" | "client" | "server", letGo = false): Case {
  return {
    name,
    async setUp() {
      const server =
        version === "2"
          ? http2.createServer((req, res) => {
              if (letGo) letGoOnClose(req.stream, req, res);
              sessionRoutes(req, res);
            })
          : http.createServer(ends === "client" ? bareHandler : sessionRoutes);
      const base = await listen(server);
      if (ends === "server") {
        const { call, agent } = bareHttp1Client(base, false);
        return {
          call,
          close: () => {
            agent.destroy();
            server.close();
          },
        };
      }
      const sessionManager = version === "2" && letGo ? new LettingGoSessionManager(base) : undefined;
      const client = createClient(
        SessionService,
        createConnectTransport({
          baseUrl: base,
          httpVersion: version,
          useBinaryFormat: true,
          ...(sessionManager ? { sessionManager } : {}),
        }),
      );
      return {
        call: () => client.createSession({ inboxId: "abc" }),
        close: () => {
          sessionManager?.abort();
          server.close();
        },
      };
    },
  };
}

const CASES: Case[] = [
  {
    name: "Node's HTTP/2, bare",
    markable: true,
    async setUp(mark) {
      const server = bareHttp2Server();
      const session = http2.connect(await listen(server));
      const call = () =>
        new Promise<void>((resolve, reject) => {
          const req = session.request({ ":method": "POST", ":path": "/x" });
          if (mark) Object.assign(req, { mark: markArray() });
          req.resume().on("end", resolve).on("error", reject);
          req.end("hello");
        });
      return {
        call,
        close: () => {
          session.close();
          server.close();
        },
      };
    },
  },
  {
    name: "Node's HTTP/1.1, bare",
    markable: true,
    async setUp(mark) {
      const server = http.createServer(bareHandler);
      const { call, agent } = bareHttp1Client(await listen(server), mark);
      return {
        call,
        close: () => {
          agent.destroy();
          server.close();
        },
      };
    },
  },
  connectCase("Connect over HTTP/2, both ends", "2", "both"),
  connectCase("Connect over HTTP/1.1, both ends", "1.1", "both"),
  connectCase("Connect over HTTP/1.1, client alone", "1.1", "client"),
  connectCase("Connect over HTTP/1.1, server alone", "1.1", "server"),
  {
    // The client alone without Connect's protocol layer: connect-node's HTTP client, as the transport calls it.
    name: "Connect's HTTP client alone (HTTP/1.1)",
    async setUp() {
      const server = http.createServer(bareHandler);
      const url = `${await listen(server)}/convos.pool.v1.SessionService/CreateSession`;
      const httpClient = createNodeHttpClient({ httpVersion: "1.1" });
      const call = async () => {
        const signal = new AbortController();
        const header = new Headers({ "content-type": "application/proto" });
        const res = await httpClient({
          url,
          method: "POST",
          header,
          signal: signal.signal,
          body: createAsyncIterable([new Uint8Array([10, 3, 97, 98, 99])]),
        });
        for await (const _ of res.body);
        signal.abort();
      };
      return { call, close: () => server.close() };
    },
  },
  connectCase("Connect over HTTP/2, listeners let go at close", "2", "both", true),
];

async function measure(c: Case, mark: boolean): Promise<number> {
  const { call, close } = await c.setUp(mark);
  try {
    return median(await promotedPerCall(call));
  } finally {
    close();
  }
}

console.log(
  `promoted per call: ${CALLS} calls one after another a round, median of ${ROUNDS}; node ${process.version}`,
);
console.log(`${"".padEnd(50)}${"B/call".padStart(8)}   share of ${MARK_BYTES / 1000} KB hung on each call, promoted`);
for (const c of CASES) {
  const bytes = await measure(c, false);
  const share = c.markable ? `${(((await measure(c, true)) - bytes) / MARK_BYTES).toFixed(2).padStart(6)}` : "";
  console.log(`${c.name.padEnd(50)}${bytes.toFixed(0).padStart(8)}   ${share}`.trimEnd());
}
process.exit(0);
