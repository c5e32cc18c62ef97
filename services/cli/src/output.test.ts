// What `pool` prints (main.ts `printed`, command-line/views.ts): for a
// person by default, a table for a list and a line or a few for one thing;
// with `--json` the gateway's JSON exactly as before, for scripts; errors the
// same either way. Real: the CLI as `pool` runs it, its key file; stand-in:
// the gateway's answers (test/stand-in-gateway.ts), shaped as docs/rest.md
// says.
import { describe, expect, it } from "vitest";
import { json, standInGateway } from "../test/stand-in-gateway.js";
import { run } from "./main.js";

const g = standInGateway();

const AGENTS = {
  agents: [
    {
      id: "inst_Q2w3E4r5T6y7U8i9",
      template_id: "tmpl_4Qb1x9ZkT2mW7cPa",
      owner_id: "inbox_saul",
      agent_name: "Trip Planner",
      conversation_name: "Japan trip",
      state: "INSTANCE_STATE_ACTIVE",
      trust_level: "L2",
      daily_spend_limit_wei: "50000000000000000",
      permissions: { member_sms: "ask" },
      tools: [],
    },
  ],
  next_cursor: "c2",
};

const TEMPLATE = {
  id: "tmpl_4Qb1x9ZkT2mW7cPa",
  agent_name: "Trip Planner",
  instructions: "Plan trips.\nAsk before booking.",
  visibility: "public",
  status: "active",
  version: 2,
  created_at: "2026-11-29T08:00:00.000Z",
};

/** A key, and the session its first signed-in read makes. */
async function signedIn(): Promise<void> {
  await g.keygen();
  g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
}

describe("what pool prints", () => {
  it("lists my agents as a table for a person: names first, states in words, ids last, the next page's cursor", async () => {
    await signedIn();
    g.replies.push(json(200, AGENTS));
    expect(await run(["agents"], g.io())).toBe(0);
    expect(g.stdout().split("\n")).toEqual([
      "AGENT NAME    CONVERSATION NAME  STATE   TRUST LEVEL  TEMPLATE ID            ID",
      "Trip Planner  Japan trip         active  L2           tmpl_4Qb1x9ZkT2mW7cPa  inst_Q2w3E4r5T6y7U8i9",
      "",
      "More: --cursor c2",
      "",
    ]);
  });

  it("prints the gateway's JSON exactly as it came with --json, wherever on the line", async () => {
    await signedIn();
    g.replies.push(json(200, AGENTS), json(200, AGENTS));
    expect(await run(["--json", "agents"], g.io())).toBe(0);
    expect(g.stdout()).toBe(`${JSON.stringify(AGENTS, null, 2)}\n`);
    g.out = [];
    expect(await run(["agents", "--json"], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toEqual(AGENTS);
  });

  it("cuts a list to the terminal's width, and not when stdout is no terminal", async () => {
    await signedIn();
    g.replies.push(json(200, AGENTS), json(200, AGENTS));
    expect(await run(["agents"], g.io({ columns: 60 }))).toBe(0);
    const narrow = g.stdout().split("\n");
    // The ids are copied whole; the names give way.
    expect(narrow[1]).toMatch(/…\s.*tmpl_4Qb1x9ZkT2mW7cPa {2}inst_Q2w3E4r5T6y7U8i9$/);
    g.out = [];
    expect(await run(["agents"], g.io())).toBe(0);
    expect(g.stdout()).toContain("Trip Planner  Japan trip");
  });

  it("says in one line what a template is now after a command wrote it", async () => {
    await g.keygen();
    g.replies.push(json(200, { ...TEMPLATE, version: 3, visibility: "private", status: "archived" }));
    expect(await run(["archive", TEMPLATE.id, "--version", "2"], g.io())).toBe(0);
    expect(g.stdout()).toBe("Trip Planner  tmpl_4Qb1x9ZkT2mW7cPa  version 3, private, archived\n");
  });

  it("shows one thing as its fields, its name first, its times readable, text of several lines below them as it is", async () => {
    g.replies.push(json(200, TEMPLATE));
    expect(await run(["get", TEMPLATE.id], g.io())).toBe(0);
    expect(g.stdout().split("\n")).toEqual([
      "agent name:  Trip Planner",
      "visibility:  public",
      "status:      active",
      "version:     2",
      "created:     2026-11-29 08:00 UTC",
      "id:          tmpl_4Qb1x9ZkT2mW7cPa",
      "instructions:",
      "  Plan trips.",
      "  Ask before booking.",
      "",
    ]);
  });

  it("prints what is for a machine as JSON with or without --json: sign's signature object", async () => {
    await g.keygen();
    const fields = JSON.stringify({ templateId: TEMPLATE.id, version: 2, visibility: "public" });
    expect(await run(["sign", "SetTemplateVisibility", fields], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toHaveProperty("signature");
  });

  it("prints an error's body as JSON on stderr, with or without --json", async () => {
    const error = { code: "not_found", message: "template not found" };
    g.replies.push(json(404, error), json(404, error));
    expect(await run(["get", TEMPLATE.id], g.io())).toBe(1);
    expect(JSON.parse(g.stderr())).toEqual(error);
    g.err = [];
    expect(await run(["--json", "get", TEMPLATE.id], g.io())).toBe(1);
    expect(JSON.parse(g.stderr())).toEqual(error);
    expect(g.stdout()).toBe("");
  });
});
