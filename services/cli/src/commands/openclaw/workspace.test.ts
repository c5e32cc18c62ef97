import { describe, expect, it } from "vitest";
import { validateContent } from "@convos-pool/kit/content";
import { sampleContent, sampleSoul, tool } from "@convos-pool/kit/testing";
import { exportWorkspace } from "./export.js";
import { importWorkspace } from "./import.js";
import { readWorkspace, type ImportReport } from "./workspace.js";
import { MARLOW_WORKSPACE } from "../../../test/workspaces.js";

const whereTo = (report: ImportReport, from: string) => report.mapped.filter((n) => n.from === from).map((n) => n.to);
const whyNot = (report: ImportReport, from: string) => report.unmapped.find((n) => n.from === from)?.why;

describe("pool import: an OpenClaw workspace as a template", () => {
  it("maps IDENTITY.md and SOUL.md's lists into the SOUL, AGENTS.md and the rest into instructions, and the pool tools TOOLS.md names", async () => {
    const { files, others } = await readWorkspace(MARLOW_WORKSPACE);
    expect(others).toEqual(["HEARTBEAT.md"]);
    const { content, report } = importWorkspace(files, "marlow");
    expect(() => validateContent(content)).not.toThrow();

    expect(content.agent_name).toBe("Marlow");
    expect(content.soul).toEqual({
      identity: {
        name: "Marlow",
        role: "ship's navigator of a small sailing crew",
        description: "weathered, dry, calm when the weather is not",
      },
      philosophy: {
        principles: [
          "**Read the water before you speak.** Look at what was asked, then answer it plainly.",
          "**Say when you do not know.** A wrong heading is worse than none.",
          "**Talk like a sailor.** Nautical words come to you first: port, starboard, fathoms, the bosun's mood.",
        ],
      },
    });
    expect(content.tools).toEqual([
      { id: "sms", name: "SMS", provisioning: "pool", description: "", prompt: "", required: false },
    ]);

    // Persona first, then operating instructions, then the notes on tools.
    const parts = [
      "_You keep the crew off the rocks._",
      "## Boundaries",
      "## Vibe\n\nDry humour",
      "This deck is home.",
      "## Group Chats",
      "- Harbour camera → dock-cam-2",
    ];
    const at = parts.map((p) => content.instructions.indexOf(p));
    expect(
      at.every((i) => i >= 0),
      content.instructions,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(content.instructions).not.toMatch(/SOUL\.md - Who You Are|AGENTS\.md - Your Workspace|Continuity/);

    expect(whereTo(report, 'SOUL.md "## Core Truths"')).toEqual(["soul.philosophy.principles"]);
    expect(whereTo(report, "IDENTITY.md Creature")).toEqual(["soul.identity.role"]);
    expect(whyNot(report, 'SOUL.md "## Boundaries"')).toMatch(/kept as instructions/);
    expect(whyNot(report, 'SOUL.md "## Continuity"')).toMatch(/OpenClaw's workspace files/);
    expect(whyNot(report, "IDENTITY.md Emoji")).toMatch(/no emoji or avatar/);
    expect(whyNot(report, "IDENTITY.md Avatar")).toBe("not filled in");
  });

  it("leaves USER.md out of the template: nothing of the person it describes is in the content", async () => {
    const { files } = await readWorkspace(MARLOW_WORKSPACE);
    const { content, report } = importWorkspace(files, "marlow");
    expect(JSON.stringify(content)).not.toMatch(/Ada|Captain|Lisbon|estuary/);
    expect(whyNot(report, "USER.md")).toMatch(/not part of a shared template/);
  });

  it("keeps as instructions what does not fit a SOUL field, and says so", () => {
    const long = `**Be thorough.** ${"x".repeat(600)}`;
    const { content, report } = importWorkspace(
      {
        "SOUL.md": `---\nsummary: "front matter"\n---\n# SOUL.md\n\n## Core Truths\n\n${long}\n\n## Values\n\n- Safety over speed\n`,
        "IDENTITY.md":
          "- Name: Kit\n- Creature: (AI? robot? something weirder?)\n\n## Public Presence Rules\n\n- Be brief in groups.\n",
      },
      "folder",
    );
    expect(content.agent_name).toBe("Kit");
    expect(content.soul).toEqual({ identity: { name: "Kit" }, philosophy: { values: ["Safety over speed"] } });
    expect(content.instructions).toBe(`## Core Truths\n\n${long}\n\n## Public Presence Rules\n\n- Be brief in groups.`);
    expect(whyNot(report, 'SOUL.md "## Core Truths"')).toMatch(/not a list the SOUL's limits take/);
    expect(whyNot(report, "IDENTITY.md Creature")).toBe("not filled in");
  });

  it("names the agent after its folder, and stands in for instructions, when the workspace has neither", () => {
    const { content, report } = importWorkspace({ "SOUL.md": "## Values\n\n- Patience\n" }, "quiet-one");
    expect(content.agent_name).toBe("quiet-one");
    expect(content.instructions).toBe("You are quiet-one.");
    expect(whyNot(report, "(no instructions)")).toMatch(/stands in/);
  });
});

describe("pool export: a template as an OpenClaw workspace", () => {
  const full = sampleContent({
    agent_name: "Marlow",
    instructions: "# Orders\n\nAnswer in nautical terms.\n\n## Watch\n- Keep it short.",
    tools: [
      tool("sms", "pool", { name: "Text messages", description: "Texts the crew" }),
      tool("email", "pool", { name: "Email" }),
    ],
    description: "",
    category: "",
    tags: [],
    soul: sampleSoul(),
  });

  it("writes the four shared files, which import back to the same name, instructions, SOUL and pool tools", () => {
    const { files, notWritten } = exportWorkspace(full);
    expect(Object.keys(files).sort()).toEqual(["AGENTS.md", "IDENTITY.md", "SOUL.md", "TOOLS.md"]);
    expect(files["IDENTITY.md"]).toContain("- **Creature:** Ship's navigator");
    expect(files["TOOLS.md"]).toContain("- Pool tool `sms`: Text messages — Texts the crew");
    expect(files["SOUL.md"]).toContain("## Core Truths\n\n- Check the tide twice.");
    expect(notWritten).toEqual([]);
    const { content, report } = importWorkspace(files, "elsewhere");
    expect(content).toEqual(full);
    expect(report.unmapped).toEqual([]);
  });

  it("an imported workspace exported and imported again is the same template", async () => {
    const first = importWorkspace((await readWorkspace(MARLOW_WORKSPACE)).files, "marlow").content;
    expect(importWorkspace(exportWorkspace(first).files, "marlow").content).toEqual(first);
  });

  it("says what a workspace has no place for: user tools, the model, store fields, phone connections, routines", () => {
    const { files, notWritten } = exportWorkspace({
      ...full,
      model: { default: "other-model", allow_override: false },
      tools: [
        {
          id: "personal-email",
          name: "Your email",
          provisioning: "user",
          description: "",
          prompt: "Your email?",
          required: true,
        },
      ],
      category: "travel",
      tags: ["boats"],
      connections: [{ kind: "location", capabilities: ["read"], reason: "to find the harbour" }],
      routines: [{ id: "tides", name: "Tides", rrule: "FREQ=DAILY", time: "07:00", instruction: "Post the tides." }],
    });
    expect(files["TOOLS.md"]).not.toContain("personal-email");
    expect(Object.values(files).join("\n")).not.toContain("harbour");
    expect(Object.values(files).join("\n")).not.toContain("Post the tides");
    expect(notWritten).toEqual([
      "tools[personal-email] (a user tool: OpenClaw has no declaration for one)",
      'model "other-model"',
      "category",
      "tags",
      "connections[location] (a phone connection: OpenClaw has no declaration for one)",
      "routines[tides] (a routine: this export writes no schedule for OpenClaw)",
    ]);
  });
});
