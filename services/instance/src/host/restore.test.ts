// A restore opens only the newest state (restore.ts checkNewest): the
// agent's high-water mark as the lineage service hands it back, with real
// keys and signatures; the mark's reader is a function here, the lineage
// service's own part is its int test (lineage/src/marks). What it takes of a
// state against the pool's record is restore-record.test.ts's. A state sealed
// before conversations.json opens, is written and moved into a folder per
// conversation as the agent's start does it, on a real workspace in a
// temporary directory.
import { create } from "@bufbuild/protobuf";
import { type StateMark, StateMarkSchema } from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import { createLogger } from "@convos-pool/kit/server";
import { LOCAL_POOL_ID, signOperation } from "@convos-pool/kit/signing";
import { codeOf } from "@convos-pool/kit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { MasterSeed } from "@convos-pool/kit/signing";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readHome, readJoin } from "../agent/conversation/files.js";
import { migrateWorkspace } from "../agent/conversation/migration.js";
import { HeldMemory } from "../agent/state/memory.js";
import { walletAt } from "../platform/keys.js";
import { collectState, openState, sealState, writeState } from "../platform/vault.js";
import { FILES, Workspace } from "../platform/workspace.js";
import { checkHostGone, checkNewest, ofAnAgentInAConversation, type RestoreHost } from "./restore.js";

const seed = MasterSeed.parse(`0x${"35".repeat(32)}`);
const AGENT = walletAt(seed, 4);
const ID = "inst_MovingAgent0001";

async function markOf(sequence: bigint, by = AGENT, instanceId = ID): Promise<StateMark> {
  const fields = { inboxId: "inbox-of-the-agent", instanceId, sequence };
  const agentSignature = await signOperation(by.account, "MarkAgentState", fields, undefined, LOCAL_POOL_ID);
  return create(StateMarkSchema, { ...fields, agentSignature });
}

const hostWith = (marks: RestoreHost["marks"]) =>
  ({ poolId: LOCAL_POOL_ID, marks, log: createLogger("restore-test", { level: "silent" }) }) as RestoreHost;
const check = (host: RestoreHost, sequence: bigint) => codeOf(checkNewest(host, ID, AGENT.address, sequence));

describe("a restore opens only the newest state", () => {
  it("refuses a state below the agent's mark, naming both sequences; the newest and newer pass", async () => {
    const host = hostWith(async () => markOf(7n));
    expect(await check(host, 6n)).toBe("FailedPrecondition");
    await expect(checkNewest(host, ID, AGENT.address, 6n)).rejects.toThrow(
      /state\.sequence: 6 is older than the newest state .* recorded \(7\)/,
    );
    await checkNewest(host, ID, AGENT.address, 7n);
    await checkNewest(host, ID, AGENT.address, 8n);
  });

  it("a mark not signed by the agent's own wallet, or for another agent, is nobody's word: refused, nothing opened", async () => {
    expect(
      await check(
        hostWith(async () => markOf(1n, walletAt(seed, 5))),
        9n,
      ),
    ).toBe("FailedPrecondition");
    const other = await markOf(1n, AGENT, "inst_SomeoneElse00001");
    expect(
      await check(
        hostWith(async () => ({ ...other, instanceId: ID })),
        9n,
      ),
    ).toBe("FailedPrecondition");
    // Its sequence changed after signing: refused too.
    const changed = await markOf(1n);
    expect(
      await check(
        hostWith(async () => ({ ...changed, sequence: 0n })),
        0n,
      ),
    ).toBe("FailedPrecondition");
  });

  it("no mark yet (never kept a state), or no lineage service configured: no sequence is refused, and the pool's record dates the state instead", async () => {
    expect(
      await checkNewest(
        hostWith(async () => undefined),
        ID,
        AGENT.address,
        1n,
      ),
    ).toBe(false);
    expect(await checkNewest(hostWith(undefined), ID, AGENT.address, 1n)).toBe(false);
    expect(
      await checkNewest(
        hostWith(async () => markOf(1n)),
        ID,
        AGENT.address,
        1n,
      ),
    ).toBe(true);
  });

  it("a lineage service that does not answer stops the restore, to be asked again", async () => {
    const down = hostWith(async () => {
      throw new Error("connect ECONNREFUSED");
    });
    expect(await check(down, 9n)).toBe("Unavailable");
  });
});

