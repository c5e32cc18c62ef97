import { createPublicKey, verify } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "@convos-pool/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSms, type LocalSms } from "./sms.js";

interface Hook {
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  hooks: Hook[];
  /** Resolves once `count` webhooks have arrived. */
  received(count: number): Promise<Hook[]>;
  close(): Promise<void>;
}

/** An agent host's webhook endpoint: answers `statuses` in turn, then 200. */
async function startReceiver(statuses: number[] = []): Promise<Receiver> {
  const hooks: Hook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hooks.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sms/webhook`,
    hooks,
    async received(count) {
      const end = Date.now() + 10_000;
      while (hooks.length < count) {
        if (Date.now() > end) throw new Error(`${hooks.length} webhooks of ${count} arrived`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return hooks;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let sms: LocalSms;
const receivers: Receiver[] = [];

beforeAll(async () => {
  sms = await startLocalSms();
});

afterAll(async () => {
  await sms?.close();
  for (const r of receivers) await r.close();
});

async function receiver(statuses?: number[]) {
  const r = await startReceiver(statuses);
  receivers.push(r);
  return r;
}

async function api(method: string, path: string, body?: unknown, key: string | null = sms.apiKey): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sms.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

/** A profile whose webhook is `url`, with `numbers` on it. */
async function profileWith(name: string, url: string, ...numbers: string[]): Promise<string> {
  const created = await api("POST", "/v2/messaging_profiles", { name, webhook_url: url, whitelisted_destinations: ["US"] });
  expect(created.status).toBe(200);
  for (const n of numbers) expect((await api("PATCH", `/v2/phone_numbers/${encodeURIComponent(n)}/messaging`, { messaging_profile_id: created.body.data.id })).status).toBe(200);
  return created.body.data.id as string;
}

function verifies(hook: Hook, body = hook.body): boolean {
  const key = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(sms.webhookPublicKey, "base64")]), format: "der", type: "spki" });
  return verify(null, Buffer.from(`${String(hook.headers["telnyx-timestamp"])}|${body}`), key, Buffer.from(String(hook.headers["telnyx-signature-ed25519"]), "base64"));
}

describe("the local SMS server (Telnyx's messaging API)", () => {
  it("refuses a request without the API key or with another, as Telnyx does", async () => {
    for (const key of [null, "KEYsomeoneelse"]) {
      const res = await api("GET", "/v2/messaging_profiles", undefined, key);
      expect(res.status).toBe(401);
      expect(res.body.errors[0]).toMatchObject({ code: "10009", title: "Authentication failed" });
    }
    expect((await api("GET", "/v2/messaging_profiles")).status).toBe(200);
  });

  it("names the field it refuses: missing, not E.164, too long, not a URL, unknown profile, a sender on no profile", async () => {
    const refusal = async (method: string, path: string, body: unknown) => {
      const res = await api(method, path, body);
      expect(res.status).toBe(422);
      return res.body.errors[0] as { code: string; detail: string; source: { pointer: string } };
    };
    const agent = "+15550100100";
    await profileWith("refusals", "http://127.0.0.1:9/unused", agent);

    expect(await refusal("POST", "/v2/messages", { from: agent, text: "hi" })).toMatchObject({ code: "10004", source: { pointer: "/to" } });
    expect(await refusal("POST", "/v2/messages", { from: agent, to: "5550100101", text: "hi" })).toMatchObject({ code: "10016", source: { pointer: "/to" } });
    expect(await refusal("POST", "/v2/messages", { from: agent, to: "+15550100101", text: "" })).toMatchObject({ code: "10004", source: { pointer: "/text" } });
    expect(await refusal("POST", "/v2/messages", { from: agent, to: "+15550100101", text: "x".repeat(1601) })).toMatchObject({ source: { pointer: "/text" } });
    expect(await refusal("POST", "/v2/messages", { from: "+15550100199", to: "+15550100101", text: "hi" })).toMatchObject({ code: "40013", source: { pointer: "/from" } });
    expect(await refusal("POST", "/v2/messaging_profiles", { webhook_url: "http://127.0.0.1:9/", whitelisted_destinations: ["US"] })).toMatchObject({ source: { pointer: "/name" } });
    expect(await refusal("POST", "/v2/messaging_profiles", { name: "x", webhook_url: "ftp://example.com", whitelisted_destinations: ["US"] })).toMatchObject({ code: "10003", source: { pointer: "/webhook_url" } });
    expect(await refusal("POST", "/v2/messaging_profiles", { name: "x", webhook_url: "http://127.0.0.1:9/" })).toMatchObject({ source: { pointer: "/whitelisted_destinations" } });
    expect(await refusal("PATCH", "/v2/phone_numbers/+15550100102/messaging", { messaging_profile_id: "no-such-profile" })).toMatchObject({ code: "10017", source: { pointer: "/messaging_profile_id" } });

    const notJson = await fetch(`${sms.url}/v2/messages`, { method: "POST", headers: { authorization: `Bearer ${sms.apiKey}` }, body: "{" });
    expect(notJson.status).toBe(400);
    expect((await api("PATCH", "/v2/messaging_profiles/no-such-profile", { name: "y" })).status).toBe(404);
  });

  it("posts a text for a number on a profile to the profile's webhook, signed so that webhookPublicKey verifies it and not a changed body", async () => {
    const hooks = await receiver();
    const [alice, bob] = ["+15550100001", "+15550100002"];
    const profileId = await profileWith("agents-signed", hooks.url, alice, bob);

    const listed = await api("GET", `/v2/messaging_profiles?filter[name]=agents-signed`);
    expect(listed.body.data).toEqual([expect.objectContaining({ id: profileId, record_type: "messaging_profile", webhook_url: hooks.url })]);
    expect(listed.body.meta).toMatchObject({ total_results: 1, page_number: 1 });

    const sent = await api("POST", "/v2/messages", { from: alice, to: bob, text: "Table for four at 8?" });
    expect(sent.status).toBe(200);
    expect(sent.body.data).toMatchObject({ record_type: "message", direction: "outbound", type: "SMS", from: { phone_number: alice }, to: [{ phone_number: bob, status: "queued" }], parts: 1 });

    const [hook] = await hooks.received(1);
    const event = JSON.parse(hook!.body);
    expect(event.data).toMatchObject({
      event_type: "message.received",
      record_type: "event",
      payload: { id: sent.body.data.id, direction: "inbound", from: { phone_number: alice }, to: [{ phone_number: bob, status: "webhook_delivered" }], text: "Table for four at 8?" },
    });
    expect(event.meta).toEqual({ attempt: 1, delivered_to: hooks.url });
    expect(Math.abs(Number(hook!.headers["telnyx-timestamp"]) - Date.now() / 1000)).toBeLessThan(10);
    expect(verifies(hook!)).toBe(true);
    expect(verifies(hook!, hook!.body.replace("Table for four", "Table for forty"))).toBe(false);
  });

  it("retries a webhook that failed, counting the attempts, with the same event", async () => {
    const hooks = await receiver([500]);
    const [alice, bob] = ["+15550100011", "+15550100012"];
    await profileWith("agents-retried", hooks.url, alice, bob);

    await api("POST", "/v2/messages", { from: alice, to: bob, text: "Are you there?" });
    const [first, second] = (await hooks.received(2)).map((h) => JSON.parse(h.body));
    expect([first.meta.attempt, second.meta.attempt]).toEqual([1, 2]);
    expect(second.data.id).toBe(first.data.id);
    expect(verifies(hooks.hooks[1]!)).toBe(true);
  });

  it("delivers a text between phones on no profile to the other phone, and through the keyless /local routes", async () => {
    const saul = sms.phone("+15557770001");
    const kim = sms.phone("+15557770002");
    await saul.send(kim.number, "Lunch?");
    expect(await kim.waitForMessage()).toMatchObject({ from: saul.number, to: kim.number, text: "Lunch?" });

    const res = await fetch(`${sms.url}/local/phones/%2B15557770002/messages`, { method: "POST", body: JSON.stringify({ to: saul.number, text: "Sure, noon" }) });
    expect(res.status).toBe(200);
    await saul.waitForMessage((m) => m.text === "Sure, noon");
    const inbox = (await (await fetch(`${sms.url}/local/phones/+15557770001/messages`)).json()) as { data: { text: string }[] };
    expect(inbox.data.map((m) => m.text)).toEqual(["Sure, noon"]);
    await expect(saul.send("not a number", "x")).rejects.toThrow("+E.164");
    await expect(saul.waitForMessage((m) => m.text === "never", 50)).rejects.toThrow("within 50 ms");
  });

  it("takes a phone's text to an agent's number to the agent's webhook, and the agent's reply to the phone; unassigned, the number is a phone again", async () => {
    const hooks = await receiver();
    const agent = "+15550100021";
    await profileWith("agents-phone", hooks.url, agent);
    const saul = sms.phone("+15557770021");

    await saul.send(agent, "Book me a table");
    const [hook] = await hooks.received(1);
    expect(JSON.parse(hook!.body).data.payload).toMatchObject({ from: { phone_number: saul.number }, to: [{ phone_number: agent }], text: "Book me a table" });
    expect(verifies(hook!)).toBe(true);

    expect((await api("POST", "/v2/messages", { from: agent, to: saul.number, text: "Booked for 8" })).status).toBe(200);
    expect((await saul.waitForMessage()).from).toBe(agent);

    const unassigned = await api("PATCH", `/v2/phone_numbers/${agent}/messaging`, { messaging_profile_id: null });
    expect(unassigned.body.data).toMatchObject({ record_type: "messaging_settings", phone_number: agent, messaging_profile_id: null });
    await saul.send(agent, "Still there?");
    expect((await sms.phone(agent).waitForMessage()).text).toBe("Still there?");
    expect(hooks.hooks).toHaveLength(1);
  });

  it("logs from, to and length for each text, never the text or the API key", async () => {
    const lines: string[] = [];
    const quiet = await startLocalSms({ log: createLogger("sms", { level: "info", sink: (l) => lines.push(l) }) });
    try {
      await quiet.phone("+15557770031").send("+15557770032", "the secret plan");
      await quiet.phone("+15557770032").waitForMessage();
    } finally {
      await quiet.close();
    }
    const accepted = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "text accepted");
    expect(accepted).toMatchObject({ from: "+15557770031", to: "+15557770032", length: 15 });
    expect(lines.join("\n")).not.toContain("secret plan");
    expect(lines.join("\n")).not.toContain(quiet.apiKey);
  });
});
