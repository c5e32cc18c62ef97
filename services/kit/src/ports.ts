import { createServer } from "node:net";

/**
 * A port nobody listens on right now. For two services that must know each
 * other's address before either starts (templates push to claims, claims
 * read templates); another process could take it in between, which a
 * local runner accepts.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
