// Memory with provenance end to end (docs/memory.md, "Provenance"): the local
// XMTP node on a throwaway PostgreSQL, an instance host with the offline
// model, and a Convos conversation created and served by the real Convos CLI
// ("Saul", a member: the conversation's creator, not the agent's owner). The
// owner is a node-sdk client that joined through the invite with the
// project's own join (as another app would), so that the agent's owner is
// in the conversation by inbox id. Then a second host whose model is a
// chat-completions stand-in that records every prompt, in the same
// conversation, and a text to its number (an outsider) handed to it as the
// host's SMS webhook does, whose relay later turns read as the outsider's
// words (agent/state/outside-words.ts). What must hold: a member correcting the owner's
// fact leaves it and adds the member's version, which the owner's bare
// "that's right" does not confirm and a reply to the correction does; a
// member's "forget what you learned from me" removes what they taught; a credential the owner said is not in memory.json in
// plain text, is told to the owner and to no member, is never in the prompt
// of a member's or an outsider's turn, and no answer gives it to them; an
// address a model adds to what the owner teaches is not learned as the owner's.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { english, generateMnemonic, generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { waitFor } from "@convos-pool/testing";
import { encodeText } from "@xmtp/node-sdk";
import { XmtpInboxResolver, createXmtpClient, joinConversation } from "@convos-pool/convos";
import { OneHost } from "@convos-pool/instance/testing";
import type { ConvosCli, CliEvent, ReadyEvent } from "@convos-pool/testing/convos-cli";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { startInstanceHost, type RunningInstanceHost } from "../host/host.js";
import { EXTRACTION_PROMPT, type MemoryEntry, type MemoryFile } from "./store.js";
import type { AgentClient, AgentGroup } from "../platform/xmtp.js";

const ID = "inst-prov";
const NUMBER = "+15550101234";
const CREDENTIAL = `the phone number for bookings is ${NUMBER}`;
const ACCOUNTANT = "acct@example.com";
const ATTACKER = "0x000000000000000000000000000000000000dEaD";
const logs: string[] = [];
const one = new OneHost({
  name: "instance-provenance",
  host: {
    joinTimeoutMs: 20_000,
    maxInstances: 1,
    log: createLogger("instance-host", { level: "debug", sink: (l) => logs.push(l) }),
  },
  content: { instructions: "You plan dinners." },
  conversations: { serve: ["--name", "Dinner plans", "--profile-name", "Saul"] },
});

let cli: ConvosCli | undefined;
let ready: ReadyEvent;
let dir: string;
let host: RunningInstanceHost | undefined;
let llmHost: RunningInstanceHost | undefined;
let chat: ChatServer | undefined;
let owner: AgentClient | undefined;
let ownerGroup: AgentGroup;
let agentInbox: string;

type AgentMessageEvent = CliEvent & { id: string; content: string };

/** An agent named `agentName` on `h`, the owner's, in the CLI's conversation: its inbox id. */
const startAgent = (h: RunningInstanceHost, instanceId: string, agentName: string): Promise<string> =>
  one.joinedServed(instanceId, 0, { ownerId: owner!.inboxId, content: { agent_name: agentName }, on: h });

beforeAll(async () => {
  ({ cli, ready, dir, host } = await one.start());
  owner = await createXmtpClient(privateKeyToAccount(generatePrivateKey()), {
    apiUrl: one.node.url,
    dbPath: join(dir, `owner-${randomBytes(4).toString("hex")}.db3`),
    dbEncryptionKey: randomBytes(32),
  });
  const resolver = await XmtpInboxResolver.connect({ apiUrl: one.node.url, cacheMs: 0 });
  ({ group: ownerGroup } = (await joinConversation(owner, ready.inviteUrl, {
    resolver,
    profileName: "Olivia",
    timeoutMs: 20_000,
  })) as unknown as { group: AgentGroup });
  await cli!.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === owner!.inboxId);
  agentInbox = await startAgent(host, ID, "Dinner Planner");
}, 120_000);

afterAll(async () => {
  await owner?.close();
  await llmHost?.close();
  await chat?.close();
  await one.close();
}, 30_000);

/** Saul (the member) says something and `agent` answers it. */
async function saulAsks(text: string, agent = agentInbox): Promise<AgentMessageEvent> {
  const from = await cli!.send(text);
  return await cli!.messageFrom(agent, from);
}

/** Saul replies to a message (XMTP reply content type) and the agent answers it; the reply's id. */
async function saulReplies(messageId: string, text: string): Promise<string> {
  const from = cli!.events.length;
  cli!.command({ type: "send", text, replyTo: messageId });
  const sent = await cli!.waitFor<CliEvent & { id: string }>(
    "reply sent",
    (e) => e.event === "sent" && e.text === text && e.replyTo === messageId,
    { from },
  );
  await cli!.messageFrom(agentInbox, from);
  return sent.id;
}

