// The model a spare gateway thinks with until it takes an agent: a loopback
// HTTP server that turns every request away with 400 at once. A spare's
// warm-up turn goes there, so OpenClaw loads what a first turn loads without
// paying a model for it; an unreachable address would not do, OpenClaw retries
// a refused connection for more than a minute.

import { createServer, type Server } from "node:http";

export interface RefusingUpstream {
  /** Its base URL (…/v1), listening from the first call on. */
  url(): Promise<string>;
  close(): Promise<void>;
}

export function refusingUpstream(): RefusingUpstream {
  let server: Server | undefined;
  let listening: Promise<string> | undefined;
  return {
    url() {
      listening ??= new Promise<string>((resolve, reject) => {
        const s = createServer((req, res) => {
          req.resume();
          res.writeHead(400, { "content-type": "application/json" });
          res.end(
            JSON.stringify({ error: { message: "a spare gateway has no model yet", type: "invalid_request_error" } }),
          );
        });
        server = s;
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}/v1`));
      });
      return listening;
    },
    async close() {
      const s = server;
      server = undefined;
      listening = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    },
  };
}
