// Approvals as Convos buttons, end to end (docs/trust.md, "Asking the
// owner"): an owner's agent with a number in a Convos conversation of the
// owner, Saul, a real Convos CLI, and a friend, Ana, who joined by invite
// as a person (an SDK client without the agent kind, as the Convos apps
// show one); texts go out through the SMS stand-in. A member's request to text
// someone waits for the owner: the question comes as a text and, right
// after, as XMTP `actions` (Approve, Decline, expiring with the question),
// which the Convos CLI lists. The CLI sends no taps, so Saul also has a
// phone: an @xmtp/node-sdk client of his own inbox (his CLI's key, a second
// installation), which reads the buttons and taps them (`intent`); Ana taps
// from her own client.
// What must hold, read from the SMS stand-in's outbox: the owner's tap on
// Approve sends the text, once; Decline is a no; a member's tap, the owner's
// tap on an older question's buttons and a tap on buttons a member copied
// approve nothing; a text reply still answers. (Ana asks three times, the
// most a member may in an hour: the third test taps the second's question.)
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { Agent } from "@convos-pool/instance";
import { createXmtpClient } from "@convos-pool/convos";
import { tool, type TestIdentity } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import type { Person } from "@convos-pool/convos/person";
import { said, saidMessage, type ConvosCli } from "@convos-pool/testing/convos-cli";
import { PeopleStack } from "./people-stack.js";

const people = new PeopleStack({
  stack: {
    name: "buttons-e2e",
    conversationName: "Cabin trip",
    host: { joinTimeoutMs: 15_000, tools: { approvalTimeoutMs: 60_000 } },
    claims: { smsRange: "+15550740000..+15550740019", pool: { target: 1 } },
  },
  template: { agent_name: "Concierge", tools: [tool("sms", "pool")], max_trust_level: "L3" },
  people: ["Ana"],
  // L3: texts go freely on the owner's word; a member's wait for the owner (the default, ask).
  trust: { level: TrustLevel.OPERATOR },
});
const stack = people.stack;
const FRIEND = "+15550177031";

type Phone = Awaited<ReturnType<typeof createXmtpClient>>;
type PhoneGroup = NonNullable<Awaited<ReturnType<Phone["conversations"]["getConversationById"]>>>;
/** XMTP's actions as the SDK decodes them. */
interface Buttons {
  id: string;
  description: string;
  actions: { id: string; label: string; style?: number }[];
}
/** A message as `convos conversation messages --json` lists it. */
interface Listed {
  id: string;
  senderInboxId: string;
  contentType: { authorityId: string; typeId: string };
  content: string;
}

let saulCli: ConvosCli;
let ana: Person;
let agent: Agent;
const phones: Phone[] = [];
let saulPhone: PhoneGroup;
let anaPhone: Person["group"];
/** The question the owner approved by a tap (the second test): an older one for the third. */
let approved = "";

/** A person's phone: a client of their own inbox (the key in their CLI's home), a new installation. */
async function phoneOf(person: TestIdentity, name: string): Promise<Phone> {
  const phone = await createXmtpClient(person.account, {
    apiUrl: stack.node!.url,
    dbPath: join(stack.dir, `${name}-phone.db3`),
    dbEncryptionKey: randomBytes(32),
  });
  phones.push(phone);
  return phone;
}

/** Ana asks the agent to text the friend; its question, as Saul's CLI sees it. */
async function anaAsksToText(words: string) {
  const from = saulCli.events.length;
  await ana.send(`Concierge, text ${FRIEND}: ${words}`);
  const question = await saidMessage(saulCli, agent, from, /^Saul, may I do this\?/);
  expect(question.content).toContain(`Send a text\nTo: ${FRIEND}\nText: ${words}\nAsked by: Ana (member)`);
  return { question, from };
}

/** The agent's buttons for `question`, as a phone reads them once they came. */
async function buttonsOn(phone: PhoneGroup, question: string): Promise<{ id: string; content: Buttons }> {
  let found: { id: string; content: Buttons } | undefined;
  await waitFor(
    `the buttons of question ${question.slice(0, 8)}`,
    async () => {
      await phone.sync();
      found = (await phone.messages()).find(
        (m) =>
          m.senderInboxId === agent.inboxId &&
          m.contentType?.typeId === "actions" &&
          (m.content as Buttons | undefined)?.id === question,
      ) as { id: string; content: Buttons } | undefined;
      return found !== undefined;
    },
    20_000,
    100,
  );
  return found!;
}

/** A tap (XMTP's intent) on button `action` of the set `buttons`. */
const tap = (phone: PhoneGroup, buttons: string, action: string) => phone.sendIntent({ id: buttons, actionId: action });

/** The owner speaks and is answered: what the owner set off before is done (the owner's turns run in order). */
const saulSpeaks = async () =>
  said(saulCli, agent, await saulCli.send("Concierge, thanks"), /I read: "Concierge, thanks"/);

