/**
 * TEST HARNESS. A service's address in front of its replicas, as a
 * Kubernetes Service (kube-proxy) or compose's DNS round robin gives one:
 * each new connection goes to the next replica that accepts it, so a killed
 * replica is passed over and a restarted one is used again. Connections are
 * forwarded as bytes (HTTP/1.1 and HTTP/2 alike); a caller keeps its
 * replica until that connection ends, as it does behind a real Service.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface Front {
  port: number;
  close(): Promise<void>;
}

/** A front on `port` (127.0.0.1) for the replicas whose ports `backends` gives at each connection. */
export async function startFront(port: number, backends: () => number[]): Promise<Front> {
  let next = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.once("close", () => open.delete(client));
    client.pause();
    const ports = backends();
    const start = next++;
    const attempt = (tried: number) => {
      if (tried >= ports.length) return void client.destroy();
      const upstream = connect(ports[(start + tried) % ports.length]!, "127.0.0.1");
      upstream.once("error", () => attempt(tried + 1));
      upstream.once("connect", () => {
        upstream.removeAllListeners("error");
        open.add(upstream);
        upstream.once("close", () => open.delete(upstream));
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
        upstream.once("close", () => client.destroy());
        client.once("close", () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
