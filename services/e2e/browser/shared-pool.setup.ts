// The browser tier's one pool: vitest's globalSetup for the browser project
// (vitest.config.ts). It starts the whole pool once (browser-pool.ts), as
// `npm start` runs it, beside the tier's first files, and closes it after the
// last; the files read its addresses with `sharedPool()` (shared-pool.ts) and
// make what they need in it themselves: their own keys, templates, owners and
// conversations, so that they hold in any order, beside each other, and alone
// (one file run alone starts the pool too). Files that need services set up
// otherwise (a stand-in host, a watch every second, other models, an empty
// store) keep their own (docs/testing.md).
//
// The pool starts beside the files, not before them: a small HTTP server of
// this process answers its addresses once it is up, and relays the SMS
// stand-in's phones, which live in this process: a phone's texts, each as one
// JSON line, as they arrive. Where the local XMTP node cannot be shared
// (no network namespaces), each file starts its own pool instead.
import { createServer, type ServerResponse } from "node:http";
import { generatePrivateKey } from "viem/accounts";
import type { TestProject } from "vitest/node";
import type { LocalPhone, LocalSms } from "@convos-pool/local-providers";
import { networkIsolation } from "@convos-pool/testing/xmtp-port";
import { WARM_AGENTS, startBrowserPool, type StartedPool } from "./browser-pool.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const operatorKey = generatePrivateKey();
  // Without network namespaces the local XMTP node must own port 5556, one process at a time, under a lock
  // (xmtp-port.ts): a pool holding it for the whole run would starve every other file that needs a node, of
  // every tier. There each browser file starts a pool of its own, as before (shared-pool.ts).
  if (!networkIsolation()) {
    project.provide("sharedPool", { controlUrl: "", operatorKey });
    return async () => undefined;
  }
  // Started, not awaited: vitest runs every project's globalSetup before any file of any tier, and the other
  // tiers (and this tier's files with services of their own) need not wait for this pool; its files ask for it.
  const starting = startBrowserPool(operatorKey, WARM_AGENTS.tier);
  const control = await startControl(starting);
  project.provide("sharedPool", { controlUrl: control.url, operatorKey });
  return async () => {
    await control.close();
    const started = await starting.catch(() => undefined);
    await started?.close();
  };
}

/**
 * The files' way to the pool, up before it is: `GET /pool` answers its
 * addresses once it is up (or why it did not start, with 500), and
 * `GET /phones/<number>` what that phone received and then receives, one JSON
 * line a text, until the file hangs up (shared-pool.ts `remotePhone`).
 */
export async function startControl(starting: Promise<StartedPool>): Promise<{ url: string; close(): Promise<void> }> {
  // A pool that failed is told to each file that asks (and at teardown), not left an unhandled rejection.
  starting.catch(() => undefined);
  const server = createServer((req, res) => {
    void starting.then(
      ({ addresses, sms }) => {
        if (req.url === "/pool")
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(addresses));
        else relayPhone(sms, req.url ?? "", res);
      },
      (err: unknown) => res.writeHead(500).end(`the browser tier's pool did not start: ${String(err)}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the control server has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function relayPhone(sms: LocalSms, url: string, res: ServerResponse): void {
  const number = decodeURIComponent(/^\/phones\/([^/]+)$/.exec(url)?.[1] ?? "");
  let phone: LocalPhone;
  try {
    phone = sms.phone(number);
  } catch (err) {
    res.writeHead(400).end(String(err));
    return;
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  let open = true;
  res.on("close", () => (open = false));
  void (async () => {
    let sent = 0;
    while (open) {
      const texts = phone.messages();
      for (; sent < texts.length; sent++) res.write(`${JSON.stringify(texts[sent])}\n`);
      // Wakes on the next text, or each second to notice a file that hung up.
      await phone.waitForMessage((m) => phone.messages().indexOf(m) >= sent, 1_000).catch(() => undefined);
    }
  })();
}
