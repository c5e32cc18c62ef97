// The agent's AgentMail client, and an agent's email tool on it, against the
// local stand-in of AgentMail's API (local-providers agentmail/).
import { createLogger, freePort } from "@convos-pool/kit/server";
import { startLocalAgentMail, type LocalAgentMail } from "@convos-pool/local-providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentMailClient } from "./agentmail.js";
import { AgentTools } from "../functions/agent-tools.js";
import { MailError } from "./mail.js";

const log = createLogger("agentmail-test", { level: "error" });
let am: LocalAgentMail;

beforeAll(async () => {
  am = await startLocalAgentMail();
});

afterAll(async () => {
  await am?.close();
});

async function orgCall<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${am.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${am.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** An inbox and its scoped key, as the claims service's provider makes them. */
async function inbox(): Promise<{ address: string; apiKey: string; client: AgentMailClient }> {
  const { inbox_id } = await orgCall<{ inbox_id: string }>("/v0/inboxes", {});
  const { api_key } = await orgCall<{ api_key: string }>(`/v0/inboxes/${encodeURIComponent(inbox_id)}/api-keys`, {
    name: "agent",
  });
  return {
    address: inbox_id,
    apiKey: api_key,
    client: new AgentMailClient({ apiUrl: am.url, inboxId: inbox_id, apiKey: api_key }),
  };
}

/** What a failed call threw. */
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("the agent's AgentMail client", () => {
  it("lists and reads the mail it received, newest first, and sends a reply that reaches the person", async () => {
    const { client, address } = await inbox();
    expect(await client.list()).toEqual([]);
    am.deliver(address, { from: "Saul <saul@example.com>", subject: "Dinner", text: "Book a table for four, please." });
    am.deliver(address, { from: "Saul <saul@example.com>", subject: "Also", text: "And flowers." });

    const list = await client.list();
    expect(list.map((m) => m.subject)).toEqual(["Also", "Dinner"]);
    expect(list[0]).toEqual({
      id: expect.stringMatching(/^<.+>$/),
      from: "Saul <saul@example.com>",
      subject: "Also",
      date: expect.any(String),
      size: expect.any(Number),
      // Where it is told, for an agent in several conversations (routing/policy.ts).
      threadId: expect.any(String),
    });
    expect(Date.parse(list[0]!.date)).toBeGreaterThan(Date.now() - 60_000);
    expect(await client.list({ limit: 1 })).toEqual([list[0]]);

    const dinner = await client.read(list[1]!.id);
    expect(dinner).toEqual({
      id: list[1]!.id,
      from: "Saul <saul@example.com>",
      to: address,
      subject: "Dinner",
      date: list[1]!.date,
      text: "Book a table for four, please.",
      messageId: list[1]!.id,
      // Its thread, as the listing has it: which conversation the mail belongs to (routing/mailbox-view.ts).
      threadId: list[1]!.threadId,
    });

    const sent = await client.send({
      to: "saul@example.com",
      subject: "Re: Dinner",
      text: "Booked for 8.",
      inReplyTo: dinner.messageId,
    });
    expect(sent.messageId).toMatch(/^<.+>$/);
    // A reply goes on the thread of the mail it answers: where the answer to it is told (routing/policy.ts).
    expect(sent.threadId).toBe(list[1]!.threadId);
    expect(await am.waitForMail("saul@example.com", (m) => m.messageId === sent.messageId)).toMatchObject({
      from: address,
      subject: "Re: Dinner",
      text: "Booked for 8.",
      inReplyTo: dinner.messageId,
    });
    // What it sent is not new mail to it.
    expect((await client.list()).map((m) => m.subject)).toEqual(["Also", "Dinner"]);
  });

  it("reads HTML mail as plain text, a reply without the mail it quotes, and cuts long text at 16 KiB, saying so", async () => {
    const { client, address } = await inbox();
    am.deliver(address, {
      from: "saul@example.com",
      subject: "Menu",
      html: "<h1>Tonight</h1><p>Soup <b>and</b> bread.</p><ul><li>wine</li></ul>",
    });
    am.deliver(address, {
      from: "saul@example.com",
      subject: "Re: Booked",
      text: "Perfect, thanks.\n\nOn Monday you wrote:\n> Booked for 8.\n",
    });
    am.deliver(address, { from: "saul@example.com", subject: "Long", text: "é".repeat(20_000) });
    const [long, reply, menu] = await client.list();

    const html = await client.read(menu!.id);
    expect(html.text).not.toContain("<");
    expect(html.text).toContain("Soup and bread.");
    expect(html.text).toContain("wine");
    expect((await client.read(reply!.id)).text).toBe("Perfect, thanks.");

    const cut = await client.read(long!.id);
    expect(Buffer.byteLength(cut.text)).toBeLessThan(16 * 1024 + 200);
    expect(cut.text.startsWith("é".repeat(8192))).toBe(true);
    expect(cut.text).toMatch(/\[cut here: the text is 40 KiB; only its first 16 KiB are shown\]$/);
  });

  it("fails in plain words: an unknown id, a wrong key, another inbox's key, a provider that is not there; never with the key", async () => {
    const mine = await inbox();
    const other = await inbox();

    const unknown = await failure(mine.client.read("<nope@agentmail.localhost>"));
    expect(unknown).toBeInstanceOf(MailError);
    expect((unknown as MailError).message).toBe("no message with id <nope@agentmail.localhost>");

    const wrongKey = "am_not_a_key_of_this_organization";
    const wrong = new AgentMailClient({ apiUrl: am.url, inboxId: mine.address, apiKey: wrongKey });
    const another = new AgentMailClient({ apiUrl: am.url, inboxId: other.address, apiKey: mine.apiKey });
    // Each call's failure is caught at once (failure()), then looked at in turn.
    const calls = [
      wrong.list(),
      wrong.send({ to: "saul@example.com", subject: "x", text: "x" }),
      another.list(),
      another.read("x"),
      another.send({ to: "saul@example.com", subject: "x", text: "x" }),
    ].map(failure);
    for (const call of calls) {
      const err = await call;
      expect(err).toBeInstanceOf(MailError);
      expect((err as MailError).message).toBe("the mailbox provider refused the key");
      for (const key of [wrongKey, mine.apiKey, am.apiKey])
        expect(`${String(err)} ${JSON.stringify(err)}`).not.toContain(key);
    }

    const refused = await failure(mine.client.send({ to: "not an address", subject: "x", text: "x" }));
    expect((refused as MailError).message).toMatch(
      /^the mailbox provider refused the mail: to must be email addresses/,
    );

    const port = await freePort();
    const gone = new AgentMailClient({
      apiUrl: `http://127.0.0.1:${port}`,
      inboxId: mine.address,
      apiKey: mine.apiKey,
    });
    for (const call of [
      gone.list(),
      gone.read("x"),
      gone.send({ to: "saul@example.com", subject: "x", text: "x" }),
    ].map(failure)) {
      const err = await call;
      expect(err).toBeInstanceOf(MailError);
      expect((err as MailError).message).toBe("the mailbox provider could not be reached");
    }
  });
});

describe("an agent's email tool at AgentMail", () => {
  it("is usable with an inbox's key when the host reaches AgentMail, offers the mail functions, and sends through AgentMail", async () => {
    const { address, apiKey } = await inbox();
    const held = [{ toolId: "email", handle: address }];
    const tools = new AgentTools(
      { agentmail: { apiUrl: am.url } },
      held,
      { email: { api_key: apiKey } },
      { "personal-email": "kim@example.com" },
      log,
    );
    expect(tools.usable).toEqual(["email"]);
    expect(tools.mail).toBeInstanceOf(AgentMailClient);
    expect(tools.specs().map((s) => s.name)).toEqual(["send_email", "list_email", "read_email"]);

    const call = tools.prepare("send_email", { to: "personal-email", subject: "Flight", text: "Lands at 6." });
    expect(call).toMatchObject({ toolId: "email", risk: "act", target: "kim@example.com" });
    expect((await call.run()).result).toMatch(/^mailed kim@example\.com \(<.+>\)$/);
    expect(await am.waitForMail("kim@example.com")).toMatchObject({
      from: address,
      subject: "Flight",
      text: "Lands at 6.",
    });

    am.deliver(address, { from: "kim@example.com", subject: "Thanks", text: "See you." });
    const listed = (await tools.prepare("list_email", {}).run()).result;
    expect(listed).toMatch(/^\[<.+>\] .+ from kim@example\.com: Thanks$/);
    tools.close();
  });

  it("is not usable where the host cannot reach the mailbox's provider: a key without AgentMail, a password without the mail server", async () => {
    const { address, apiKey } = await inbox();
    const held = [{ toolId: "email", handle: address }];
    const keyOnMailHost = new AgentTools(
      { mail: { smtpUrl: "smtp://127.0.0.1:9", pop3Url: "pop3://127.0.0.1:9" } },
      held,
      { email: { api_key: apiKey } },
      {},
      log,
    );
    const passwordOnAgentMailHost = new AgentTools(
      { agentmail: { apiUrl: am.url } },
      held,
      { email: { password: "secret" } },
      {},
      log,
    );
    for (const tools of [keyOnMailHost, passwordOnAgentMailHost]) {
      expect(tools.usable).toEqual([]);
      expect(tools.mail).toBeUndefined();
      expect(() => tools.prepare("send_email", { to: "kim@example.com", subject: "x", text: "x" })).toThrow(
        "I have no mailbox to do that with",
      );
    }
  });
});