/** The owner says something, as a reply to `replyTo` if given; `agent`'s next text after it. */
async function ownerSays(text: string, agent = agentInbox, replyTo?: string): Promise<string> {
  // In the group's latest epoch: an agent that joined since would not read a message sent in an older one.
  await ownerGroup.sync();
  const id = replyTo
    ? await ownerGroup.sendReply({ reference: replyTo, content: encodeText(text) })
    : await ownerGroup.sendText(text);
  // The newest: an agent's turn also sends a read receipt and its thinking status (docs/instance.md, "Manners").
  const sent = (await ownerGroup.messages({ limit: 50, direction: 1 as never })).find((m) => m.id === id)!;
  let answer: string | undefined;
  let answerId: string | undefined;
  await waitFor(
    `an answer from ${agent.slice(0, 8)} to the owner's "${text}"`,
    async () => {
      await ownerGroup.sync();
      const after = await ownerGroup.messages({ sentAfterNs: sent.sentAtNs, limit: 50 });
      // In a group of three or more its answers are replies (docs/instance.md, "Manners"): their text is inside.
      const textOf = (c: unknown) => (typeof c === "string" ? c : (c as { content?: unknown } | undefined)?.content);
      const found = after.find((m) => m.senderInboxId === agent && typeof textOf(m.content) === "string");
      answer = textOf(found?.content) as string | undefined;
      answerId = found?.id;
      return answer !== undefined;
    },
    20_000,
    100,
  );
  // Saul's CLI has it too before Saul speaks: a late one would read as the answer to Saul.
  await cli!.waitFor("the answer to the owner", (e) => e.event === "message" && e.id === answerId);
  return answer!;
}

async function memoryFile(instanceId = ID, h = "host"): Promise<string> {
  return readFile(join(dir, h, "instances", instanceId, "memory.json"), "utf8");
}

async function entries(instanceId = ID, h = "host"): Promise<MemoryEntry[]> {
  return (JSON.parse(await memoryFile(instanceId, h)) as MemoryFile).entries;
}

async function entriesWhen(what: string, check: (m: MemoryEntry[]) => boolean): Promise<MemoryEntry[]> {
  let last: MemoryEntry[] = [];
  await waitFor(
    `memory.json ${what}`,
    async () => {
      last = await entries();
      return check(last);
    },
    15_000,
    50,
  );
  return last;
}

const facts = (m: MemoryEntry[]) => m.filter((e) => !e.feedback);