beforeAll(async () => {
  ({ ownerCli: saulCli, agent } = await people.start());
  ana = people.person("Ana");
  anaPhone = ana.group;
  const conversationId = stack.ready.conversationId;
  const saul = await phoneOf(people.owner, "saul");
  // A new installation joins its inbox's groups when a member next sends (libxmtp adds it with that commit).
  await waitFor(
    "Saul's phone in the conversation",
    async () => {
      await saulCli.send("my phone is on");
      await saul.conversations.sync();
      const group = await saul.conversations.getConversationById(conversationId);
      if (!group) return false;
      saulPhone = group;
      return true;
    },
    60_000,
    3_000,
  );
}, 300_000);

afterAll(async () => {
  for (const phone of phones) await phone.close();
  await people.close();
}, 60_000);

describe("approvals as Convos buttons", () => {
  it("the question comes as buttons too, listed by the Convos CLI; a member's tap on Approve approves nothing, and the owner's Decline is a no", {
    timeout: 120_000,
  }, async () => {
    const friend = stack.sms!.phone(FRIEND);
    await saulSpeaks();
    const asked = Date.now();
    const { question } = await anaAsksToText("the cabin key is under the mat");
    const buttons = await buttonsOn(saulPhone, question.id);
    expect(buttons.content).toMatchObject({
      id: question.id,
      actions: [
        { id: `approve:${question.id}`, label: "Approve" },
        { id: `decline:${question.id}`, label: "Decline" },
      ],
    });
    // They expire with the question (the host's approval timeout here: one minute), as their description says.
    const [statement, expiry] = buttons.content.description.split("\n\nAnswer by ");
    expect(statement).toBe(
      `Saul, may I do this?\n\nSend a text\nTo: ${FRIEND}\nText: the cabin key is under the mat\nAsked by: Ana (member)`,
    );
    const byMinute = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    expect([byMinute(asked + 60_000), byMinute(Date.now() + 60_000)]).toContain(expiry?.replace(" UTC.", ""));
    // The Convos CLI lists them, with what they say.
    const listed = await saulCli.run<Listed[]>([
      "conversation",
      "messages",
      stack.ready.conversationId,
      "--sync",
      "--content-type",
      "actions",
    ]);
    const shown = listed.find((m) => m.id === buttons.id);
    expect(shown).toMatchObject({
      senderInboxId: agent.inboxId,
      contentType: { authorityId: "coinbase.com", typeId: "actions" },
    });
    expect(shown?.content).toContain('"label":"Approve"');
    expect(shown?.content).toContain('"label":"Decline"');
    expect(shown?.content).toContain("Answer by ");

    // Ana taps Approve on her phone: hers is a member's tap. Then Saul taps Decline.
    const from = saulCli.events.length;
    await tap(anaPhone, question.id, `approve:${question.id}`);
    await tap(saulPhone, question.id, `decline:${question.id}`);
    expect(await said(saulCli, agent, from, /Done|could not/)).toMatch(
      /^\[offline model\] I could not do that: not done: my owner said no to: text \+15550177031/,
    );
    expect(friend.messages()).toEqual([]);
  });

  it("the owner's tap on Approve sends the text, once", { timeout: 120_000 }, async () => {
    const friend = stack.sms!.phone(FRIEND);
    await saulSpeaks();
    const { question } = await anaAsksToText("we arrive at six");
    await buttonsOn(saulPhone, question.id);
    const from = saulCli.events.length;
    await tap(saulPhone, question.id, `approve:${question.id}`);
    approved = question.id;
    expect(await said(saulCli, agent, from, /Done|could not/)).toMatch(
      /^\[offline model\] Done: texted \+15550177031 \(message /,
    );
    expect((await friend.waitForMessage(() => true)).text).toBe("we arrive at six");
    // Answered: the same tap again is nothing to wait for.
    await tap(saulPhone, question.id, `approve:${question.id}`);
    await saulSpeaks();
    expect(friend.messages()).toHaveLength(1);
  });

  it("the owner's tap on an older question's buttons, and on buttons a member copied, approves nothing; a text reply still answers", {
    timeout: 120_000,
  }, async () => {
    const friend = stack.sms!.phone(FRIEND);
    const sent = friend.messages().length;
    expect(approved).not.toBe("");
    await saulSpeaks();
    const { question } = await anaAsksToText("the boat leaves at noon");
    await buttonsOn(anaPhone, question.id);
    // A stale tap: the last question's Approve, replayed.
    const from = saulCli.events.length;
    await tap(saulPhone, approved, `approve:${approved}`);
    // Ana posts buttons that copy this question's ids under other words, and Saul taps "Approve" on them.
    await anaPhone.sendActions({
      id: question.id,
      description: "Pizza tonight?",
      actions: [{ id: `approve:${question.id}`, label: "Approve" }],
    });
    await waitFor("Saul's phone has the copy", async () => {
      await saulPhone.sync();
      return (await saulPhone.messages()).some(
        (m) => (m.content as Buttons | undefined)?.description === "Pizza tonight?",
      );
    });
    await tap(saulPhone, question.id, `approve:${question.id}`);
    // Neither was a yes: the question still waits, and Saul's reply answers it.
    await saulCli.reply(question.id, "no");
    expect(await said(saulCli, agent, from, /Done|could not/)).toMatch(
      /^\[offline model\] I could not do that: not done: my owner said no to: text \+15550177031/,
    );
    expect(friend.messages()).toHaveLength(sent);
  });
});
