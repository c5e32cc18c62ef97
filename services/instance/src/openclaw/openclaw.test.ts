// The OpenClaw runtime's pure parts, in memory: the files it writes from a
// signed release and how a changed one is caught, MEMORY.md to and from typed
// entries and as a turn of one conversation writes it, what a turn sends to a gateway that keeps the session, and the
// gateway's configuration (its own tools off, no secret in the file).
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SoulSchema, TemplateContentSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { Memory } from "../memory/store.js";
import { turnMessages } from "../model/prompt.js";
import type { HistoryLine, TurnInput } from "../model/turn.js";
import type { Role } from "../platform/roles.js";
import { DENIED_TOOLS, gatewayConfig, gatewayEnv, TOKEN_ENV, UPSTREAM_KEY_ENV } from "./config.js";
import { AGENTS_MD, alteredFiles, entriesFromMemoryMd, memoryMd, signedFiles } from "./files.js";
import { memoryMdOf, openClawTurnMessages } from "./provider.js";
import { marked, untold, type SessionMark } from "./sessions.js";
import { memoryIn } from "../memory/walls.js";
import { gatewayPaths } from "./gateway.js";

const content = create(TemplateContentSchema, {
  agentName: "Trip Planner",
  instructions: "You plan trips for groups.",
  soul: create(SoulSchema, { philosophy: { principles: ["Never book without asking"] } }),
});

describe("the signed files", () => {
  it("IDENTITY.md holds the name and instructions, SOUL.md the SOUL, AGENTS.md the pool's rules", () => {
    const files = signedFiles(content);
    expect(files["IDENTITY.md"]).toBe("# Trip Planner\n\nYou plan trips for groups.\n");
    expect(files["SOUL.md"]).toContain("Never book without asking");
    expect(files["SOUL.md"]).not.toContain("You plan trips");
    expect(files["AGENTS.md"]).toBe(AGENTS_MD);
  });

  it("a template without a SOUL still gets a SOUL.md, pointing at IDENTITY.md", () => {
    const files = signedFiles(create(TemplateContentSchema, { agentName: "Plain", instructions: "Be plain." }));
    expect(files["SOUL.md"]).toContain("IDENTITY.md");
  });

  it("a file changed by one byte, or missing, is caught; the files as written are not", () => {
    const expected = signedFiles(content);
    expect(alteredFiles(expected, { ...expected })).toEqual([]);
    expect(alteredFiles(expected, { ...expected, "IDENTITY.md": `${expected["IDENTITY.md"]} ` })).toEqual([
      "IDENTITY.md",
    ]);
    expect(alteredFiles(expected, { "IDENTITY.md": expected["IDENTITY.md"], "SOUL.md": expected["SOUL.md"] })).toEqual([
      "AGENTS.md",
    ]);
  });
});

