// A person who joined before the agent, named as the Convos apps name her
// (docs/trust.md, "Profiles and names"): Dee joins Saul's conversation and
// says her profile before the agent is there, so the agent never reads it;
// the profile snapshot that Saul's Convos CLI, the conversation's creator,
// sends as it lets the agent in names her. What must hold: the agent knows
// Dee by her name, as a person, and says it when she asks. Real: PostgreSQL,
// the XMTP node, the instance host, the claims and template services, the
// Convos CLI (Saul's, which sends the snapshot); Dee is a node-sdk client
// joined as the apps join; the offline model reads each message back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHome, type Agent } from "@convos-pool/instance";
import type { Person } from "@convos-pool/convos/person";
import { waitFor } from "@convos-pool/testing";
import { PeopleStack } from "./people-stack.js";

const people = new PeopleStack({
  stack: {
    name: "snapshot-e2e",
    conversationName: "Book club",
    host: { joinTimeoutMs: 15_000 },
    claims: { pool: { target: 1 } },
  },
  template: { agent_name: "Concierge", tools: [] },
  before: ["Dee"],
});

let agent: Agent;
let dee: Person;
const state = async () => (await readHome(agent.ws)) as { names: Record<string, string>; agents: string[] };

beforeAll(async () => {
  ({ agent } = await people.start());
  dee = people.person("Dee");
}, 240_000);

afterAll(() => people.close(), 60_000);

describe("a person who joined before the agent", () => {
  it("is known by the name the creator's snapshot gives her, as a person, though her own profile came before the agent", {
    timeout: 60_000,
  }, async () => {
    await waitFor("the agent to know Dee by name", async () => (await state()).names[dee.inboxId] === "Dee", 30_000);
    expect((await state()).agents).not.toContain(dee.inboxId);
    const asked = await dee.send("Concierge, hello");
    const heard = await dee.heard(agent.inboxId, asked, /hello/);
    expect(heard.text).toContain("hello");
  });
});
