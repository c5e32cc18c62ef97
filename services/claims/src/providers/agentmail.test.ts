import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "@convos-pool/kit/server";
import { startLocalAgentMail, type LocalAgentMail } from "@convos-pool/local-providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentMailProvider, inboxClientId } from "./agentmail.js";
import { ProvisioningError } from "./types.js";

/** Retries as the product makes them, a few ms apart: the policy is what is tested, not the wait. */
const FAST = 5;

let am: LocalAgentMail;
const proxies: Server[] = [];

beforeAll(async () => {
  am = await startLocalAgentMail();
});

afterAll(async () => {
  for (const p of proxies) await new Promise((resolve) => p.close(resolve));
  await am?.close();
});

async function api(method: string, path: string, key = am.apiKey): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${am.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const inboxPath = (id: string) => `/v0/inboxes/${encodeURIComponent(id)}`;

/**
 * The stand-in behind a fault: a request `fault` answers gets that answer,
 * the rest go through. The only way to make AgentMail fail on cue.
 */
async function faulty(
  fault: (method: string, path: string) => { status: number; body: unknown } | undefined,
): Promise<{ url: string; created: string[] }> {
  const created: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const answer = fault(req.method ?? "GET", req.url ?? "/");
      if (answer)
        return void res
          .writeHead(answer.status, { "content-type": "application/json" })
          .end(JSON.stringify(answer.body));
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      void fetch(`${am.url}${req.url}`, {
        method: req.method!,
        headers: { authorization: req.headers.authorization ?? "", "content-type": "application/json" },
        ...(body ? { body } : {}),
      }).then(async (r) => {
        const text = await r.text();
        if (req.method === "POST" && req.url === "/v0/inboxes") created.push(JSON.parse(text).inbox_id);
        res.writeHead(r.status, { "content-type": "application/json" }).end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxies.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, created };
}

async function refusal(p: Promise<unknown>): Promise<ProvisioningError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProvisioningError);
  return err as ProvisioningError;
}

