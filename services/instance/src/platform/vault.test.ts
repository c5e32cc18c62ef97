// Sealing an agent's durable state (platform/vault.ts): real keys from a
// master seed, real AES-256-GCM and gzip, a real workspace in a temporary
// directory. Nothing stands in.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MasterSeed } from "@convos-pool/kit/signing";
import { walletAt } from "./keys.js";
import {
  ACTIVITY_LINES_KEPT,
  collectState,
  DURABLE_FILES,
  DURABLE_PATTERN,
  isDurableFile,
  MAX_SEALED_BYTES,
  openState,
  sealState,
  VAULT_FILE,
  VaultError,
  writeState,
  type AgentState,
} from "./vault.js";
import { conversationFile, FILES, Workspace } from "./workspace.js";

/** An XMTP group id: lowercase hex. */
const GROUP = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8";

const seed = MasterSeed.parse(`0x${"42".repeat(32)}`);
const key = walletAt(seed, 5).vaultKey();
const state: AgentState = {
  v: 1,
  instanceId: "inst-a",
  files: { [FILES.memory]: '{"entries":[{"text":"the boat is called Heron"}]}\n', [FILES.identity]: "# Ada\n" },
};

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function workspace(id: string): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "vault-test-"));
  dirs.push(dir);
  const ws = new Workspace(dir, id);
  await ws.create();
  return ws;
}

