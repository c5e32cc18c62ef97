// Loaded with `node --import` into a Convos CLI started by `unshare --net`
// (convos-cli.ts): in the CLI's own empty network namespace, it brings up
// loopback and listens on localhost:5556, where the CLI's `local` XMTP
// environment looks, passing each connection through a unix socket (which
// crosses namespaces) to the test's own XMTP node. So every test file runs
// its node on a free port, and none waits for another to let go of 5556.
import { execFileSync } from "node:child_process";
import net from "node:net";

const socketPath = process.env.CONVOS_BRIDGE_SOCKET;
const port = Number(process.env.CONVOS_BRIDGE_PORT);
if (!socketPath || !port) throw new Error("netns-bridge: CONVOS_BRIDGE_SOCKET and CONVOS_BRIDGE_PORT are required");
execFileSync("ip", ["link", "set", "lo", "up"]);

// Never what keeps the CLI alive (the server, nor a connection): it ends when its own work does.
const server = net.createServer((client) => {
  const node = net.connect(socketPath);
  client.unref();
  node.unref();
  client.pipe(node).pipe(client);
  client.on("error", () => node.destroy());
  node.on("error", () => client.destroy());
});
server.unref();
await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(port, "127.0.0.1", resolve);
});
