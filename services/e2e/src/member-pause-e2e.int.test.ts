// Any member can pause it; only the owner turns it back on, end to end:
// Saul (a real Convos CLI serving the conversation) owns an agent claimed
// into it, and Ana joined by the invite as a person (an @xmtp/node-sdk client
// that joins without the agent kind, as the Convos apps do). Scout, who
// declares the agent kind, says "stop": nothing changes. Ana's "stop"
// pauses it there at once and it says so; nothing said there is answered;
// Ana's "resume" is told once that only the owner can; asked what it may do,
// it says it is paused and by whom; the pause holds across a host restart;
// Saul's "resume" turns it back on.
// Real: PostgreSQL, the XMTP node, the instance host, the claims and template
// services, the Convos CLI. The offline model reads each message back
// ("I read: …").
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { readHome, type Agent } from "@convos-pool/instance";
import { tool } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import type { ConvosCli } from "@convos-pool/testing/convos-cli";
import type { Person, Sent } from "@convos-pool/convos/person";
import { PeopleStack } from "./people-stack.js";

const people = new PeopleStack({
  stack: {
    name: "member-pause-e2e",
    conversationName: "Picnic",
    host: { joinTimeoutMs: 15_000 },
    claims: { smsRange: "+15550740000..+15550740009", pool: { target: 1 } },
  },
  template: { agent_name: "Concierge", tools: [tool("sms", "pool")] },
  people: ["Ana"],
});
const stack = people.stack;

let saulCli: ConvosCli;
let ana: Person;
/** The agent as the host runs it now (a restarted host runs a new one). */
const agent = (): Agent => people.agent;

/** Waits until the agent has handled the message `m` (its conversation's state.json reads past it). */
const handled = (m: Sent) =>
  waitFor(
    "the agent to have handled it",
    async () => BigInt((await readHome(agent().ws))?.lastSeenNs ?? "0") >= m.sentAtNs,
    30_000,
  );

/** What the agent said after `after`, as Ana's client has it. */
const agentSaidAfter = async (after: Sent) =>
  (await ana.texts(after)).filter((t) => t.senderInboxId === agent().inboxId).map((t) => t.text);

/** What Saul said, as Ana's client has it: the last text of his that matches `text`. */
async function saulSaid(text: string): Promise<Sent> {
  const from = saulCli.events.length;
  await saulCli.send(text);
  let found: Sent | undefined;
  await waitFor("Ana to have Saul's message", async () => {
    const m = (await ana.texts()).findLast((t) => t.senderInboxId === people.owner.inboxId && t.text === text);
    found = m && { id: m.id, sentAtNs: m.sentAtNs };
    return found !== undefined;
  });
  expect(saulCli.events.length).toBeGreaterThan(from);
  return found!;
}

beforeAll(async () => {
  await people.start();
  saulCli = people.ownerCli;
  ana = people.person("Ana");
}, 240_000);

afterAll(() => people.close(), 60_000);

describe("any member can pause it; only the owner turns it back on", () => {
  let paused: Sent;

  it("another agent's stop pauses nothing, even said at once after its profile: Ana is answered after it", {
    timeout: 90_000,
  }, async () => {
    // Scout joins as the apps do and then declares the agent kind, as an agent's client does.
    const scout = await people.join("Scout");
    await scout.announce({ name: "Scout", agent: true });
    const stop = await scout.send("stop");
    const asked = await ana.send("Concierge, hello from Ana");
    await ana.heard(agent().inboxId, asked, /hello from Ana/);
    expect((await agentSaidAfter(stop)).filter((t) => /Paused/.test(t))).toEqual([]);
  });

  it("Ana's stop pauses it at once: it says so once, naming her and that only its owner turns it back on, and answers nothing more there", {
    timeout: 60_000,
  }, async () => {
    const stop = await ana.send("stop");
    const said = await ana.heard(agent().inboxId, stop, /^Paused, as /);
    expect(said.text).toMatch(
      /^Paused, as (Ana|member [0-9a-f]{8}) asked: I say nothing more here until my owner turns me back on/,
    );
    paused = stop;
    // A member naming it, a second stop, and its owner's own words: none answered.
    await ana.send("stop");
    const named = await ana.send("Concierge, are you there?");
    await handled(named);
    const saul = await saulSaid("Concierge, plan the picnic");
    await handled(saul);
    expect(await agentSaidAfter(stop)).toEqual([said.text]);
  });

  it("Ana's resume changes nothing, and she is told once that only the owner can", { timeout: 60_000 }, async () => {
    const resume = await ana.send("resume");
    const told = await ana.heard(agent().inboxId, resume, /only my owner can turn me back on/);
    expect(told.text).toMatch(/^I stay paused: (Ana|member [0-9a-f]{8}) paused me here/);
    await ana.send("Concierge, resume");
    const named = await ana.send("Concierge, what about sandwiches?");
    await handled(named);
    expect(await agentSaidAfter(resume)).toEqual([told.text]);
  });

  it("asked what it may do here while paused, it says it is paused, by whom, before its statement", {
    timeout: 60_000,
  }, async () => {
    const asked = await ana.send("Concierge, what can you do here?");
    const told = await ana.heard(agent().inboxId, asked, /^I am paused here/);
    expect(told.text).toMatch(
      /^I am paused here: (Ana|member [0-9a-f]{8}) paused me, and only my owner can turn me back on\.\n\n\S/,
    );
  });

  it("stays paused after a host restart", { timeout: 120_000 }, async () => {
    const before = agent();
    await stack.host!.close();
    await stack.startHost();
    expect(agent()).not.toBe(before);
    await waitFor("the agent back in its conversation", () => agent().health().state === InstanceState.CLAIMED, 60_000);
    const named = await ana.send("Concierge, still there after the restart?");
    await handled(named);
    expect(await agentSaidAfter(named)).toEqual([]);
    expect((await agentSaidAfter(paused)).filter((t) => t.includes("after the restart"))).toEqual([]);
  });

  it("Saul's resume turns it back on: it says so, and answers again", { timeout: 60_000 }, async () => {
    const resume = await saulSaid("resume");
    await ana.heard(agent().inboxId, resume, /^My owner turned me back on here\./);
    const asked = await ana.send("Concierge, are we back?");
    // The offline model's answer, whatever it is: paused, it said nothing at all.
    await ana.heard(agent().inboxId, asked, /^\[offline model\]/);
  });
});
