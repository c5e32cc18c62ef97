// People's phones, end to end (docs/connections.md): a trip planner whose
// template declares the calendar and contacts, in a Convos conversation of
// its owner (Saul, a Convos CLI) and two people who joined by invite as the
// apps do: Ana, whose phone shares her calendar (a test phone on the node
// SDK with the Convos CLI's codecs: @convos-pool/convos/phone), and Bea,
// whose phone shares nothing. The model here does whatever it reads: it
// repeats every calendar detail its prompt holds and calls what it is told
// to. The pool holds it: Ana's calendar reaches the model only in Ana's
// turns, goes to the group only when Ana asks to share it, and stays with
// the agent (and its check) across a restart of its host. Her phone is
// written to only on her own request, and only once Bea has left (Convos
// sends a write to every phone here that has the capability on, and Bea's
// might), each answer's status read as the protocol says.
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHOOSER_PROMPT, chooseByRuleAnswer, WITHHELD_OTHERS, type Agent } from "@convos-pool/instance";
import { waitFor } from "@convos-pool/testing";
import type { Person } from "@convos-pool/convos/person";
import { Phone } from "@convos-pool/convos/phone";
import { startChatServer, type ChatServer, type RecordedRequest } from "@convos-pool/testing/chat-server";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { PeopleStack } from "./people-stack.js";

const CALENDAR = ["read", "write_create", "write_update", "write_delete"];
const people = new PeopleStack({
  stack: {
    name: "connections-e2e",
    conversationName: "Lisbon trip",
    // Many turns in a minute, each a few model calls: no model budget to turn one away (budget.ts has its own tests).
    host: { joinTimeoutMs: 15_000, llmLimits: { callsPerMinute: 0 } },
    claims: { pool: { target: 1 } },
  },
  template: {
    agent_name: "Planner",
    tools: [],
    connections: [
      { kind: "calendar", capabilities: CALENDAR, reason: "To plan around your week and add what we book" },
      { kind: "contacts", capabilities: ["write_create"], reason: "To save the people we meet" },
    ],
  },
  people: ["Ana", "Bea"],
});
const stack = people.stack;

const EVENTS = [
  { title: "Dentist appointment", location: "Mission Dental", startDate: "2026-05-01T10:00:00+01:00" },
  { title: "Board review with Kestrel", startDate: "2026-05-01T14:00:00+01:00" },
];
const ONCOLOGY = {
  title: "Oncology follow-up",
  location: "St. Mary's, 3rd floor",
  startDate: "2026-05-01T16:00:00+01:00",
};
const FLIGHT = {
  title: "Flight TP 1234",
  start: "2026-05-02T09:00:00+01:00",
  end: "2026-05-02T11:00:00+01:00",
  time_zone: "Europe/Lisbon",
};
let ana: Person;
let bea: Person;
let phone: Phone;
let agent: Agent;
let chat: ChatServer;
/** What the model saw of a calendar last: it keeps it, turn after turn. */
let remembered: string[] = [];

/** Every text the model was given in `r`. */
const everything = (r: RecordedRequest) => r.body.messages.map((m) => m.content ?? "").join("\n");
/** The calendar titles a prompt holds: what a model that repeats what it reads would say. */
const titlesIn = (r: RecordedRequest) =>
  [...everything(r).matchAll(/\\?"title\\?":\\?"([^"\\]+)/g)].map((m) => m[1] ?? "");