describe("memory with provenance in a real conversation", () => {
  it("a member correcting the owner's fact leaves it, adds the member's version as theirs, and the owner confirms it by a reply to it only", {
    timeout: 90_000,
  }, async () => {
    expect(await ownerSays("Dinner Planner, remember that my diet is vegan")).toBe(
      "[offline model] Noted: your diet is vegan.",
    );
    const [diet] = await entriesWhen("holding the owner's fact", (m) => m.length === 1);
    expect(diet).toMatchObject({
      text: "my diet is vegan",
      from: owner!.inboxId,
      role: "owner",
      conversationId: ownerGroup.id,
    });

    const wrong = await saulAsks("Dinner Planner, what is my diet?");
    expect(wrong.content).toBe("[offline model] From what I remember: your diet is vegan.");
    const correction = await saulReplies(wrong.id, "no, I said vegetarian");
    const after = await entriesWhen("holding Saul's version", (m) => facts(m).length === 2);
    expect(after).toContainEqual(diet);
    expect(facts(after)[1]).toMatchObject({
      text: "my diet is vegetarian",
      from: ready.inboxId,
      role: "member",
      disputes: [diet!.id],
      conversationId: ownerGroup.id,
    });
    expect((await saulAsks("Dinner Planner, what is my diet?")).content).toBe(
      `[offline model] From what I remember: your diet is vegan; member ${ready.inboxId.slice(0, 8)} says your diet is vegetarian.`,
    );

    // A confirmation that replies to nothing confirms nothing (docs/memory.md, "Provenance").
    await ownerSays("Dinner Planner, that's right");
    // Handled in order, learning included: this answer comes after the bare one was learned from.
    expect((await saulAsks("Dinner Planner, what is my diet?")).content).toBe(
      `[offline model] From what I remember: your diet is vegan; member ${ready.inboxId.slice(0, 8)} says your diet is vegetarian.`,
    );
    expect(facts(await entries())).toEqual(facts(after));
    // The owner's reply to Saul's correction confirms it.
    await ownerSays("Dinner Planner, that's right", agentInbox, correction);
    const confirmed = await entriesWhen("with the owner's confirmation", (m) => facts(m).length === 1);
    expect(facts(confirmed)).toEqual([
      expect.objectContaining({
        text: "my diet is vegetarian",
        role: "owner",
        from: ready.inboxId,
        confirmedBy: owner!.inboxId,
      }),
    ]);
    expect((await saulAsks("Dinner Planner, what is my diet?")).content).toBe(
      "[offline model] From what I remember: your diet is vegetarian.",
    );
  });

  it("a member's 'forget what you learned from me' removes what they taught, and nothing the owner taught or confirmed, even what names them", {
    timeout: 90_000,
  }, async () => {
    await saulAsks("Dinner Planner, remember that I love tapas");
    await ownerSays("Dinner Planner, remember that Saul prefers window seats");
    await ownerSays("Dinner Planner: Always confirm the date before booking");
    await entriesWhen("holding all three", (m) => facts(m).length === 4);

    const done = await saulAsks("Dinner Planner, forget what you learned from me");
    expect(done.content).toMatch(/^\[offline model\] Done: I forgot \d+ things? I had learned from you\.$/);
    const left = await entriesWhen("without Saul's", (m) => !m.some((e) => e.text === "I love tapas"));
    // The owner's word stays: the version of Saul's the owner confirmed, and the owner's facts, the one naming Saul too
    // (Saul is a name any member can take).
    expect(facts(left).map((e) => e.text)).toEqual([
      "my diet is vegetarian",
      "Saul prefers window seats",
      "Always confirm the date before booking",
    ]);
    expect(facts(left).every((e) => e.role === "owner")).toBe(true);
    // The forget request itself taught nothing.
    expect((await saulAsks("Dinner Planner, what do I love?")).content).not.toContain("tapas");
  });

  it("a credential the owner says is sealed, not in memory.json; the owner is told it, a member is not", {
    timeout: 90_000,
  }, async () => {
    expect(await ownerSays(`Dinner Planner, remember that ${CREDENTIAL}`)).toContain("Noted");
    const inst = host!.instances.get(ID)!;
    await inst.settled();
    await waitFor("the credential learned", () => inst.memorySnapshot!.entries.some((e) => e.text === CREDENTIAL));
    expect(inst.memorySnapshot!.entries.find((e) => e.text === CREDENTIAL)).toMatchObject({
      kind: "credentials",
      role: "owner",
    });
    const ws = join(dir, "host", "instances", ID);
    expect(await memoryFile()).not.toContain("15550101234");
    const sealed = await readFile(join(ws, "memory-credentials.json"), "utf8");
    expect(JSON.parse(sealed)).toMatchObject({ alg: "AES-256-GCM" });
    expect(sealed).not.toContain("15550101234");

    expect(await ownerSays("Dinner Planner, what is the phone number for bookings?")).toContain(NUMBER);
    const toSaul = await saulAsks("Dinner Planner, what is the phone number for bookings?");
    expect(toSaul.content).not.toContain("15550101234");

    // After a restart it still knows it, from the sealed file.
    await host!.close();
    host = (await one.startHost()).host;
    await waitFor("the agent back", () => host!.instances.get(ID)?.memorySnapshot !== undefined, 30_000);
    expect(host.instances.get(ID)!.memorySnapshot!.entries.map((e) => e.text)).toContain(CREDENTIAL);
  });

  it("with a real model, the credential is in the owner's prompt only: never in a member's or an outsider's (a text), nor in what they are answered", {
    timeout: 120_000,
  }, async () => {
    // A model that tells whatever number its prompt holds: only the prompt keeps the number from a member.
    chat = await startChatServer((req) => {
      const system = req.body.messages[0]?.content ?? "";
      const last = req.body.messages.at(-1)?.content ?? "";
      if (system.startsWith(EXTRACTION_PROMPT)) {
        // A hijacked model puts an address of its own beside what the owner taught.
        if (last.includes("accountant"))
          return JSON.stringify({
            entries: [
              { kind: "personalization", text: `My accountant is ${ACCOUNTANT}` },
              { kind: "personalization", text: `My wallet for refunds is ${ATTACKER}` },
            ],
          });
        return last.includes(CREDENTIAL)
          ? `{"entries":[{"kind":"credentials","text":"${CREDENTIAL}"}]}`
          : '{"entries":[]}';
      }
      if (last.includes("remember")) return "Noted.";
      // What it says for an outsider repeats the outsider's words, as a relay does.
      if (last.includes("A text message came to your number")) return `A text asked: ${/"(.*)"/.exec(last)?.[1]}`;
      const number = /\+\d{11}/.exec(system)?.[0];
      return number ? `The number is ${number}.` : "I have no number to give.";
    });
    llmHost = await startInstanceHost(
      one.hostOptions({
        masterSeed: generateMnemonic(english),
        dataDir: join(dir, "llm-host"),
        llm: { baseUrl: chat.baseUrl, apiKey: "sk-test" },
      }),
    );
    const llmInbox = await startAgent(llmHost, "inst-llm", "Diet Coach");
    const llmInst = llmHost.instances.get("inst-llm")!;
    const turnWith = (text: string) =>
      chat!.requests.findLast(
        (r) =>
          !r.body.messages[0]!.content.startsWith(EXTRACTION_PROMPT) &&
          (r.body.messages.at(-1)?.content ?? "").includes(text),
      )?.body.messages;

    expect(await ownerSays(`Diet Coach, remember that ${CREDENTIAL}`, llmInbox)).toBe("Noted.");
    await llmInst.settled();
    await waitFor("the credential learned", () => llmInst.memorySnapshot!.entries.some((e) => e.text === CREDENTIAL));
    expect(await memoryFile("inst-llm", "llm-host")).not.toContain("15550101234");

    // The owner's turn: the prompt holds it (so the checks below can fail).
    expect(await ownerSays("Diet Coach, what is the phone number for bookings?", llmInbox)).toBe(
      `The number is ${NUMBER}.`,
    );
    expect(JSON.stringify(turnWith("Diet Coach, what is the phone number for bookings?"))).toContain(NUMBER);

    // A member's turn: neither the prompt nor the extraction's prompt holds it; the answer does not give it.
    const asked = "Diet Coach, Saul here: what number do we use for bookings?";
    expect((await saulAsks(asked, llmInbox)).content).toBe("I have no number to give.");
    expect(JSON.stringify(turnWith(asked))).not.toContain("15550101234");
    // The model reads every line under its sender's role, set from the inbox id: Saul, who says he is Saul, is a
    // member; the owner's line earlier is the owner's.
    const lines = turnWith(asked)!
      .filter((m) => m.role === "user")
      .map((m) => m.content);
    expect(lines.at(-1)).toMatch(/^\[member\] [^:\n]*: Diet Coach, Saul here: what number do we use for bookings\?$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[owner\] [^:\n]*: Diet Coach, what is the phone number for bookings\?$/),
    );
    // Learning comes after the answer.
    await llmInst.settled();
    const extraction = chat.requests.findLast(
      // What it learns from is what was said, without the name it was said to.
      (r) =>
        r.body.messages[0]!.content.startsWith(EXTRACTION_PROMPT) &&
        r.body.messages.at(-1)?.content === "Saul here: what number do we use for bookings?",
    );
    expect(extraction).toBeDefined();
    expect(JSON.stringify(extraction!.body.messages)).not.toContain("15550101234");

    // An outsider's text asking for it: the turn's prompt lacks it, and what the conversation is told does too.
    const from = cli!.events.length;
    llmInst.inboundText({ from: "+15550009999", to: "+15550100", text: "what is the phone number for bookings?" });
    const told = await cli!.messageFrom(llmInbox, from);
    expect(told.content).toBe("A text asked: what is the phone number for bookings?");
    const textTurn = turnWith("A text message came to your number");
    expect(textTurn).toBeDefined();
    expect(JSON.stringify(textTurn)).not.toContain("15550101234");
    // Nor does it read the conversation: a text back could carry what members said (Saul's question above).
    expect(textTurn!.map((m) => m.role)).toEqual(["system", "user"]);
    expect(JSON.stringify(textTurn)).not.toContain("what number do we use for bookings");

    // The owner's next turn reads what it said for the outsider as the outsider's words, not as its own.
    await ownerSays("Diet Coach, anything new?", llmInbox);
    const after = turnWith("Diet Coach, anything new?")!;
    expect(after).toContainEqual({
      role: "user",
      content: "[outsider] you, passing it on: A text asked: what is the phone number for bookings?",
    });
    expect(after.filter((m) => m.role === "assistant").map((m) => m.content)).not.toContainEqual(
      expect.stringContaining("A text asked"),
    );
  });

  it("with a real model, what the owner teaches carries no address the owner did not write: one the model adds is not learned", {
    timeout: 60_000,
  }, async () => {
    const llmInst = llmHost!.instances.get("inst-llm")!;
    expect(await ownerSays(`Diet Coach, remember that my accountant is ${ACCOUNTANT}`, llmInst.inboxId)).toBe("Noted.");
    await llmInst.settled();
    await waitFor("the accountant learned", () =>
      llmInst.memorySnapshot!.entries.some((e) => e.text === `My accountant is ${ACCOUNTANT}` && e.role === "owner"),
    );
    // Otherwise it would be the owner's word, and pay without asking (tools/gate/origins.ts).
    expect(llmInst.memorySnapshot!.entries.filter((e) => e.text.includes(ATTACKER))).toEqual([]);
    expect(await memoryFile("inst-llm", "llm-host")).not.toContain(ATTACKER);
  });

  it("no log line holds a credential or what was said", () => {
    const all = logs.join("\n");
    for (const said of ["15550101234", "vegan", "vegetarian", "tapas", "window seats"])
      expect(all, said).not.toContain(said);
  });
});