describe("the AgentMail mailbox provider (against the stand-in)", () => {
  it("makes an inbox and gives the instance only a key scoped to it, which reads its own mail and nothing else", async () => {
    const agentmail = new AgentMailProvider({ apiUrl: am.url, apiKey: am.apiKey, retryBackoffMs: FAST });
    expect([agentmail.toolId, agentmail.name]).toEqual(["email", "agentmail"]);

    const made = await agentmail.provision("inst_mailbox");
    expect(made.handle).toMatch(/^[a-z]{16}@agentmail\.localhost$/);
    expect(Object.keys(made.secrets)).toEqual(["api_key"]);
    const key = made.secrets.api_key!;
    expect(key).not.toBe(am.apiKey);
    expect((await api("GET", inboxPath(made.handle))).body).toMatchObject({
      inbox_id: made.handle,
      client_id: inboxClientId("inst_mailbox"),
    });

    am.deliver(made.handle, { from: "saul@example.com", subject: "Dinner", text: "At 8?" });
    const own = await api("GET", `${inboxPath(made.handle)}/messages`, key);
    expect(own.body).toMatchObject({ messages: [{ subject: "Dinner" }] });
    const other = await new AgentMailProvider({ apiUrl: am.url, apiKey: am.apiKey, retryBackoffMs: FAST }).provision(
      "inst_other",
    );
    expect((await api("GET", `${inboxPath(other.handle)}/messages`, key)).status).toBe(403);
    expect((await api("POST", "/v0/inboxes", key)).status).toBe(403);
  });

  it("gives the same inbox when provisioning for the same instance is tried again, and another for another instance", async () => {
    const agentmail = new AgentMailProvider({ apiUrl: `${am.url}/`, apiKey: am.apiKey, retryBackoffMs: FAST });
    const [first, again, other] = [
      await agentmail.provision("inst_retried"),
      await agentmail.provision("inst_retried"),
      await agentmail.provision("inst_else"),
    ];
    expect(again.handle).toBe(first.handle);
    expect(again.secrets.api_key).not.toBe(first.secrets.api_key); // each try's own key; both open the one inbox
    for (const made of [first, again])
      expect((await api("GET", inboxPath(made.handle), made.secrets.api_key)).status).toBe(200);
    expect(other.handle).not.toBe(first.handle);
  });

  it("deletes the inbox with its mail and key on release, and a second release succeeds too", async () => {
    const agentmail = new AgentMailProvider({ apiUrl: am.url, apiKey: am.apiKey, retryBackoffMs: FAST });
    const made = await agentmail.provision("inst_released");
    am.deliver(made.handle, { from: "saul@example.com", subject: "hi", text: "x" });

    await agentmail.release(made.handle);
    expect((await api("GET", inboxPath(made.handle))).status).toBe(404);
    expect((await api("GET", `${inboxPath(made.handle)}/messages`, made.secrets.api_key)).status).toBe(401);
    await agentmail.release(made.handle);
    // The instance's next inbox is a new one.
    expect((await agentmail.provision("inst_released")).handle).not.toBe(made.handle);
  });

  it("deletes the inbox it made when AgentMail cannot make its key", async () => {
    const proxy = await faulty((method, path) =>
      method === "POST" && path.endsWith("/api-keys")
        ? { status: 503, body: { name: "ServerError", message: "try later" } }
        : undefined,
    );
    const err = await refusal(
      new AgentMailProvider({ apiUrl: proxy.url, apiKey: am.apiKey, retryBackoffMs: FAST }).provision("inst_keyless"),
    );
    expect(err.reason).toBe("unavailable");
    expect(err.message).toMatch(/^AgentMail refused to make a key for .+: ServerError: try later$/);
    expect(proxy.created).toHaveLength(1);
    expect((await api("GET", inboxPath(proxy.created[0]!))).status).toBe(404);
  });

  it("says AgentMail is unavailable when it is unreachable, refuses the key, is rate-limiting or failing, and never says the key", async () => {
    const port = await freePort();
    const unreachable = await refusal(
      new AgentMailProvider({ apiUrl: `http://127.0.0.1:${port}`, apiKey: am.apiKey, retryBackoffMs: FAST }).provision(
        "inst_x",
      ),
    );
    expect(unreachable.message).toBe("AgentMail could not be reached");

    const wrongKey = "am_not_this_organizations";
    const refused = await refusal(
      new AgentMailProvider({ apiUrl: am.url, apiKey: wrongKey, retryBackoffMs: FAST }).provision("inst_x"),
    );
    expect(refused.message).toBe("AgentMail refused the API key");

    const busy = await faulty(() => ({ status: 429, body: { name: "RateLimitError", message: "slow down" } }));
    expect(
      (
        await refusal(
          new AgentMailProvider({ apiUrl: busy.url, apiKey: am.apiKey, retryBackoffMs: FAST }).provision("inst_x"),
        )
      ).message,
    ).toBe("AgentMail is rate-limiting us; it refused to make an inbox");

    // A failing AgentMail that echoes the key: masked.
    const echo = await faulty(() => ({
      status: 500,
      body: { name: "ServerError", message: `key ${am.apiKey} broke us` },
    }));
    const failed = await refusal(
      new AgentMailProvider({ apiUrl: echo.url, apiKey: am.apiKey, retryBackoffMs: FAST }).provision("inst_x"),
    );
    expect(failed.message).toBe("AgentMail refused to make an inbox: ServerError: key [the API key] broke us");
    const releaseFailed = await refusal(
      new AgentMailProvider({ apiUrl: echo.url, apiKey: am.apiKey, retryBackoffMs: FAST }).release(
        "x@agentmail.localhost",
      ),
    );

    for (const err of [unreachable, refused, failed, releaseFailed]) {
      expect(err.reason).toBe("unavailable");
      for (const key of [am.apiKey, wrongKey]) expect(`${err.message} ${JSON.stringify(err)}`).not.toContain(key);
    }
  });
});
