import { createLogger } from "@convos-pool/kit/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalAgentMail, type LocalAgentMail } from "./index.js";

let am: LocalAgentMail;

beforeAll(async () => {
  am = await startLocalAgentMail();
});

afterAll(async () => {
  await am?.close();
});

/** The answers these tests read fields of: an inbox, a sent mail's ids, a key, a page of mail. */
type InboxAnswer = { inbox_id: string };
type SentAnswer = { message_id: string; thread_id: string };
type KeyAnswer = { api_key: string; api_key_id: string };
type PageAnswer = { messages: Record<string, unknown>[]; next_page_token?: string };

/** A call to the local AgentMail; `T` is the answer's shape that the test expects. */
async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  key: string | null = am.apiKey,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${am.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : ({} as T) };
}

const inboxPath = (id: string) => `/v0/inboxes/${encodeURIComponent(id)}`;

/** A new inbox and a key scoped to it. */
async function inboxWithKey(): Promise<{ id: string; key: string; keyId: string }> {
  const inbox = await api<InboxAnswer>("POST", "/v0/inboxes", {});
  expect(inbox.status).toBe(200);
  const key = await api<KeyAnswer>("POST", `${inboxPath(inbox.body.inbox_id)}/api-keys`, { name: "agent" });
  expect(key.status).toBe(200);
  return { id: inbox.body.inbox_id, key: key.body.api_key, keyId: key.body.api_key_id };
}