describe("MEMORY.md and typed entries", () => {
  const owner = "a".repeat(64);
  const member = "b".repeat(64);
  const memory = new Memory();
  memory.add([
    { kind: "training", text: "Always confirm the date before booking", role: "owner", from: owner },
    { kind: "personalization", text: "I am vegetarian", role: "member", from: member },
    { kind: "personalization", text: "Ana likes trains" },
  ]);

  it("renders every entry by kind, with who taught it, and reads back the same kinds and texts", () => {
    const md = memoryMd(memory.render());
    expect(md).toMatch(/^# MEMORY\.md/);
    expect(md).toContain("Always confirm the date before booking (taught by your owner)");
    expect(entriesFromMemoryMd(md).map((e) => ({ kind: e.kind, text: e.text }))).toEqual([
      { kind: "training", text: "Always confirm the date before booking" },
      { kind: "personalization", text: "I am vegetarian" },
      { kind: "personalization", text: "Ana likes trains" },
    ]);
  });

  it("takes an OpenClaw agent's own MEMORY.md: bullets under a heading about people are personalization, others training", () => {
    const md =
      "# Memory\n\n## Lessons\n- Book trains early\n\n## About the user\n- Prefers window seats\n\nA paragraph.\n";
    expect(entriesFromMemoryMd(md)).toEqual([
      { kind: "training", text: "Book trains early", via: "rule" },
      { kind: "personalization", text: "Prefers window seats", via: "rule" },
    ]);
  });

  it("leaves out feedback and hints, which are not facts, and an empty memory's placeholder", () => {
    expect(entriesFromMemoryMd(memoryMd(new Memory().render()))).toEqual([]);
    const md = '## Feedback on your earlier answers\n\n- Your answer "x" was marked wrong.\n';
    expect(entriesFromMemoryMd(md)).toEqual([]);
  });
});

describe("MEMORY.md of a turn in one of the agent's conversations", () => {
  const owner = "a".repeat(64);
  const bea = "b".repeat(64);
  const walls = { ownerId: owner, home: "conv-a" };
  const memory = new Memory();
  memory.add([
    { kind: "personalization", text: "my flight is AF123", role: "owner", from: owner, conversationId: "conv-a" },
    { kind: "personalization", text: "Bea's door code is 7719", role: "member", from: bea, conversationId: "conv-a" },
    {
      kind: "personalization",
      text: "we land at 9",
      role: "member",
      from: bea,
      conversationId: "conv-a",
      sharedBy: owner,
    },
    {
      kind: "personalization",
      text: "Eve likes tapas",
      role: "member",
      from: "e".repeat(64),
      conversationId: "conv-b",
    },
    { kind: "credentials", text: "my PIN is 4321", role: "owner", from: owner, conversationId: "conv-a" },
  ]);
  const turn = (conversationId: string, role: Role): TurnInput => ({
    model: "m",
    agentName: "Trip Planner",
    identity: "",
    context: "",
    memory: memoryIn(memory, conversationId, walls),
    history: [{ role: "user", text: "what do you know?", sender: "Eve", speaker: "member" }],
    role,
  });

  it("holds what that conversation reads: the owner's own and what the owner shared, its members' words; nothing of another conversation's members", () => {
    const inB = entriesFromMemoryMd(memoryMdOf(turn("conv-b", "member"))).map((e) => e.text);
    expect(inB).toEqual(["my flight is AF123", "we land at 9", "Eve likes tapas"]);
    const inA = entriesFromMemoryMd(memoryMdOf(turn("conv-a", "member"))).map((e) => e.text);
    expect(inA).toEqual(["my flight is AF123", "Bea's door code is 7719", "we land at 9"]);
  });

  it("never a credential, even in the owner's turn; nothing in an outsider's", () => {
    expect(memoryMdOf(turn("conv-a", "owner"))).not.toContain("4321");
    expect(entriesFromMemoryMd(memoryMdOf(turn("conv-a", "outsider")))).toEqual([]);
  });
});

describe("a turn sent to a gateway that keeps its reader's session", () => {
  const history: HistoryLine[] = [
    { role: "user", text: "hello", sender: "Saul", speaker: "owner", at: 1_000 },
    { role: "assistant", text: "hi", at: 2_000 },
    { role: "user", text: "we go to Tokyo", sender: "Ana", speaker: "member", at: 3_000 },
    { role: "user", text: "Trip Planner, a restaurant?", sender: "Saul", speaker: "owner", at: 4_000 },
  ];
  const input: TurnInput = {
    model: "m",
    agentName: "Trip Planner",
    identity: "# Trip Planner\n\nSIGNED",
    context: "Your trust level is L2.",
    memory: new Memory(),
    history,
  };
  const sent = (mark?: SessionMark) =>
    openClawTurnMessages(input, turnMessages({ ...input, history: untold(history, mark) }));

  it("sends the pool's context as the system part and only what its session was not told, labelled", () => {
    const told = sent({ at: 2_000, answers: ["hi"] });
    expect(told).toEqual([
      { role: "system", content: "Your trust level is L2." },
      { role: "user", content: "[member] Ana: we go to Tokyo\n[owner] Saul: Trip Planner, a restaurant?" },
    ]);
    // IDENTITY.md is OpenClaw's to read from its workspace, checked there; it is not sent again.
    expect(JSON.stringify(told)).not.toContain("SIGNED");
  });

  it("tells a session new to the gateway (a spare taken at a wake, a person's first turn) the recent conversation, its own answers too", () => {
    expect(sent(undefined).at(-1)?.content).toBe(
      "[owner] Saul: hello\n[you] hi\n[member] Ana: we go to Tokyo\n[owner] Saul: Trip Planner, a restaurant?",
    );
  });

  it("tells a session the answers another session gave in its conversation since, never its own again", () => {
    // The owner's session answered "hi"; Ana's session was told up to her last line before it.
    expect(untold(history, { at: 1_000, answers: ["other"] }).map((h) => h.text)).toEqual([
      "hi",
      "we go to Tokyo",
      "Trip Planner, a restaurant?",
    ]);
    expect(untold(history, { at: 1_000, answers: ["hi"] }).map((h) => h.text)).not.toContain("hi");
  });

  it("marks what a turn told and its answer, keeping the newest line's time", () => {
    const mark = marked(undefined, history, "Sushi Dai");
    expect(mark).toEqual({ at: 4_000, answers: ["Sushi Dai"] });
    expect(untold(history, mark)).toEqual([]);
    expect(marked(mark, [], "again").at).toBe(4_000);
  });
});

describe("the gateway's configuration", () => {
  const paths = gatewayPaths("/data/instances/inst_1/openclaw");
  const config = gatewayConfig({ port: 40001, paths, upstreamBaseUrl: "http://127.0.0.1:9/v1", model: "gpt-oss-20b" });

  it("binds loopback with token auth, serves chat completions, turns its own tools, heartbeat, updates and telemetry off", () => {
    expect(config).toMatchObject({
      gateway: {
        bind: "loopback",
        port: 40001,
        auth: { mode: "token" },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
      telemetry: { enabled: false },
      update: { checkOnStart: false },
      logging: { file: paths.log },
      agents: { defaults: { workspace: paths.workspace, skipBootstrap: true, heartbeat: { every: "0m" } } },
      tools: { profile: "minimal" },
    });
    for (const group of ["group:runtime", "group:fs", "group:web"]) expect(DENIED_TOOLS).toContain(group);
  });

  it("holds no secret: the token and the model's key come from its environment", () => {
    const env = gatewayEnv(
      { paths, token: "tok-secret", upstreamApiKey: "sk-secret", nodeDir: "/opt/node/bin" },
      { PATH: "/usr/bin", LLM_API_KEY: "sk-host", POOL_MASTER_SEED: "seed" },
    );
    expect(JSON.stringify(config)).not.toMatch(/tok-secret|sk-secret/);
    expect(env[TOKEN_ENV]).toBe("tok-secret");
    expect(env[UPSTREAM_KEY_ENV]).toBe("sk-secret");
    // Nothing of the host's own environment but PATH: not its seed, not its keys.
    expect(env.POOL_MASTER_SEED).toBeUndefined();
    expect(env.LLM_API_KEY).toBeUndefined();
    expect(env).toMatchObject({ DO_NOT_TRACK: "1", OPENCLAW_NO_AUTO_UPDATE: "1", TMPDIR: paths.tmp, HOME: paths.home });
  });
});
