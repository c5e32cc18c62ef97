import { createPublicKey, verify } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "@convos-pool/kit/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSms, type LocalSms } from "./index.js";

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

/** A Telnyx record as these tests read it: its id, and the fields they assert on. */
type TelnyxRecord = { id: string; [field: string]: unknown };

/** Telnyx's answer: a record or a list in `data`, `meta` with a list, `errors` when it refuses. */
interface TelnyxAnswer<D> {
  data: D;
  meta: Record<string, unknown>;
  errors: { code: string; title: string; detail: string; source: { pointer?: string; parameter?: string } }[];
}

/** A JSON client of a started stand-in; `key` null sends no Authorization; `D` is the `data` the test expects. */
const apiOf =
  (server: () => LocalSms) =>
  async <D = TelnyxRecord>(
    method: string,
    path: string,
    body?: unknown,
    key: string | null = server().apiKey,
  ): Promise<{ status: number; body: TelnyxAnswer<D> }> => {
    const res = await fetch(`${server().url}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as TelnyxAnswer<D> };
  };

const api = apiOf(() => sms);

/** A profile whose webhook is `url`, with `numbers` on it. */
async function profileWith(name: string, url: string, ...numbers: string[]): Promise<string> {
  const created = await api("POST", "/v2/messaging_profiles", {
    name,
    webhook_url: url,
    whitelisted_destinations: ["US"],
  });
  expect(created.status).toBe(200);
  for (const n of numbers)
    expect(
      (
        await api("PATCH", `/v2/phone_numbers/${encodeURIComponent(n)}/messaging`, {
          messaging_profile_id: created.body.data.id,
        })
      ).status,
    ).toBe(200);
  return created.body.data.id;
}

function verifies(hook: Hook, body = hook.body): boolean {
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(sms.webhookPublicKey, "base64")]),
    format: "der",
    type: "spki",
  });
  return verify(
    null,
    Buffer.from(`${String(hook.headers["telnyx-timestamp"])}|${body}`),
    key,
    Buffer.from(String(hook.headers["telnyx-signature-ed25519"]), "base64"),
  );
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
      return res.body.errors[0]!;
    };
    const agent = "+15550100100";
    await profileWith("refusals", "http://127.0.0.1:9/unused", agent);

    expect(await refusal("POST", "/v2/messages", { from: agent, text: "hi" })).toMatchObject({
      code: "10004",
      source: { pointer: "/to" },
    });
    expect(await refusal("POST", "/v2/messages", { from: agent, to: "5550100101", text: "hi" })).toMatchObject({
      code: "10016",
      source: { pointer: "/to" },
    });
    expect(await refusal("POST", "/v2/messages", { from: agent, to: "+15550100101", text: "" })).toMatchObject({
      code: "10004",
      source: { pointer: "/text" },
    });
    expect(
      await refusal("POST", "/v2/messages", { from: agent, to: "+15550100101", text: "x".repeat(1601) }),
    ).toMatchObject({ source: { pointer: "/text" } });
    expect(
      await refusal("POST", "/v2/messages", { from: "+15550100199", to: "+15550100101", text: "hi" }),
    ).toMatchObject({ code: "40013", source: { pointer: "/from" } });
    expect(
      await refusal("POST", "/v2/messaging_profiles", {
        webhook_url: "http://127.0.0.1:9/",
        whitelisted_destinations: ["US"],
      }),
    ).toMatchObject({ source: { pointer: "/name" } });
    expect(
      await refusal("POST", "/v2/messaging_profiles", {
        name: "x",
        webhook_url: "ftp://example.com",
        whitelisted_destinations: ["US"],
      }),
    ).toMatchObject({ code: "10003", source: { pointer: "/webhook_url" } });
    expect(
      await refusal("POST", "/v2/messaging_profiles", { name: "x", webhook_url: "http://127.0.0.1:9/" }),
    ).toMatchObject({ source: { pointer: "/whitelisted_destinations" } });
    expect(
      await refusal("PATCH", "/v2/phone_numbers/+15550100102/messaging", { messaging_profile_id: "no-such-profile" }),
    ).toMatchObject({ code: "10017", source: { pointer: "/messaging_profile_id" } });

    const notJson = await fetch(`${sms.url}/v2/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${sms.apiKey}` },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    expect((await api("PATCH", "/v2/messaging_profiles/no-such-profile", { name: "y" })).status).toBe(404);
  });

  it("sends one text for two sends with one Idempotency-Key, answering the second with the first's record, and refuses the key with another body", async () => {
    const [agent, ana] = ["+15550100011", "+15550100012"];
    await profileWith("agents-once", "http://127.0.0.1:9/unused", agent);
    const send = (text: string) =>
      fetch(`${sms.url}/v2/messages`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${sms.apiKey}`,
          "idempotency-key": "firing:sch_0123456789abcdef01234567:2027-01-01T08:00:00Z",
        },
        body: JSON.stringify({ from: agent, to: ana, text }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as TelnyxAnswer<TelnyxRecord> }));
    const first = await send("dinner is at 8");
    const second = await send("dinner is at 8");
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.data?.id).toBe(first.body.data?.id);
    expect((await send("dinner is at 9")).status).toBe(422);
    await sms.phone(ana).waitForMessage();
    await new Promise((r) => setTimeout(r, 100));
    expect(
      sms
        .phone(ana)
        .messages()
        .map((t) => t.text),
    ).toEqual(["dinner is at 8"]);
  });

  it("posts a text for a number on a profile to the profile's webhook, signed so that webhookPublicKey verifies it and not a changed body", async () => {
    const hooks = await receiver();
    const [alice, bob] = ["+15550100001", "+15550100002"];
    const profileId = await profileWith("agents-signed", hooks.url, alice, bob);

    const listed = await api("GET", `/v2/messaging_profiles?filter[name]=agents-signed`);
    expect(listed.body.data).toEqual([
      expect.objectContaining({ id: profileId, record_type: "messaging_profile", webhook_url: hooks.url }),
    ]);
    expect(listed.body.meta).toMatchObject({ total_results: 1, page_number: 1 });

    const sent = await api("POST", "/v2/messages", { from: alice, to: bob, text: "Table for four at 8?" });
    expect(sent.status).toBe(200);
    expect(sent.body.data).toMatchObject({
      record_type: "message",
      direction: "outbound",
      type: "SMS",
      from: { phone_number: alice },
      to: [{ phone_number: bob, status: "queued" }],
      parts: 1,
    });

    const [hook] = await hooks.received(1);
    const event = JSON.parse(hook!.body);
    expect(event.data).toMatchObject({
      event_type: "message.received",
      record_type: "event",
      payload: {
        id: sent.body.data.id,
        direction: "inbound",
        from: { phone_number: alice },
        to: [{ phone_number: bob, status: "webhook_delivered" }],
        text: "Table for four at 8?",
      },
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

    const res = await fetch(`${sms.url}/local/phones/%2B15557770002/messages`, {
      method: "POST",
      body: JSON.stringify({ to: saul.number, text: "Sure, noon" }),
    });
    expect(res.status).toBe(200);
    await saul.waitForMessage((m) => m.text === "Sure, noon");
    const inbox = (await (await fetch(`${sms.url}/local/phones/+15557770001/messages`)).json()) as {
      data: { text: string }[];
    };
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
    expect(JSON.parse(hook!.body).data.payload).toMatchObject({
      from: { phone_number: saul.number },
      to: [{ phone_number: agent }],
      text: "Book me a table",
    });
    expect(verifies(hook!)).toBe(true);

    expect((await api("POST", "/v2/messages", { from: agent, to: saul.number, text: "Booked for 8" })).status).toBe(
      200,
    );
    expect((await saul.waitForMessage()).from).toBe(agent);

    const unassigned = await api("PATCH", `/v2/phone_numbers/${agent}/messaging`, { messaging_profile_id: null });
    expect(unassigned.body.data).toMatchObject({
      record_type: "messaging_settings",
      phone_number: agent,
      messaging_profile_id: null,
    });
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

describe("the local SMS server (Telnyx's number ordering)", () => {
  // Five numbers for sale, so that what is taken and given back is easy to see.
  const INVENTORY = ["+15550110000", "+15550110001", "+15550110002", "+15550110003", "+15550110004"];
  let store: LocalSms;
  const call = apiOf(() => store);

  beforeAll(async () => {
    store = await startLocalSms({ inventory: `${INVENTORY[0]}..${INVENTORY[4]}` });
  });

  afterAll(async () => {
    await store?.close();
  });

  const forSale = async () =>
    (await call<{ phone_number: string }[]>("GET", "/v2/available_phone_numbers?filter[limit]=100")).body.data.map(
      (n) => n.phone_number,
    );

  /** The order once it completed, as a client polls it. */
  async function completed(orderId: string): Promise<TelnyxRecord> {
    const end = Date.now() + 5_000;
    for (;;) {
      const order = (await call("GET", `/v2/number_orders/${orderId}`)).body.data;
      if (order.status !== "pending") return order;
      if (Date.now() > end) throw new Error(`order ${orderId} still pending`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function owned(phoneNumber: string): Promise<TelnyxRecord[]> {
    const query = new URLSearchParams({ "filter[phone_number]": phoneNumber });
    return (await call<TelnyxRecord[]>("GET", `/v2/phone_numbers?${query.toString()}`)).body.data;
  }

  it("sells a number as Telnyx does: searched, ordered, owned once the order completes, on the order's profile, deleted and for sale again", async () => {
    const found = await call<{ phone_number: string }[]>(
      "GET",
      "/v2/available_phone_numbers?filter[country_code]=US&filter[features][]=sms&filter[limit]=2",
    );
    expect(found.status).toBe(200);
    expect(found.body.data).toEqual([
      expect.objectContaining({
        record_type: "available_phone_number",
        phone_number: INVENTORY[0],
        features: [{ name: "sms" }, { name: "voice" }],
        best_effort: false,
      }),
      expect.objectContaining({ phone_number: INVENTORY[1] }),
    ]);
    expect(found.body.meta).toEqual({ total_results: 2, best_effort_results: 0 });

    const profile = await call("POST", "/v2/messaging_profiles", {
      name: "agents-bought",
      webhook_url: "http://127.0.0.1:9/unused",
      whitelisted_destinations: ["US"],
    });
    const number = found.body.data[0]!.phone_number;
    const placed = await call("POST", "/v2/number_orders", {
      phone_numbers: [{ phone_number: number }],
      customer_reference: "inst_bought",
      messaging_profile_id: profile.body.data.id,
    });
    expect(placed.status).toBe(200);
    expect(placed.body.data).toMatchObject({
      record_type: "number_order",
      status: "pending",
      phone_numbers_count: 1,
      phone_numbers: [{ record_type: "number_order_phone_number", phone_number: number, status: "pending" }],
      customer_reference: "inst_bought",
      messaging_profile_id: profile.body.data.id,
    });
    // Ordered is no longer for sale, even while the order is pending.
    expect(await forSale()).not.toContain(number);

    const order = await completed(placed.body.data.id);
    expect(order).toMatchObject({
      id: placed.body.data.id,
      status: "success",
      phone_numbers: [{ phone_number: number, status: "success" }],
    });
    const [mine, ...others] = await owned(number);
    expect(others).toEqual([]);
    expect(mine).toMatchObject({
      record_type: "phone_number",
      phone_number: number,
      status: "active",
      customer_reference: "inst_bought",
      messaging_profile_id: profile.body.data.id,
    });
    const id = mine!.id;
    expect(id).toMatch(/^\d+$/);
    // On its profile, it texts.
    expect(
      (await call("POST", "/v2/messages", { from: number, to: "+15557770041", text: "Hello from a bought number" }))
        .status,
    ).toBe(200);
    expect((await store.phone("+15557770041").waitForMessage()).from).toBe(number);

    const deleted = await call("DELETE", `/v2/phone_numbers/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toMatchObject({
      record_type: "phone_number",
      id,
      phone_number: number,
      status: "deleted",
    });
    expect(await owned(number)).toEqual([]);
    expect(await forSale()).toContain(number);
    expect((await call("DELETE", `/v2/phone_numbers/${id}`)).status).toBe(404);
    // Off its profile, it no longer texts.
    expect(
      (await call("POST", "/v2/messages", { from: number, to: "+15557770041", text: "Still here?" })).body.errors[0],
    ).toMatchObject({ code: "40013" });
  });

  it("refuses to order a number already ordered, outside the inventory or not E.164, naming the field, and then orders none of the list", async () => {
    const refusal = async (body: unknown) => {
      const res = await call("POST", "/v2/number_orders", body);
      expect(res.status).toBe(422);
      return res.body.errors[0]!;
    };
    const [a, b] = [INVENTORY[2]!, INVENTORY[3]!];
    expect((await call("POST", "/v2/number_orders", { phone_numbers: [{ phone_number: a }] })).status).toBe(200);

    expect(await refusal({ phone_numbers: [{ phone_number: a }] })).toMatchObject({
      source: { pointer: "/phone_numbers/0/phone_number" },
    });
    expect(await refusal({ phone_numbers: [{ phone_number: b }, { phone_number: a }] })).toMatchObject({
      source: { pointer: "/phone_numbers/1/phone_number" },
    });
    expect(await refusal({ phone_numbers: [{ phone_number: b }, { phone_number: b }] })).toMatchObject({
      source: { pointer: "/phone_numbers/1/phone_number" },
    });
    expect(await forSale()).toContain(b);
    // The claims service's local range is not for sale.
    expect((await refusal({ phone_numbers: [{ phone_number: "+15550100000" }] })).detail).toContain(
      "+15550100000 is not available",
    );
    expect(await refusal({ phone_numbers: [{ phone_number: "5550110004" }] })).toMatchObject({
      code: "10016",
      source: { pointer: "/phone_numbers/0/phone_number" },
    });
    expect(await refusal({ customer_reference: "x" })).toMatchObject({
      code: "10004",
      source: { pointer: "/phone_numbers" },
    });
    expect(await refusal({ phone_numbers: [] })).toMatchObject({ source: { pointer: "/phone_numbers" } });
    expect(
      await refusal({ phone_numbers: [{ phone_number: b }], messaging_profile_id: "no-such-profile" }),
    ).toMatchObject({ code: "10017", source: { pointer: "/messaging_profile_id" } });

    expect((await call("GET", "/v2/number_orders/no-such-order")).status).toBe(404);
    expect((await call("DELETE", "/v2/phone_numbers/123456789")).status).toBe(404);
  });

  it("refuses every number-ordering request without this server's API key", async () => {
    const requests: [string, string, unknown?][] = [
      ["GET", "/v2/available_phone_numbers"],
      ["POST", "/v2/number_orders", { phone_numbers: [{ phone_number: INVENTORY[4] }] }],
      ["GET", "/v2/number_orders/any"],
      ["GET", "/v2/phone_numbers"],
      ["DELETE", "/v2/phone_numbers/123"],
    ];
    for (const [method, path, body] of requests) {
      const res = await call(method, path, body, "KEYsomeoneelse");
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.errors[0]).toMatchObject({ code: "10009" });
    }
    expect(await forSale()).toContain(INVENTORY[4]);
  });

  it("lists the account's numbers by page and by digits", async () => {
    const placed = await call("POST", "/v2/number_orders", {
      phone_numbers: [{ phone_number: INVENTORY[4] }],
      customer_reference: "inst_paged",
    });
    await completed(placed.body.data.id);
    const all = await call("GET", "/v2/phone_numbers");
    expect(all.body.meta.total_results).toBeGreaterThanOrEqual(2);
    const first = await call("GET", "/v2/phone_numbers?page[size]=1&page[number]=1");
    expect(first.body.data).toHaveLength(1);
    expect(first.body.meta).toMatchObject({ page_number: 1, page_size: 1, total_results: all.body.meta.total_results });
    // An unencoded + arrives as a space; the digits still match.
    expect(
      (await call<TelnyxRecord[]>("GET", `/v2/phone_numbers?filter[phone_number]=${INVENTORY[4]}`)).body.data.map(
        (n) => n.customer_reference,
      ),
    ).toEqual(["inst_paged"]);
    expect((await call("GET", "/v2/phone_numbers?filter[phone_number]=0110004")).body.data).toHaveLength(1);
    expect((await call("GET", "/v2/phone_numbers?filter[phone_number]=abc")).body.data).toEqual([]);
  });
});

describe("the local SMS server's number search", () => {
  const search = async (query: string) =>
    api<{ phone_number: string }[]>("GET", `/v2/available_phone_numbers?${query}`);
  const numbers = async (query: string) => (await search(query)).body.data.map((n) => n.phone_number);

  it("finds ten numbers by default and up to a hundred, from the start of the default inventory", async () => {
    const ten = await numbers("filter[country_code]=US");
    expect(ten).toHaveLength(10);
    expect(ten[0]).toBe("+15550110000");
    expect(await numbers("filter[limit]=100")).toHaveLength(100);
    for (const limit of ["0", "101", "ten"]) {
      const res = await search(`filter[limit]=${limit}`);
      expect(res.status, limit).toBe(422);
      expect(res.body.errors[0]!.source).toEqual({ parameter: "filter[limit]" });
    }
  });

  it("finds nothing in another country or with a feature its numbers lack, and filters by the start of the national number", async () => {
    expect(await numbers("filter[country_code]=GB")).toEqual([]);
    expect(await numbers("filter[features][]=sms&filter[features][]=voice&filter[limit]=1")).toEqual(["+15550110000"]);
    expect(await numbers("filter[features]=sms,voice&filter[limit]=1")).toEqual(["+15550110000"]);
    expect(await numbers("filter[features][]=sms&filter[features][]=fax")).toEqual([]);
    const nines = await numbers("filter[phone_number][starts_with]=555011999&filter[limit]=100");
    expect(nines).toEqual(Array.from({ length: 10 }, (_, i) => `+1555011999${i}`));
    expect((await search("filter[phone_number][starts_with]=%2B1555")).body.errors[0]!.source).toEqual({
      parameter: "filter[phone_number][starts_with]",
    });
  });

  it("refuses an inventory that is not a range of US numbers", async () => {
    await expect(startLocalSms({ inventory: "+442071838750..+442071838759" })).rejects.toThrow("US numbers only");
    await expect(startLocalSms({ inventory: "+15550110009..+15550110000" })).rejects.toThrow("below the first");
  });
});