describe("the local AgentMail (AgentMail's API v0)", () => {
  it("refuses a request without a key or with a key it never gave, in AgentMail's error shape", async () => {
    for (const key of [null, "am_someoneelse"]) {
      const res = await api("POST", "/v0/inboxes", {}, key);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ name: "UnauthorizedError", message: expect.any(String) });
    }
  });

  it("creates an inbox whose id is its address on its domain, and gives the same inbox again for the same client_id", async () => {
    const first = await api<InboxAnswer>("POST", "/v0/inboxes", {
      client_id: "pool-inst_1",
      display_name: "Concierge",
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      pod_id: expect.any(String),
      inbox_id: expect.stringMatching(/^[a-z]{16}@agentmail\.localhost$/),
      display_name: "Concierge",
      client_id: "pool-inst_1",
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect((await api("POST", "/v0/inboxes", { client_id: "pool-inst_1" })).body).toEqual(first.body);
    expect((await api<InboxAnswer>("POST", "/v0/inboxes", { client_id: "pool-inst_2" })).body.inbox_id).not.toBe(
      first.body.inbox_id,
    );
    expect((await api("GET", inboxPath(first.body.inbox_id))).body).toEqual(first.body);

    const named = await api<InboxAnswer>("POST", "/v0/inboxes", { username: "Concierge.Bot" });
    expect(named.body.inbox_id).toBe("concierge.bot@agentmail.localhost");
  });

  it("names the field it refuses, answers bad JSON with 400 and too large a body with 413", async () => {
    const { id } = await inboxWithKey();
    const refusal = async (method: string, path: string, body?: unknown) => {
      const res = await api(method, path, body);
      expect(res.status).toBe(400);
      expect(res.body.name).toBe("ValidationError");
      return res.body.message as string;
    };
    expect(await refusal("POST", `${inboxPath(id)}/messages/send`, { subject: "x", text: "x" })).toMatch(/^to /);
    expect(await refusal("POST", `${inboxPath(id)}/messages/send`, { to: "saul", text: "x" })).toMatch(/^to /);
    expect(
      await refusal("POST", `${inboxPath(id)}/messages/send`, { to: "saul@example.com", subject: "no body" }),
    ).toMatch(/^text /);
    expect(
      await refusal("POST", `${inboxPath(id)}/messages/send`, {
        to: "saul@example.com",
        text: "x",
        cc: ["not an address"],
      }),
    ).toMatch(/^cc /);
    expect(await refusal("GET", `${inboxPath(id)}/messages?limit=0`)).toMatch(/^limit /);
    expect(await refusal("GET", `${inboxPath(id)}/messages?page_token=nonsense`)).toMatch(/^page_token /);
    expect(await refusal("POST", "/v0/inboxes", { domain: "example.com" })).toMatch(/^domain /);
    expect(await refusal("POST", "/v0/inboxes", { username: "no spaces" })).toMatch(/^username /);
    expect(await refusal("POST", `${inboxPath(id)}/api-keys`, {})).toMatch(/^name /);

    const notJson = await fetch(`${am.url}/v0/inboxes`, {
      method: "POST",
      headers: { authorization: `Bearer ${am.apiKey}` },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ name: "ValidationError" });
    const huge = await fetch(`${am.url}${inboxPath(id)}/messages/send`, {
      method: "POST",
      headers: { authorization: `Bearer ${am.apiKey}` },
      body: JSON.stringify({ to: "saul@example.com", text: "x".repeat(3 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect((await api("GET", inboxPath("nobody@agentmail.localhost"))).body).toMatchObject({ name: "NotFoundError" });
  });

  it("lets an inbox's key read and send for its own inbox only, never create inboxes or keys nor delete", async () => {
    const mine = await inboxWithKey();
    const other = await inboxWithKey();
    expect((await api("GET", inboxPath(mine.id), undefined, mine.key)).status).toBe(200);
    expect((await api("GET", `${inboxPath(mine.id)}/messages`, undefined, mine.key)).status).toBe(200);
    expect(
      (await api("POST", `${inboxPath(mine.id)}/messages/send`, { to: "saul@example.com", text: "hi" }, mine.key))
        .status,
    ).toBe(200);

    const refused = [
      await api("GET", inboxPath(other.id), undefined, mine.key),
      await api("GET", `${inboxPath(other.id)}/messages`, undefined, mine.key),
      await api("POST", `${inboxPath(other.id)}/messages/send`, { to: "saul@example.com", text: "hi" }, mine.key),
      await api("GET", inboxPath("nobody@agentmail.localhost"), undefined, mine.key),
      await api("POST", "/v0/inboxes", {}, mine.key),
      await api("POST", `${inboxPath(mine.id)}/api-keys`, { name: "more" }, mine.key),
      await api("DELETE", `${inboxPath(mine.id)}/api-keys/${mine.keyId}`, undefined, mine.key),
      await api("DELETE", inboxPath(mine.id), undefined, mine.key),
    ];
    for (const res of refused) expect(res).toMatchObject({ status: 403, body: { name: "ForbiddenError" } });
    expect((await api("GET", inboxPath(mine.id))).status).toBe(200);

    // A deleted key opens nothing.
    expect((await api("DELETE", `${inboxPath(mine.id)}/api-keys/${mine.keyId}`)).status).toBe(204);
    expect((await api("GET", inboxPath(mine.id), undefined, mine.key)).status).toBe(401);
    expect((await api("DELETE", `${inboxPath(mine.id)}/api-keys/${mine.keyId}`)).status).toBe(404);
  });

  it("delivers mail between its inboxes as received, keeps mail for other addresses in their outbox, oldest first, and threads a reply", async () => {
    const alice = await inboxWithKey();
    const bob = await inboxWithKey();
    const sent = await api<SentAnswer>(
      "POST",
      `${inboxPath(alice.id)}/messages/send`,
      { to: [bob.id, "Ann <ann@example.com>"], cc: "kim@example.com", subject: "Dinner", text: "At 8?" },
      alice.key,
    );
    expect(sent.body).toEqual({
      message_id: expect.stringMatching(/^<.+@agentmail\.localhost>$/),
      thread_id: expect.any(String),
    });

    const [received] = (await api<PageAnswer>("GET", `${inboxPath(bob.id)}/messages`, undefined, bob.key)).body
      .messages;
    expect(received).toMatchObject({
      inbox_id: bob.id,
      message_id: sent.body.message_id,
      labels: ["received"],
      from: alice.id,
      subject: "Dinner",
      preview: "At 8?",
      size: 11,
    });
    expect(received!.text).toBeUndefined(); // the list has no bodies
    const full = (
      await api("GET", `${inboxPath(bob.id)}/messages/${encodeURIComponent(sent.body.message_id)}`, undefined, bob.key)
    ).body;
    expect(full).toMatchObject({ text: "At 8?", extracted_text: "At 8?" });
    const [own] = (await api<PageAnswer>("GET", `${inboxPath(alice.id)}/messages`, undefined, alice.key)).body.messages;
    expect(own).toMatchObject({ labels: ["sent"], message_id: sent.body.message_id, thread_id: sent.body.thread_id });

    expect(am.outbox("ann@example.com")).toEqual([
      expect.objectContaining({ messageId: sent.body.message_id, from: alice.id, subject: "Dinner", text: "At 8?" }),
    ]);
    expect(am.outbox("KIM@example.com")).toHaveLength(1);
    await api(
      "POST",
      `${inboxPath(alice.id)}/messages/send`,
      { to: "ann@example.com", subject: "Also", text: "Flowers." },
      alice.key,
    );
    expect(am.outbox("ann@example.com").map((m) => m.subject)).toEqual(["Dinner", "Also"]);

    // Bob answers with the quote; Alice's copy joins her thread, and its extracted text is the answer alone.
    const answer = await api<SentAnswer>(
      "POST",
      `${inboxPath(bob.id)}/messages/send`,
      {
        to: alice.id,
        subject: "Re: Dinner",
        text: "Yes.\n\nOn Monday Alice wrote:\n> At 8?\n",
        headers: { "In-Reply-To": sent.body.message_id },
      },
      bob.key,
    );
    const inAlice = (
      await api(
        "GET",
        `${inboxPath(alice.id)}/messages/${encodeURIComponent(answer.body.message_id)}`,
        undefined,
        alice.key,
      )
    ).body;
    expect(inAlice).toMatchObject({ thread_id: sent.body.thread_id, labels: ["received"], extracted_text: "Yes." });
  });

  it("lists an inbox's mail newest first, in pages, filtered by label", async () => {
    const { id, key } = await inboxWithKey();
    for (const n of [1, 2, 3]) am.deliver(id, { from: "saul@example.com", subject: `mail ${n}`, text: "x" });
    await api("POST", `${inboxPath(id)}/messages/send`, { to: "saul@example.com", subject: "reply", text: "y" }, key);

    const first = (await api<PageAnswer>("GET", `${inboxPath(id)}/messages?limit=2`, undefined, key)).body;
    expect(first).toMatchObject({ count: 2, limit: 2, next_page_token: expect.any(String) });
    expect(first.messages.map((m) => m.subject)).toEqual(["reply", "mail 3"]);
    const second = (
      await api<PageAnswer>(
        "GET",
        `${inboxPath(id)}/messages?limit=2&page_token=${first.next_page_token}`,
        undefined,
        key,
      )
    ).body;
    expect(second.messages.map((m) => m.subject)).toEqual(["mail 2", "mail 1"]);
    expect(second.next_page_token).toBeUndefined();

    const received = (await api<PageAnswer>("GET", `${inboxPath(id)}/messages?labels=received`, undefined, key)).body;
    expect(received.messages.map((m) => m.subject)).toEqual(["mail 3", "mail 2", "mail 1"]);
  });

  it("deletes an inbox with its mail and its keys; the same client_id then makes a new inbox", async () => {
    const inbox = (await api<InboxAnswer>("POST", "/v0/inboxes", { client_id: "pool-inst_gone" })).body;
    const key = (await api<KeyAnswer>("POST", `${inboxPath(inbox.inbox_id)}/api-keys`, { name: "agent" })).body.api_key;
    am.deliver(inbox.inbox_id, { from: "saul@example.com", subject: "hi", text: "x" });

    expect((await api("DELETE", inboxPath(inbox.inbox_id))).status).toBe(204);
    expect((await api("GET", inboxPath(inbox.inbox_id))).status).toBe(404);
    expect((await api("GET", `${inboxPath(inbox.inbox_id)}/messages`)).status).toBe(404);
    expect((await api("GET", `${inboxPath(inbox.inbox_id)}/messages`, undefined, key)).status).toBe(401);
    expect((await api("DELETE", inboxPath(inbox.inbox_id))).status).toBe(404);
    expect(() => am.deliver(inbox.inbox_id, { from: "saul@example.com", subject: "hi", text: "x" })).toThrow(
      "no inbox",
    );
    expect((await api<InboxAnswer>("POST", "/v0/inboxes", { client_id: "pool-inst_gone" })).body.inbox_id).not.toBe(
      inbox.inbox_id,
    );
  });

  it("lets a person write to an inbox and read what it sent them through the keyless /local routes, and waits for mail", async () => {
    const { id, key } = await inboxWithKey();
    const written = await fetch(`${am.url}/local/messages`, {
      method: "POST",
      body: JSON.stringify({ from: "saul@example.com", to: id, subject: "Table", text: "For four." }),
    });
    expect(written.status).toBe(200);
    expect(await am.waitForMail(id)).toMatchObject({ from: "saul@example.com", subject: "Table", text: "For four." });
    const nobody = await fetch(`${am.url}/local/messages`, {
      method: "POST",
      body: JSON.stringify({ from: "saul@example.com", to: "nobody@agentmail.localhost", text: "x" }),
    });
    expect(nobody.status).toBe(404);

    const later = am.waitForMail("saul@example.com", (m) => m.subject === "Booked");
    await api(
      "POST",
      `${inboxPath(id)}/messages/send`,
      { to: "saul@example.com", subject: "Booked", text: "8 pm." },
      key,
    );
    expect((await later).text).toBe("8 pm.");
    const outbox = (await (await fetch(`${am.url}/local/outbox/saul@example.com`)).json()) as {
      messages: { subject: string }[];
    };
    expect(outbox.messages.map((m) => m.subject)).toContain("Booked");
    await expect(am.waitForMail("saul@example.com", (m) => m.subject === "never", 50)).rejects.toThrow("within 50 ms");
  });

  it("sends one mail for two sends with one Idempotency-Key, answering the second as the first, as AgentMail does", async () => {
    const { id, key } = await inboxWithKey();
    const send = async () => {
      const res = await fetch(`${am.url}${inboxPath(id)}/messages/send`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${key}`,
          "idempotency-key": "firing:sch_0123456789abcdef01234567:2027-01-01T08:00:00Z",
        },
        body: JSON.stringify({ to: "rent@example.com", subject: "Rent", text: "rent is due" }),
      });
      return (await res.json()) as SentAnswer;
    };
    const first = await send();
    expect(await send()).toEqual(first);
    const outbox = (await (await fetch(`${am.url}/local/outbox/rent@example.com`)).json()) as { messages: unknown[] };
    expect(outbox.messages).toHaveLength(1);
  });

  it("logs inboxes, keys and mail by address and id, never a key, a subject or a body", async () => {
    const lines: string[] = [];
    const quiet = await startLocalAgentMail({
      log: createLogger("agentmail", { level: "info", sink: (l) => lines.push(l) }),
    });
    let scoped = "";
    try {
      const call = (method: string, path: string, body: unknown, key = quiet.apiKey) =>
        fetch(`${quiet.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${key}` },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<InboxAnswer & KeyAnswer>);
      const inbox = await call("POST", "/v0/inboxes", {});
      scoped = (await call("POST", `${inboxPath(inbox.inbox_id)}/api-keys`, { name: "agent" })).api_key;
      await call(
        "POST",
        `${inboxPath(inbox.inbox_id)}/messages/send`,
        { to: "saul@example.com", subject: "the secret subject", text: "the secret plan" },
        scoped,
      );
      quiet.deliver(inbox.inbox_id, {
        from: "saul@example.com",
        subject: "the secret subject",
        text: "the secret plan",
      });
    } finally {
      await quiet.close();
    }
    const all = lines.join("\n");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(
      expect.arrayContaining(["inbox created", "inbox key created", "mail sent", "mail received"]),
    );
    for (const secret of ["secret plan", "secret subject", quiet.apiKey, scoped]) expect(all).not.toContain(secret);
  });
});