beforeAll(async () => {
  ({ agent } = await people.start());
  ana = people.person("Ana");
  bea = people.person("Bea");
  chat = await startChatServer((r) => {
    const system = r.body.messages[0]?.content ?? "";
    if (system.startsWith("You maintain the long-term memory")) return '{"entries":[]}';
    const last = r.body.messages.at(-1);
    if (system.startsWith(CHOOSER_PROMPT)) return chooseByRuleAnswer(last?.content ?? "");
    if (last?.role === "tool") return `Tool: ${last.content}`;
    const text = last?.content ?? "";
    const call = (name: string, args: Record<string, unknown>) => ({ toolCalls: [{ name, arguments: args }] });
    if (text.includes("add the flight to my calendar")) return call("add_calendar_event", FLIGHT);
    if (text.includes("add a meeting to Ana's calendar")) return call("add_calendar_event", FLIGHT);
    if (text.includes("delete the dentist event")) return call("delete_calendar_event", { event_id: "evt-dentist" });
    if (text.includes("save Rita as a contact"))
      return call("add_contact", { given_name: "Rita", email: "rita@example.com" });
    // A hijacked model: in a turn that asks for nothing, it deletes an event all the same.
    if (text.includes("what is the weather")) return call("delete_calendar_event", { event_id: "evt-dentist" });
    if (text.includes("may I see your contacts"))
      return call("ask_phone_access", { kind: "contacts", capability: "write_create", reason: "To save Rita" });
    // Whatever else: it repeats every calendar detail it can see, or saw in an earlier turn (a model that keeps its
    // own session, as OpenClaw's does).
    const titles = titlesIn(r);
    if (titles.length) remembered = titles;
    return remembered.length ? `Here is the calendar: ${remembered.join("; ")}.` : "I see no calendar.";
  });
  await stack.host!.close();
  await stack.startHost({ llm: { baseUrl: chat.baseUrl, apiKey: "sk-local-test" } });
  await waitFor("the agent back", () => people.agent.health().state === InstanceState.CLAIMED, 30_000);
  agent = people.agent;
  phone = new Phone(ana);
  await phone.publish("calendar", { summary: "2 events on Friday", events: EVENTS });
  await waitFor("Ana's calendar with the agent", () => agent.phoneKinds(ana.inboxId).includes("calendar"), 30_000);
}, 240_000);

afterAll(async () => {
  phone?.stop();
  await chat?.close();
  await people.close();
}, 60_000);

/** What `who` says, and the agent's answer to it as Ana's app shows it. */
async function turn(who: Person, text: string, answer: RegExp): Promise<string> {
  const sent = await who.send(`Planner, ${text}`);
  return (await ana.heard(agent.inboxId, sent, answer, 60_000)).text;
}

describe("what Ana's phone shares is Ana's", () => {
  it("reaches the model in Ana's turn only, and a reply that repeats it is not posted unless she asks to share it", {
    timeout: 120_000,
  }, async () => {
    const before = chat.requests.length;
    const withheld = await turn(ana, "when am I free on Friday?", /Here is|not posted|no calendar/);
    expect(withheld).toMatch(
      /^Ana, my answer repeated details from your phone's calendar, which you share only with me/,
    );
    expect(withheld).not.toMatch(/Dentist|Kestrel|Mission/);
    // The model had it, labelled as hers: in her turn.
    const anas = chat.requests.slice(before).find((r) => everything(r).includes("Dentist appointment"));
    expect(everything(anas!)).toContain("It is Ana's alone");
    // Bea asks. The model is never given Ana's calendar in Bea's turn; this one kept it from Ana's turn and repeats
    // it all the same: what it says is not posted.
    const beas = chat.requests.length;
    expect(await turn(bea, "what is on Ana's calendar on Friday?", /calendar|posted/)).toBe(WITHHELD_OTHERS);
    expect(chat.requests.slice(beas).some((r) => /Dentist|Kestrel/.test(everything(r)))).toBe(false);
    expect((await bea.texts()).some((x) => /Dentist|Kestrel|Mission Dental/.test(x.text))).toBe(false);
    // Ana asks to share: now it goes to the group.
    expect(await turn(ana, "share my Friday with the group", /Here is|not posted/)).toBe(
      "Here is the calendar: Dentist appointment; Board review with Kestrel.",
    );
  });

  it("is still the agent's, and still Ana's alone, after its host restarts: kept in the conversation's folder, sealed", {
    timeout: 120_000,
  }, async () => {
    // Her phone shares one more event, which her turn reads (and the model keeps); not posted, as she did not ask.
    await phone.publish("calendar", { summary: "3 events on Friday", events: [...EVENTS, ONCOLOGY] });
    await sleep(2_000);
    expect(await turn(ana, "when am I free on Friday afternoon?", /Here is|not posted/)).toMatch(/^Ana, my answer/);
    await stack.host!.close();
    await stack.startHost({ llm: { baseUrl: chat.baseUrl, apiKey: "sk-local-test" } });
    await waitFor("the agent back", () => people.agent.health().state === InstanceState.CLAIMED, 30_000);
    agent = people.agent;
    // Her phone has sent nothing since, and its payload is behind the agent's read position: the agent read it back.
    await waitFor("Ana's calendar read back", () => agent.phoneKinds(ana.inboxId).includes("calendar"), 30_000);
    // The model kept what it read before the restart (as a runtime with a session of its own may); the new event was
    // never said here: not posted.
    expect(await turn(bea, "what is on Ana's calendar on Friday?", /calendar|posted/)).toBe(WITHHELD_OTHERS);
  });
});