describe("sealing an agent's state", () => {
  it("opens as it was sealed, for the same instance and sequence", () => {
    const sealed = sealState(key, 7n, state);
    expect(openState(key, "inst-a", 7n, sealed)).toEqual(state);
  });

  it("the vault key is the wallet's own: another wallet's key does not open it", () => {
    const sealed = sealState(key, 7n, state);
    expect(() => openState(walletAt(seed, 6).vaultKey(), "inst-a", 7n, sealed)).toThrow(VaultError);
  });

  it("refuses a state sealed for another instance", () => {
    const sealed = sealState(key, 7n, state);
    expect(() => openState(key, "inst-b", 7n, sealed)).toThrow(/does not open as agent inst-b's at sequence 7/);
  });

  it("refuses a state sealed at another sequence (an old state passed off as the newest)", () => {
    const sealed = sealState(key, 7n, state);
    expect(() => openState(key, "inst-a", 8n, sealed)).toThrow(/does not open as agent inst-a's at sequence 8/);
  });

  it("refuses a state with any one byte altered", () => {
    const sealed = sealState(key, 7n, state);
    for (const at of [0, 4, 10, 20, sealed.length - 20, sealed.length - 1]) {
      const altered = Uint8Array.from(sealed);
      altered[at] = altered[at]! ^ 0x01;
      expect(() => openState(key, "inst-a", 7n, altered)).toThrow(VaultError);
    }
  });

  it("refuses to seal a state above the cap, and to open bytes above it", () => {
    // Random bytes do not compress: the sealed state is as large as they are.
    const big: AgentState = { ...state, files: { [FILES.memory]: randomBytes(MAX_SEALED_BYTES).toString("base64") } };
    expect(() => sealState(key, 1n, big)).toThrow(/above the 2097152 a state may be/);
    expect(() => openState(key, "inst-a", 1n, new Uint8Array(MAX_SEALED_BYTES + 1))).toThrow(VaultError);
  });

  it("compresses: a state of repetitive memory seals far smaller than it is", () => {
    const memory = JSON.stringify({ entries: Array.from({ length: 2000 }, (_, i) => ({ text: `lesson ${i % 10}` })) });
    const sealed = sealState(key, 1n, { ...state, files: { [FILES.memory]: memory } });
    expect(sealed.length).toBeLessThan(memory.length / 5);
  });
});

describe("what is in an agent's state", () => {
  it("the durable files, but not its XMTP database, its dormancy or its vault sequence", async () => {
    const ws = await workspace("inst-a");
    await ws.writeJson(FILES.instance, { instanceId: "inst-a" });
    await ws.writeJson(FILES.memory, { entries: [] });
    await ws.writeJson(FILES.join, { invite: "https://convos.org/v2?i=abc" });
    await ws.writeJson(FILES.nonces, { n1: 1 });
    await ws.writeJson("dormant.json", { conversationId: "c" });
    await ws.writeJson(VAULT_FILE, { sequence: "3" });
    await writeFile(ws.xmtpDbPath, "not really a database");
    const collected = await collectState(ws);
    expect(Object.keys(collected.files).sort()).toEqual(
      [FILES.instance, FILES.memory, FILES.join, FILES.nonces].sort(),
    );
    expect(DURABLE_FILES).not.toContain("dormant.json");
    expect(DURABLE_FILES).not.toContain(VAULT_FILE);
    expect(DURABLE_FILES.some((f) => f.startsWith(FILES.xmtpDir))).toBe(false);
  });

  it("carries its owner's address book, sealed as it is on disk, to the workspace it is written back to", async () => {
    const from = await workspace("inst-a");
    await from.writeSealed(FILES.addressBook, "address-book", key, { version: 1, contacts: [] });
    const state = await collectState(from);
    expect(Object.keys(state.files)).toEqual([FILES.addressBook]);
    const to = await workspace("inst-a");
    await writeState(to, openState(key, "inst-a", 2n, sealState(key, 2n, state)), 2n);
    expect(await to.readSealed(FILES.addressBook, "address-book", key)).toEqual({ version: 1, contacts: [] });
  });

  it("keeps only the recent part of the activity log", async () => {
    const ws = await workspace("inst-a");
    const lines = Array.from({ length: ACTIVITY_LINES_KEPT + 50 }, (_, i) => `{"n":${i}}\n`);
    await ws.writeText(FILES.activity, lines.join(""));
    const kept = (await collectState(ws)).files[FILES.activity]!.trim().split("\n");
    expect(kept).toHaveLength(ACTIVITY_LINES_KEPT);
    expect(kept.at(-1)).toBe(`{"n":${ACTIVITY_LINES_KEPT + 49}}`);
  });

  it("written back into an empty workspace, it is the same state, at the sequence it came from", async () => {
    const from = await workspace("inst-a");
    await from.writeJson(FILES.memory, { entries: [{ text: "Heron" }] });
    await from.writeText(FILES.identity, "# Ada\n");
    const sealed = sealState(key, 9n, await collectState(from));
    const to = await workspace("inst-a");
    await writeState(to, openState(key, "inst-a", 9n, sealed), 9n);
    expect(await collectState(to)).toEqual(await collectState(from));
    expect(await to.readJson(VAULT_FILE)).toEqual({ sequence: "9" });
  });

  it("carries the address of the host that sealed it; a host that is not text does not open", async () => {
    const from = await workspace("inst-a");
    const state = await collectState(from, "http://host-a.test:7100");
    expect(openState(key, "inst-a", 3n, sealState(key, 3n, state)).host).toBe("http://host-a.test:7100");
    expect(openState(key, "inst-a", 4n, sealState(key, 4n, await collectState(from))).host).toBeUndefined();
    const odd = { ...state, host: 7 } as unknown as AgentState;
    expect(() => openState(key, "inst-a", 5n, sealState(key, 5n, odd))).toThrow(/not a state of this version/);
  });

  it("a state that names a file outside the durable list does not open (no path tricks)", () => {
    const sneaky = { v: 1, instanceId: "inst-a", files: { "../../etc/passwd": "x" } } as AgentState;
    expect(() => openState(key, "inst-a", 1n, sealState(key, 1n, sneaky))).toThrow(/not durable state/);
  });

  it("the workspace tells its listener of every write and append", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vault-test-"));
    dirs.push(dir);
    const heard: string[] = [];
    const ws = new Workspace(dir, "inst-a", (name) => heard.push(name));
    await ws.create();
    await ws.writeJson(FILES.memory, {});
    await ws.append(FILES.ledger, "{}\n");
    expect(heard).toEqual([FILES.memory, FILES.ledger]);
    expect((await readdir(ws.dir)).sort()).toEqual([FILES.ledger, FILES.memory, FILES.xmtpDir].sort());
  });
});

describe("each conversation's own files in an agent's state", () => {
  it("the pattern takes a conversation's four files, in a folder named by a group id of 16 to 128 hex digits", () => {
    const accepted = [
      `conversations/${GROUP}/state.json`,
      `conversations/${GROUP}/join.json`,
      `conversations/${GROUP}/participation.json`,
      `conversations/${GROUP}/outside-words.json`,
      `conversations/${"0".repeat(16)}/state.json`,
      `conversations/${"f".repeat(128)}/state.json`,
    ];
    for (const name of accepted) expect(isDurableFile(name), name).toBe(true);
    for (const kind of ["state", "join", "participation", "outside-words"] as const)
      expect(DURABLE_PATTERN.test(conversationFile(GROUP, kind))).toBe(true);
  });

  it("refuses a climb out of the folder, upper case, an id too short or too long, and any other file", () => {
    const refused = [
      "conversations/../x.json",
      `conversations/../${GROUP}/state.json`,
      `conversations/${GROUP}/../../state.json`,
      `conversations/${GROUP}/../state.json`,
      `conversations/${GROUP.toUpperCase()}/state.json`,
      `conversations/${GROUP}/State.json`,
      `conversations/${"a".repeat(15)}/state.json`,
      `conversations/${"a".repeat(129)}/state.json`,
      `conversations/${GROUP}/memory.json`,
      `conversations/${GROUP}/state.json.tmp`,
      `conversations/${GROUP}/sub/state.json`,
      `/conversations/${GROUP}/state.json`,
      `conversations/${GROUP}/state.json/`,
      `conversations/${GROUP}\\state.json`,
      `conversations/${GROUP}/state.json\n`,
      `conversations/${GROUP}`,
      "conversations",
    ];
    for (const name of refused) expect(isDurableFile(name), name).toBe(false);
    expect(() => conversationFile("../etc", "state")).toThrow(/invalid conversation id/);
    expect(() => conversationFile(GROUP.toUpperCase(), "state")).toThrow(/invalid conversation id/);
  });

  it("openState refuses a state naming a file outside the pattern, as it refuses one outside the list", () => {
    for (const name of [
      "conversations/../x.json",
      `conversations/${"A".repeat(32)}/state.json`,
      `conversations/abc/state.json`,
    ]) {
      const sneaky: AgentState = { v: 1, instanceId: "inst-a", files: { [name]: "{}" } };
      expect(() => openState(key, "inst-a", 1n, sealState(key, 1n, sneaky)), name).toThrow(/not durable state/);
    }
  });

  it("conversations.json, tool-routes.json and every conversation's files are collected, and written back into their folders", async () => {
    const from = await workspace("inst-a");
    await from.writeJson(FILES.conversations, { v: 1, home: GROUP, conversations: [] });
    await from.writeJson(FILES.toolRoutes, {});
    await from.writeJson(conversationFile(GROUP, "state"), { lastSeenNs: "5" });
    await from.writeJson(conversationFile(GROUP, "join"), { invite: "https://convos.org/v2?i=abc" });
    await from.writeJson(conversationFile(GROUP, "outside-words"), ["m1"]);
    // Not a conversation's folder: left out.
    await from.writeJson("conversations/not-a-group/state.json", {});
    const state = await collectState(from);
    expect(Object.keys(state.files).sort()).toEqual(
      [
        FILES.conversations,
        FILES.toolRoutes,
        conversationFile(GROUP, "state"),
        conversationFile(GROUP, "join"),
        conversationFile(GROUP, "outside-words"),
      ].sort(),
    );
    const to = await workspace("inst-a");
    await writeState(to, openState(key, "inst-a", 2n, sealState(key, 2n, state)), 2n);
    expect(await collectState(to)).toEqual(state);
    expect(await to.readJson(conversationFile(GROUP, "state"))).toEqual({ lastSeenNs: "5" });
  });

  it("a state sealed before conversations.json (its conversation in state.json at the top) still opens and is written back", async () => {
    expect(DURABLE_FILES).toEqual(
      expect.arrayContaining([FILES.state, FILES.join, FILES.participation, FILES.outsideWords]),
    );
    const from = await workspace("inst-a");
    await from.writeJson(FILES.state, { conversationId: GROUP, lastSeenNs: "5" });
    await from.writeJson(FILES.join, { invite: "https://convos.org/v2?i=abc" });
    const state = await collectState(from);
    const to = await workspace("inst-a");
    await writeState(to, openState(key, "inst-a", 3n, sealState(key, 3n, state)), 3n);
    expect(await to.readJson(FILES.state)).toEqual({ conversationId: GROUP, lastSeenNs: "5" });
  });

  it("a write in a conversation's folder is heard under its name, so that the state kept off the host follows", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vault-test-"));
    dirs.push(dir);
    const heard: string[] = [];
    const ws = new Workspace(dir, "inst-a", (name) => heard.push(name));
    await ws.create();
    await ws.writeJson(conversationFile(GROUP, "state"), {});
    expect(heard).toEqual([conversationFile(GROUP, "state")]);
    expect(heard.every(isDurableFile)).toBe(true);
    // The whole-file write leaves no temporary file beside it.
    expect(await readdir(join(ws.dir, "conversations", GROUP))).toEqual(["state.json"]);
  });
});