describe("only a lost host's agent moves", () => {
  const OLD = "http://host-a.test:7100";
  const HERE = "http://host-b.test:7100";
  const hostAsking = (answering: boolean) => {
    const asked: string[] = [];
    const host = {
      ownUrl: () => HERE,
      answers: async (url: string) => {
        asked.push(url);
        return answering;
      },
    } as RestoreHost;
    return { host, asked };
  };

  it("refuses while the host that sealed the state still answers, naming it; moves once it does not", async () => {
    const live = hostAsking(true);
    expect(await codeOf(checkHostGone(live.host, ID, OLD))).toBe("FailedPrecondition");
    await expect(checkHostGone(live.host, ID, OLD)).rejects.toThrow(`${ID}'s host ${OLD} still answers`);
    const gone = hostAsking(false);
    await checkHostGone(gone.host, ID, OLD);
    expect([live.asked, gone.asked]).toEqual([[OLD, OLD], [OLD]]);
  });

  it("asks nobody for a state that names no host (sealed before hosts named themselves) or names this one (a retry)", async () => {
    const live = hostAsking(true);
    await checkHostGone(live.host, ID, undefined);
    await checkHostGone(live.host, ID, HERE);
    expect(live.asked).toEqual([]);
  });
});

describe("a state sealed before conversations.json", () => {
  const GROUP = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8";
  const OLD_STATE = {
    conversationId: GROUP,
    inviteTag: "tag-1",
    joinedAt: "2026-11-01T10:00:00.000Z",
    lastSeenNs: "1764000000000000000",
    agents: [],
    creatorInboxId: "inbox-of-the-creator",
    names: { "inbox-of-saul": "Saul" },
  };
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  async function workspace(): Promise<Workspace> {
    const dir = await mkdtemp(join(tmpdir(), "restore-test-"));
    dirs.push(dir);
    const ws = new Workspace(dir, ID);
    await ws.create();
    return ws;
  }

  it("is of an agent in a conversation, as one with conversations.json is; one with neither, or no config, is not", () => {
    const config = { [FILES.config]: "{}" };
    expect(ofAnAgentInAConversation({ ...config, [FILES.state]: "{}" })).toBe(true);
    expect(ofAnAgentInAConversation({ ...config, [FILES.conversations]: "{}" })).toBe(true);
    expect(ofAnAgentInAConversation(config)).toBe(false);
    expect(ofAnAgentInAConversation({ [FILES.conversations]: "{}", [FILES.state]: "{}" })).toBe(false);
  });

  it("opens, is written here, and is moved at the agent's start: its conversation the home, its invite kept for the rejoin", async () => {
    const key = AGENT.vaultKey();
    const old = await workspace();
    await old.writeJson(FILES.config, { ownerId: "inbox-of-the-owner" });
    await old.writeJson(FILES.state, OLD_STATE);
    await old.writeJson(FILES.join, { invite: "https://convos.org/v2?i=abc" });
    await old.writeJson(FILES.memory, {
      version: 1,
      entries: [{ id: "mem_a", kind: "training", text: "confirm dates" }],
    });
    const sealed = sealState(key, 4n, await collectState(old));

    const opened = openState(key, ID, 4n, sealed);
    expect(ofAnAgentInAConversation(opened.files)).toBe(true);
    const here = await workspace();
    await writeState(here, opened, 4n);
    const memory = new HeldMemory(here, () => undefined);
    await migrateWorkspace(here, (id) => memory.stampConversation(id));

    // A state of before `profiled` counts everyone it named as having said their own profile (people.ts profiledBefore).
    expect(await readHome(here)).toEqual({ ...OLD_STATE, profiled: ["inbox-of-saul"] });
    expect(await readJoin(here, GROUP)).toEqual({ invite: "https://convos.org/v2?i=abc" });
    expect(await here.readText(FILES.state)).toBeUndefined();
    expect((await memory.load("inbox-of-the-owner")).entries[0]?.conversationId).toBe(GROUP);
    // Sealed again, it is a state of the new layout, and opens as one.
    const again = await collectState(here);
    expect(Object.keys(again.files)).toContain(FILES.conversations);
    expect(openState(key, ID, 5n, sealState(key, 5n, again)).files).toEqual(again.files);
  });
});