describe("writes to a phone are Ana's acts", () => {
  it("not while Bea is here, though her phone shares nothing; nor on Bea's word, nor on the model's alone", {
    timeout: 90_000,
  }, async () => {
    expect(await turn(ana, "add the flight to my calendar", /^Tool:/)).toMatch(
      /Calendar → Create on, and I cannot tell that only Ana's would get it/,
    );
    expect(await turn(bea, "add a meeting to Ana's calendar", /^Tool:/)).toMatch(/I cannot tell that only Bea's/);
    expect(await turn(ana, "what is the weather in Lisbon on Friday?", /^Tool:/)).toMatch(
      /I change Ana's Calendar only when their own message asks me to/,
    );
    await sleep(1_000);
    expect(phone.invocations).toHaveLength(0);
  });

  it("once Bea has left, Ana's own request adds the flight to her calendar: Convos' invocation, her phone's answer read", {
    timeout: 90_000,
  }, async () => {
    await people.ownerCli.run(["conversation", "remove-members", stack.ready.conversationId, bea.inboxId]);
    const reply = await turn(ana, "add the flight to my calendar", /^Tool:/);
    expect(reply).toMatch(/"ok":true.*done on Ana's phone \(eventId: evt-/);
    expect(phone.invocations.at(-1)).toMatchObject({
      from: agent.inboxId,
      kind: "calendar",
      action: { name: "create_event", arguments: { title: { type: "string", value: "Flight TP 1234" } } },
    });
  });

  it("a capability turned off mid-flow: Ana is told once, naming it, and her phone is not asked again until it shares the calendar", {
    timeout: 120_000,
  }, async () => {
    phone.answer = () => ({ status: "capability_revoked" });
    const sent = phone.invocations.length;
    const from = await ana.send("Planner, delete the dentist event");
    const told = await ana.heard(agent.inboxId, from, /turned on for this conversation/, 60_000);
    expect(told.text).toBe(
      "Ana, to do that I need Calendar → Delete turned on for this conversation in Convos (its Connections settings). I won't ask your phone again until you do.",
    );
    await ana.heard(agent.inboxId, from, /^Tool:/, 60_000);
    expect(await turn(ana, "please delete the dentist event", /^Tool:/)).toMatch(/I wait until they turn it on/);
    expect(phone.invocations).toHaveLength(sent + 1);
    // She turns it on: her phone shares its calendar again, and the agent asks it again.
    phone.answer = () => ({ status: "success", result: {} });
    await phone.publish("calendar", { summary: "2 events on Friday", events: EVENTS });
    await sleep(1_000);
    expect(await turn(ana, "ok, delete the dentist event now", /^Tool:/)).toMatch(/done on Ana's phone/);
    expect(phone.invocations).toHaveLength(sent + 2);
  });

  it("every other status the protocol lists, as the agent reads it", { timeout: 120_000 }, async () => {
    phone.answer = () => ({ status: "execution_failed", errorMessage: "The contact store is read-only" });
    expect(await turn(ana, "save Rita as a contact", /^Tool:/)).toMatch(
      /Ana's phone could not do it: The contact store is read-only; do not try again/,
    );
    phone.answer = () => ({ status: "unknown_action" });
    expect(await turn(ana, "save Rita as a contact again", /^Tool:/)).toMatch(/Ana's Convos cannot create contact/);
  });

  it("asks for a capability with its reason on Ana's phone, and reads her pick", { timeout: 90_000 }, async () => {
    expect(await turn(ana, "may I see your contacts?", /^Tool:/)).toMatch(
      /Ana let me use their Contacts \(Create\) here/,
    );
    expect(phone.requests.at(-1)).toMatchObject({
      from: agent.inboxId,
      askerInboxId: agent.inboxId,
      subject: "contacts",
      capability: "write_create",
      rationale: "To save Rita",
    });
  });
});
