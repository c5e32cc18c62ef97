// The `person` tool (`npm run -s person`) as a person runs it: a child
// process per command, on a home directory of its own, against a real local
// XMTP node (on real PostgreSQL) in a conversation served by the real Convos
// CLI (`convos agent serve`), whose events say what arrived and from whom.
// The phone's commands are read and asked by a second person, a node-sdk
// client with the Convos CLI's codecs (@convos-pool/convos/person), as an
// agent would. Nothing is a stand-in.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@convos-pool/testing";
import {
  CapabilityRequestCodec,
  ConnectionInvocationCodec,
  dateToSwiftReference,
  type CapabilityRequestResult,
  type ConnectionInvocationResult,
  type ConnectionPayload,
} from "@convos-pool/convos";
import { Person } from "@convos-pool/convos/person";
import { ConvosCli, type CliEvent, type MessageEvent, type ReadyEvent } from "@convos-pool/testing/convos-cli";
import { xmtpPortForTest, type XmtpPort } from "@convos-pool/testing/xmtp-port";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";

const ROOT = resolve(import.meta.dirname, "../../../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");
const MAIN = join(import.meta.dirname, "main.ts");

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The tool with `args`, as a person runs it; its exit code and output. */
function person(args: string[]): Promise<Ran> {
  return new Promise((done) => {
    execFile(TSX, [MAIN, ...args], { cwd: ROOT, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** The tool's one JSON line, failing with its stderr when it did not succeed. */
async function line<T>(args: string[]): Promise<T> {
  const ran = await person(args);
  // stderr is not checked for silence: SQLCipher warns there when the database opens.
  expect(ran.code, `person ${args[0]} failed: ${ran.stderr}`).toBe(0);
  return JSON.parse(ran.stdout) as T;
}

/** What `get` finds, once it finds something; fails after `ms`. */
async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await get();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${ms} ms)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let xmtp: XmtpPort | undefined;
let node: RunningDevnode | undefined;
let dir: string;
let cli: ConvosCli | undefined;
let ready: ReadyEvent;
let home: string;
let on: string[];
let bea: Person | undefined;

beforeAll(async () => {
  xmtp = await xmtpPortForTest({ timeoutMs: 30_000 });
  dir = await mkdtemp(join(tmpdir(), "person-tool-"));
  home = join(dir, "ada");
  node = await startDevnode({ port: xmtp.port, databaseUrl: await createTestDatabase("person_tool") });
  on = ["--home", home, "--api-url", node.url];
  cli = await ConvosCli.start(["agent", "serve", "--name", "Person tool", "--profile-name", "Host"], dir, {
    xmtpPort: xmtp.port,
  });
  ready = await cli.ready();
}, 90_000);

afterAll(async () => {
  await bea?.close();
  await cli?.stop();
  await node?.close();
  await xmtp?.release();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

describe("the person tool in a conversation of the real Convos CLI", () => {
  let inboxId: string;
  let said: string;
  let hostSaid: string;
  let reply: string;

  it("joins as a person: accepted by the creator, a name and no agent kind in its profile", {
    timeout: 120_000,
  }, async () => {
    const joined = await line<{ conversationId: string; inboxId: string }>([
      "join",
      ready.inviteUrl,
      "--name",
      "Ada",
      ...on,
    ]);
    expect(joined.conversationId).toBe(ready.conversationId);
    inboxId = joined.inboxId;
    await cli!.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === inboxId);
    const profile = await cli!.waitFor(
      "profile_update",
      (e) => e.event === "profile_update" && e.senderInboxId === inboxId,
    );
    expect(profile.name).toBe("Ada");
    // The CLI prints memberKind only when the update carries one: an agent's says 1.
    expect(profile).not.toHaveProperty("memberKind");
  });

  it("says a text that the creator reads from Ada, and is the same person on the next command", {
    timeout: 60_000,
  }, async () => {
    const from = cli!.events.length;
    said = (await line<{ id: string }>(["say", ready.conversationId, "hello from a person", ...on])).id;
    const m = await cli!.messageFrom(inboxId, from);
    expect(m).toMatchObject({ id: said, content: "hello from a person", senderProfile: { name: "Ada" } });
  });

  it("reacts to the creator's message as the apps do, and takes the reaction back", { timeout: 90_000 }, async () => {
    hostSaid = (await cli!.sendMessage("was that helpful?")).id;
    const from = cli!.events.length;
    await line<{ id: string }>(["react", ready.conversationId, hostSaid, "👍", ...on]);
    const reacted = await cli!.waitFor<MessageEvent>(
      "the reaction",
      (e) =>
        e.event === "message" && e.senderInboxId === inboxId && (e as MessageEvent).contentType.typeId === "reaction",
      { from },
    );
    expect(reacted.content).toBe(`reacted 👍 to ${hostSaid}`);
    const back = cli!.events.length;
    await line<{ id: string }>(["react", ready.conversationId, hostSaid, "👍", "--remove", ...on]);
    const removed = await cli!.waitFor<MessageEvent>(
      "the reaction taken back",
      (e) =>
        e.event === "message" && e.senderInboxId === inboxId && (e as MessageEvent).contentType.typeId === "reaction",
      { from: back },
    );
    expect(removed.content).toBe(`removed 👍 to ${hostSaid}`);
  });

  it("replies to the creator's message (a correction)", { timeout: 60_000 }, async () => {
    const from = cli!.events.length;
    reply = (
      await line<{ id: string }>(["say", ready.conversationId, "no, it is Tuesday", "--reply-to", hostSaid, ...on])
    ).id;
    const m = await cli!.messageFrom(inboxId, from);
    expect(m).toMatchObject({ id: reply, content: "no, it is Tuesday", replyTo: hostSaid });
  });

  it("lists what was said, oldest first, and what came after a message", { timeout: 60_000 }, async () => {
    const lines = (ran: Ran) =>
      ran.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as CliEvent);
    const all = await person(["messages", ready.conversationId, ...on]);
    expect(all.code).toBe(0);
    expect(lines(all)).toEqual([
      { id: said, sender: inboxId, text: "hello from a person" },
      { id: hostSaid, sender: ready.inboxId, text: "was that helpful?" },
      { id: reply, sender: inboxId, text: "no, it is Tuesday", replyTo: hostSaid },
    ]);
    const after = await person(["messages", ready.conversationId, "--after", hostSaid, ...on]);
    expect(lines(after)).toEqual([{ id: reply, sender: inboxId, text: "no, it is Tuesday", replyTo: hostSaid }]);
    // The conversations Ada is in: this one, the creator and her.
    expect(lines(await person(["conversations", ...on]))).toEqual([
      { id: ready.conversationId, name: expect.any(String), members: 2 },
    ]);
  });

  it("waits for what someone else says, and only as long as it was told", { timeout: 90_000 }, async () => {
    // Ada's own words do not end the wait; the host's later words with the text do.
    const waiting = person([
      "messages",
      ready.conversationId,
      "--after",
      reply,
      "--wait",
      "30",
      "--containing",
      "noon",
      ...on,
    ]);
    await new Promise((r) => setTimeout(r, 3_000));
    await line<{ id: string }>(["say", ready.conversationId, "and at noon?", ...on]);
    const hostLater = (await cli!.sendMessage("yes, at noon")).id;
    const waited = await waiting;
    expect(waited.code).toBe(0);
    expect(waited.stdout).toContain(hostLater);
    const none = await person(["messages", ready.conversationId, "--after", hostLater, "--wait", "2", ...on]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/nothing was said by anyone else in 2 s/);
  });

  it("fails clearly: usage (exit 2), and a reason (exit 1)", { timeout: 60_000 }, async () => {
    const usage = await person(["say", ready.conversationId, ...on]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/say takes 2 argument\(s\), got 1[\s\S]*usage: npm run -s person/);
    expect((await person(["join", ready.inviteUrl, ...on])).code).toBe(2);

    const stranger = await person([
      "say",
      ready.conversationId,
      "hi",
      "--home",
      join(dir, "nobody"),
      "--api-url",
      node!.url,
    ]);
    expect(stranger).toMatchObject({ code: 1, stdout: "" });
    expect(stranger.stderr).toMatch(/no person in .*nobody: run join/);

    const elsewhere = await person(["messages", "0".repeat(32), ...on]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/not in conversation 0{32}/);
  });

  it("plays Ada's phone: what it shares is read decoded, and what is asked of it is answered as told", {
    timeout: 180_000,
  }, async () => {
    // Bea, who reads and asks as an agent would: in the conversation before the phone speaks, to read it.
    bea = await Person.join(ready.inviteUrl, { name: "Bea", apiUrl: node!.url, dir, timeoutMs: 60_000 });
    const calendar = {
      summary: "1 event on Friday",
      events: [{ title: "Dentist", startDate: "2026-12-04T10:00:00Z" }],
    };
    const shared = await line<{ id: string }>([
      "phone-share",
      ready.conversationId,
      "calendar",
      "--data",
      JSON.stringify(calendar),
      ...on,
    ]);
    const payload = await until("Ada's calendar with Bea", async () => {
      await bea!.group.sync();
      return (await bea!.group.messages()).find((m) => m.id === shared.id);
    });
    expect(payload.senderInboxId).toBe(inboxId);
    expect(payload.contentType?.typeId).toBe("connection_payload");
    expect(payload.content as ConnectionPayload).toMatchObject({
      source: "calendar",
      body: { type: "calendar", data: calendar },
    });

    // Bea asks Ada's phone to add an event, and for a capability; Ada's phone has Calendar → Create off.
    await bea.group.send(
      new ConnectionInvocationCodec().encode({
        id: "INV-1",
        schemaVersion: 1,
        invocationId: "inv-1",
        kind: "calendar",
        action: { name: "create_event", arguments: { title: { type: "string", value: "Lunch with Bea" } } },
        issuedAt: dateToSwiftReference(new Date()),
      }),
    );
    await bea.group.send(
      new CapabilityRequestCodec().encode({
        version: 1,
        requestId: "req-1",
        askerInboxId: bea.inboxId,
        subject: "calendar",
        capability: "write_create",
        rationale: "To add our lunch",
      }),
    );
    const ran = await person([
      "phone-answer",
      ready.conversationId,
      "--status",
      "capability_not_enabled",
      "--pick",
      "denied",
      "--wait",
      "30",
      ...on,
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    const lines = ran.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        id: expect.any(String),
        from: bea.inboxId,
        kind: "calendar",
        action: "create_event",
        arguments: { title: "Lunch with Bea" },
        answered: { status: "capability_not_enabled" },
      },
      {
        id: expect.any(String),
        from: bea.inboxId,
        subject: "calendar",
        capability: "write_create",
        rationale: "To add our lunch",
        answered: { pick: "denied" },
      },
    ]);
    const answers = await until("Ada's phone's answers with Bea", async () => {
      await bea!.group.sync();
      const from = (await bea!.group.messages()).filter((m) => m.senderInboxId === inboxId);
      const result = from.find((m) => m.contentType?.typeId === "connection_invocation_result");
      const picked = from.find((m) => m.contentType?.typeId === "capability_request_result");
      return result && picked ? { result, picked } : undefined;
    });
    expect(answers.result.content as ConnectionInvocationResult).toMatchObject({
      invocationId: "inv-1",
      kind: "calendar",
      actionName: "create_event",
      status: "capability_not_enabled",
      result: {},
    });
    expect(answers.picked.content as CapabilityRequestResult).toMatchObject({
      requestId: "req-1",
      status: "denied",
      providers: [],
    });

    // Answered once: the next phone-answer finds nothing new, and says so when told to wait for something.
    expect(await person(["phone-answer", ready.conversationId, ...on])).toMatchObject({ code: 0, stdout: "" });
    const none = await person(["phone-answer", ready.conversationId, "--wait", "1", ...on]);
    expect(none).toMatchObject({ code: 1, stdout: "" });
    expect(none.stderr).toMatch(/nothing was asked of the phone in 1 s/);
  });
});
