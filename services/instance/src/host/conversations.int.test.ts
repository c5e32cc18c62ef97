// One agent in several conversations, on the real host: the local XMTP node,
// real node-sdk clients and Convos conversations made as the apps make them
// (their creators answer join requests). The owner adds its agent to a
// conversation someone else created, by invite, signed; it answers in both,
// what the other conversation's member taught stays there, it survives a
// restart in both, and leaving one leaves it in the other with that
// conversation's people's words gone.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCreator } from "@convos-pool/convos/testing";
import { signAddToConversation, signOperation } from "@convos-pool/kit/signing";
import { refusal } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { OneHost, type Creator } from "@convos-pool/instance/testing";
import { AgentConversationState, ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { instanceCall } from "./host.js";
import type { MemoryFile } from "../memory/store.js";
import { readConversations } from "../agent/conversation/files.js";
import { conversationFile, FILES, Workspace } from "../platform/workspace.js";
import type { InvitesFile } from "../agent/state/invites.js";

const one = new OneHost({ name: "instance-conversations", host: { joinTimeoutMs: 20_000 } });
const ID = "inst-many";
/** The owner (the fixture's creator, who made the home and owns the agent), and Eve, who made "Dinner club". */
let owner: Creator;
let eve: Creator;
let inboxId: string;
let home: string;
let club: { groupId: string; invite: string };

const memoryOf = async () =>
  JSON.parse(await readFile(join(one.dir, "host", "instances", ID, "memory.json"), "utf8")) as MemoryFile;

/** What `who` said last in `groupId`, as `reader`'s client reads it. */
async function lastFrom(reader: Creator, groupId: string, who: string): Promise<string> {
  const said = (await reader.transcript(groupId)).filter((m) => m.from === who);
  return said.at(-1)?.text ?? "";
}

/** The owner's signed addition of the agent to the conversation of `invite`. */
async function addition(
  invite: string,
  over: { participation?: { mode: ParticipationMode; cooldownSeconds: number } } = {},
) {
  const signed = { ownerId: owner.inboxId, instanceId: ID, conversationInvite: invite, ...over };
  return {
    conversationInvite: invite,
    authorization: { ownerId: owner.inboxId, ...over, signature: await signAddToConversation(owner.account, signed) },
  };
}

const removal = async (conversationId: string, signer = owner) => ({
  ownerId: owner.inboxId,
  conversationId,
  signature: await signOperation(signer.account, "RemoveFromConversation", {
    inboxId: owner.inboxId,
    instanceId: ID,
    conversationId,
  }),
});

beforeAll(async () => {
  await one.start();
  owner = one.creator!;
  await mkdir(join(one.dir, "eve"));
  eve = await startCreator(one.node.url, join(one.dir, "eve"));
  ({ inboxId, groupId: home } = await one.joined(ID, 0));
  club = await eve.conversation("Dinner club");
}, 90_000);

afterAll(async () => {
  await eve?.close();
  await one.close();
}, 30_000);

describe("one agent in several conversations", () => {
  it("joins a conversation its owner signed it into and answers there, and in its home still", {
    timeout: 60_000,
  }, async () => {
    const { conversationId } = await one.rpc.client.addConversation(await addition(club.invite), {
      ...instanceCall(ID),
      timeoutMs: 30_000,
    });
    expect(conversationId).toBe(club.groupId);
    await eve.ask(club.groupId, inboxId, "hello there");
    expect(await lastFrom(eve, club.groupId, inboxId)).toMatch(/^\[offline model\] Concierge here\./);
    // Still at home.
    await owner.ask(home, inboxId, "still with us");
    expect(await lastFrom(owner, home, inboxId)).toMatch(/I read: "still with us"/);

    const listed = (await one.hostRpc.client.listInstances({})).instances.find((i) => i.instanceId === ID)!;
    expect(listed.conversations.map((c) => [c.conversationId, c.state])).toEqual([
      [home, AgentConversationState.JOINED],
      [club.groupId, AgentConversationState.JOINED],
    ]);
    const counted = await one.rpc.client.countMembers({ conversationId: club.groupId }, instanceCall(ID));
    expect(counted.members).toBe(2);
    // Its home's invite stays its own beside the added one: nothing given up, nothing watched to leave.
    const invites = await new Workspace(join(one.dir, "host"), ID).readJson<InvitesFile>(FILES.invites);
    expect([invites?.added?.length, invites?.abandoned]).toEqual([1, []]);
    // The same invite again: the conversation it is in, nothing joined.
    const again = await one.rpc.client.addConversation(await addition(club.invite), instanceCall(ID));
    expect(again.conversationId).toBe(club.groupId);
  });

  it("joins nowhere on a signature that is not its owner's, is for another invite, or was used before", {
    timeout: 30_000,
  }, async () => {
    const other = await eve.conversation("Eve's other group");
    const third = await eve.conversation("Eve's third group");
    const signed = await addition(other.invite);
    const byEve = {
      ...signed,
      authorization: {
        ...signed.authorization,
        signature: await signAddToConversation(eve.account, {
          ownerId: owner.inboxId,
          instanceId: ID,
          conversationInvite: other.invite,
        }),
      },
    };
    const refused = [
      await refusal(one.rpc.client.addConversation(byEve, instanceCall(ID))),
      // Signed for one invite, sent with another.
      await refusal(one.rpc.client.addConversation({ ...signed, conversationInvite: third.invite }, instanceCall(ID))),
      await refusal(
        one.rpc.client.addConversation(
          { ...(await addition(other.invite)), authorization: { ...signed.authorization, ownerId: eve.inboxId } },
          instanceCall(ID),
        ),
      ),
    ];
    expect(refused.map((e) => Code[e.code])).toEqual(["PermissionDenied", "PermissionDenied", "PermissionDenied"]);
    const mine = await addition(other.invite, {
      participation: { mode: ParticipationMode.PAUSED, cooldownSeconds: 0 },
    });
    await one.rpc.client.addConversation(mine, { ...instanceCall(ID), timeoutMs: 30_000 });
    // There under the participation signed.
    const ws = new Workspace(join(one.dir, "host"), ID);
    expect(await ws.readJson(conversationFile(other.groupId, "participation"))).toMatchObject({
      participation: { mode: ParticipationMode.PAUSED },
    });
    await one.rpc.client.leaveConversation(await removal(other.groupId), instanceCall(ID));
    // The owner took it out: the same signature sent again does not take it back in.
    const replayed = await refusal(one.rpc.client.addConversation(mine, instanceCall(ID)));
    expect([Code[replayed.code], replayed.rawMessage]).toEqual([
      "Unauthenticated",
      expect.stringMatching(/already used/),
    ]);
  });

  it("keeps what a member of one conversation taught in that conversation: the owner's other conversation never hears it", {
    timeout: 60_000,
  }, async () => {
    await eve.ask(club.groupId, inboxId, "remember that our door code is 4417");
    await owner.ask(home, inboxId, "remember that my flight is AF123");
    await owner.ask(home, inboxId, "what is our door code?");
    const atHome = await lastFrom(owner, home, inboxId);
    expect(atHome).not.toContain("4417");
    // The owner's own fact is known in the club; the member's is known where she said it.
    await eve.ask(club.groupId, inboxId, "what is my flight?");
    expect(await lastFrom(eve, club.groupId, inboxId)).toContain("AF123");
    await eve.ask(club.groupId, inboxId, "what is our door code?");
    expect(await lastFrom(eve, club.groupId, inboxId)).toContain("4417");
    const entries = (await memoryOf()).entries;
    expect(entries.find((e) => e.text.includes("4417"))).toMatchObject({
      from: eve.inboxId,
      conversationId: club.groupId,
    });
  });

  it("after a host restart it answers in both conversations", { timeout: 90_000 }, async () => {
    await one.host.close();
    await one.startHost();
    await waitFor("the agent back on the host", async () =>
      (await one.hostRpc.client.listInstances({})).instances.some((i) => i.instanceId === ID),
    );
    await eve.ask(club.groupId, inboxId, "what is our door code?");
    expect(await lastFrom(eve, club.groupId, inboxId)).toContain("4417");
    await owner.ask(home, inboxId, "what is our door code?");
    expect(await lastFrom(owner, home, inboxId)).not.toContain("4417");
  });

  it("leaves one conversation, its members' words with it, and answers on in the other; never its last", {
    timeout: 60_000,
  }, async () => {
    const byEve = await refusal(one.rpc.client.leaveConversation(await removal(club.groupId, eve), instanceCall(ID)));
    expect(Code[byEve.code]).toBe("PermissionDenied");
    const left = await one.rpc.client.leaveConversation(await removal(club.groupId), instanceCall(ID));
    expect(left.homeConversationId).toBe(home);
    await waitFor(
      "the agent out of the club",
      async () => !(await eve.members()).get(club.groupId)?.includes(inboxId),
      30_000,
    );
    const entries = (await memoryOf()).entries;
    expect(entries.some((e) => e.text.includes("4417"))).toBe(false);
    expect(entries.some((e) => e.text.includes("AF123"))).toBe(true);
    const list = await readConversations(new Workspace(join(one.dir, "host"), ID));
    expect(list?.conversations.map((c) => c.conversationId)).toEqual([home]);
    await owner.ask(home, inboxId, "what is my flight?");
    expect(await lastFrom(owner, home, inboxId)).toContain("AF123");

    const last = await refusal(one.rpc.client.leaveConversation(await removal(home), instanceCall(ID)));
    expect([Code[last.code], last.rawMessage]).toEqual([
      "FailedPrecondition",
      "conversation_id: is the agent's last conversation: remove the agent instead",
    ]);
    const gone = await refusal(one.rpc.client.leaveConversation(await removal(club.groupId), instanceCall(ID)));
    expect(Code[gone.code]).toBe("NotFound");
  });
});
