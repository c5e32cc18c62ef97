// A restore takes only what the pool signed (restore.ts, restore-record.ts;
// docs/scaling.md, "Only what the pool signed"): RestoreInstance end to end
// but for the agent's start, on a real workspace in a temporary directory,
// with real keys, real EIP-712 signatures of owners' transfers (checked
// against inboxes derived from their wallets, as XMTP creates them) and
// states sealed as a host seals them. Stand-ins: the host's start (it records
// whom it started) and the lineage service's mark (a function). The record's
// pure checks have their own cases below.
import { create, type MessageInitShape, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { TransferProofSchema } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  RestoreInstanceRequestSchema,
  RestoreRecordSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { ApprovalPlace, Grant, InstanceState, OutsiderReply } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { type StateMark, StateMarkSchema } from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import { createLogger } from "@convos-pool/kit/server";
import {
  DerivedInboxResolver,
  LOCAL_POOL_ID,
  MasterSeed,
  SignatureVerifier,
  signOperation,
} from "@convos-pool/kit/signing";
import { newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { walletAt } from "../platform/keys.js";
import { sealState } from "../platform/vault.js";
import { FILES } from "../platform/workspace.js";
import { type RestoreHost, restoreInstance } from "./restore.js";
import { checkDated, lowerTrust, planOwner, RECORD_CLOCK_ALLOWANCE_MS } from "./restore-record.js";

const AGENT = walletAt(MasterSeed.parse(`0x${"35".repeat(32)}`), 4);
const ID = "inst_MovingAgent0001";

async function markOf(sequence: bigint): Promise<StateMark> {
  const fields = { inboxId: "inbox-of-the-agent", instanceId: ID, sequence };
  const agentSignature = await signOperation(AGENT.account, "MarkAgentState", fields, undefined, LOCAL_POOL_ID);
  return create(StateMarkSchema, { ...fields, agentSignature });
}

const OWNER = newIdentity();
const HEIR = newIdentity();
const MALLORY = newIdentity();
const HOUR = 3_600_000;

/** The files of a claimed agent in a conversation, owned by `ownerId`, as its host would seal them. */
function files(over: { config?: object; trust?: object; permissions?: object } = {}): Record<string, string> {
  return {
    [FILES.instance]: JSON.stringify({
      instanceId: ID,
      walletIndex: 4,
      address: AGENT.address,
      inboxId: "inbox-of-the-agent",
      createdAt: "2026-11-01T10:00:00.000Z",
    }),
    [FILES.config]: JSON.stringify({ instanceId: ID, ownerId: OWNER.inboxId, ...over.config }),
    [FILES.conversations]: JSON.stringify({ home: "", conversations: [] }),
    [FILES.trust]: JSON.stringify({
      level: TrustLevel.ADVISOR,
      dailySpendLimitWei: "0",
      setAt: "2026-11-01T10:00:00.000Z",
      byOwner: false,
      ...over.trust,
    }),
    ...(over.permissions ? { [FILES.permissions]: JSON.stringify({ permissions: over.permissions }) } : {}),
  };
}

/** The pool's record of the agent: its owner for an hour, L2 without a limit, its state kept and its host seen now. */
const record = (over: Partial<MessageInitShape<typeof RestoreRecordSchema>> = {}) =>
  create(RestoreRecordSchema, {
    ownerId: OWNER.inboxId,
    ownerSince: timestampFromDate(new Date(Date.now() - HOUR)),
    trustLevel: TrustLevel.ADVISOR,
    dailySpendLimitWei: "",
    stateKeptAt: timestampFromDate(new Date()),
    hostSeenAt: timestampFromDate(new Date()),
    ...over,
  });

/** The signed transfer of the agent from `from` to `to`, the acceptance dated `acceptedAt` (unix seconds). */
async function transfer(from: TestIdentity, to: TestIdentity, acceptedAt = Math.floor(Date.now() / 1000)) {
  const offer = await signOperation(
    from.account,
    "TransferAgent",
    { inboxId: from.inboxId, instanceId: ID, newOwnerId: to.inboxId },
    acceptedAt - 60,
  );
  const acceptance = await signOperation(
    to.account,
    "AcceptAgent",
    { inboxId: to.inboxId, instanceId: ID, fromOwnerId: from.inboxId },
    acceptedAt,
  );
  return toJson(
    TransferProofSchema,
    create(TransferProofSchema, { fromOwnerId: from.inboxId, toOwnerId: to.inboxId, offer, acceptance }),
  );
}

describe("a restore takes only what the pool signed", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  /** A host with a real data directory; its start is a stand-in that records whom it started. */
  async function restoring(marks?: RestoreHost["marks"]) {
    const dataDir = await mkdtemp(join(tmpdir(), "restore-record-"));
    dirs.push(dataDir);
    const started: string[] = [];
    const host: RestoreHost = {
      keys: { wallet: async () => AGENT, address: async () => AGENT.address, forget: () => undefined },
      dataDir,
      instances: new Map(),
      start: async (id, walletIndex) => {
        started.push(id);
        return {
          inboxId: "inbox-of-the-agent",
          walletIndex,
          client: undefined,
          state: InstanceState.STARTING,
        } as never;
      },
      log: createLogger("restore-test", { level: "silent" }),
      poolId: LOCAL_POOL_ID,
      marks,
      verifier: async () => new SignatureVerifier({ resolver: new DerivedInboxResolver(), poolId: LOCAL_POOL_ID }),
    };
    const written = () => existsSync(join(dataDir, "instances", ID));
    return { host, started, written };
  }

  function request(
    f: Record<string, string>,
    rec: ReturnType<typeof record> | undefined = record(),
    sealedAt: Date | null = new Date(),
  ) {
    const state = {
      v: 1 as const,
      instanceId: ID,
      files: f,
      ...(sealedAt ? { sealedAt: sealedAt.toISOString() } : {}),
    };
    const sealed = sealState(AGENT.vaultKey(), 5n, state);
    return create(RestoreInstanceRequestSchema, {
      instanceId: ID,
      walletIndex: 4,
      state: { instanceId: ID, sequence: 5n, sealed },
      ...(rec ? { record: rec } : {}),
    });
  }

  const refusedWith = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    return err && [Code[err.code], err.rawMessage];
  };

  it("takes a state whose owner and trust are the pool's record, and starts it", async () => {
    const { host, started, written } = await restoring();
    await restoreInstance(host, request(files()));
    expect(started).toEqual([ID]);
    expect(written()).toBe(true);
  });

  it("refuses a state its host sealed naming another owner, naming state.owner_id, and writes nothing", async () => {
    const { host, started, written } = await restoring();
    const forged = files({ config: { ownerId: MALLORY.inboxId } });
    expect(await refusedWith(restoreInstance(host, request(forged)))).toEqual([
      "FailedPrecondition",
      expect.stringMatching(/^state\.owner_id: .* names owner [0-9a-f]{64}, the pool's record [0-9a-f]{64}/),
    ]);
    expect([started, written()]).toEqual([[], false]);
  });

  it("brings back a state whose trust level, limit or members' payments are above the pool's record at the record's: a forged raise does not outlive its host", async () => {
    // A fresh host each time: one restore of an id stands for its retries.
    const restored = async (f: Record<string, string>) => {
      const { host, started, written } = await restoring();
      await restoreInstance(host, request(f));
      expect([started, written()]).toEqual([[ID], true]);
      const read = (name: string) => readFile(join(host.dataDir, "instances", ID, name), "utf8").then(JSON.parse);
      return { trust: await read(FILES.trust), permissions: await read(FILES.permissions).catch(() => undefined) };
    };
    const l4 = await restored(
      files({ trust: { level: TrustLevel.AUTONOMOUS, dailySpendLimitWei: "1000000000000000000" } }),
    );
    expect(l4.trust).toMatchObject({ level: TrustLevel.ADVISOR, dailySpendLimitWei: "0", byOwner: false });
    expect((await restored(files({ trust: { dailySpendLimitWei: "5" } }))).trust).toMatchObject({
      dailySpendLimitWei: "0",
    });
    const paying = await restored(files({ permissions: { memberCrypto: Grant.ALLOW } }));
    expect(paying.permissions.permissions).toMatchObject({ memberCrypto: Grant.ASK });
  });

  it("takes a state of a new owner with the transfer its pool-recorded owner signed and the new owner accepted since", async () => {
    const { host, started } = await restoring();
    const moved = files({ config: { ownerId: HEIR.inboxId, transfers: [await transfer(OWNER, HEIR)] } });
    await restoreInstance(host, request(moved));
    expect(started).toEqual([ID]);
  });

  it("refuses a transfer the pool's owner did not sign, or accepted before that owner held it (an older state)", async () => {
    const { host, started, written } = await restoring();
    const forgedOffer = { ...((await transfer(MALLORY, HEIR)) as object), fromOwnerId: OWNER.inboxId };
    const notSigned = files({ config: { ownerId: HEIR.inboxId, transfers: [forgedOffer] } });
    expect(await refusedWith(restoreInstance(host, request(notSigned)))).toEqual([
      "FailedPrecondition",
      expect.stringMatching(/^state\.owner_id: .*transfers\[0\]\.offer/),
    ]);
    const before = Math.floor((Date.now() - 2 * HOUR) / 1000);
    const older = files({ config: { ownerId: HEIR.inboxId, transfers: [await transfer(OWNER, HEIR, before)] } });
    expect(await refusedWith(restoreInstance(host, request(older)))).toEqual([
      "FailedPrecondition",
      expect.stringMatching(/^state\.owner_id: .*accepted .* before/),
    ]);
    expect([started, written()]).toEqual([[], false]);
  });

  it("with no mark, takes only a state the pool can date: sealed before its vault kept it, kept while the pool saw its host", async () => {
    const { host, started, written } = await restoring(async () => undefined);
    const undated = await refusedWith(restoreInstance(host, request(files(), record(), null)));
    expect(undated).toEqual(["FailedPrecondition", expect.stringMatching(/^state\.sealed_at: /)]);
    const kept = new Date(Date.now() - 2 * HOUR);
    const late = record({ stateKeptAt: timestampFromDate(kept), hostSeenAt: timestampFromDate(kept) });
    expect(await refusedWith(restoreInstance(host, request(files(), late)))).toEqual([
      "FailedPrecondition",
      expect.stringMatching(/^state\.sealed_at: .* after the pool kept it/),
    ]);
    const unseen = record({ hostSeenAt: timestampFromDate(new Date(Date.now() - HOUR)) });
    expect(await refusedWith(restoreInstance(host, request(files(), unseen)))).toEqual([
      "FailedPrecondition",
      expect.stringMatching(/^record\.state_kept_at: .* after the pool last saw its host/),
    ]);
    const { stateKeptAt: _, ...noDate } = record();
    expect(await refusedWith(restoreInstance(host, request(files(), create(RestoreRecordSchema, noDate))))).toEqual([
      "InvalidArgument",
      expect.stringMatching(/record\.state_kept_at: required/),
    ]);
    expect([started, written()]).toEqual([[], false]);
    await restoreInstance(
      host,
      request(files(), record({ stateKeptAt: timestampFromDate(new Date(Date.now() + 1000)) })),
    );
    expect(started).toEqual([ID]);
  });

  it("with the agent's mark, takes a newer state the pool does not date (a mark is the agent's own word)", async () => {
    const { host, started } = await restoring(async () => markOf(5n));
    const { stateKeptAt: _, hostSeenAt: __, ...noDates } = record();
    await restoreInstance(host, request(files(), create(RestoreRecordSchema, noDates), null));
    expect(started).toEqual([ID]);
  });

  it("refuses a request without the pool's record, naming record", async () => {
    const { host, written } = await restoring();
    expect(await refusedWith(restoreInstance(host, request(files(), null as never)))).toEqual([
      "InvalidArgument",
      expect.stringMatching(/^record: required/),
    ]);
    expect(written()).toBe(false);
  });
});

describe("the pool's record against a state, pure", () => {
  const tooFar = (fn: () => void) => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return ConnectError.from(err).rawMessage;
    }
  };

  /** What a restore of `f` against `rec` runs at: the fields it lowered, and the level and limit it writes. */
  const lowered = (f: Record<string, string>, rec = record()) => {
    const out = lowerTrust(f, rec);
    const written = out.files[FILES.trust];
    const file =
      written === undefined ? undefined : (JSON.parse(written) as { level: number; dailySpendLimitWei: string });
    const trust = file && { level: file.level, dailySpendLimitWei: file.dailySpendLimitWei };
    return { fields: out.lowered.map((l) => `${l.field}: ${l.state} -> ${l.now}`), trust };
  };
  const L4 = (limit: string) => ({ trust: { level: TrustLevel.AUTONOMOUS, dailySpendLimitWei: limit } });

  it("keeps a state that is the pool's record, and writes nothing over it", () => {
    expect(lowered(files())).toEqual({ fields: [], trust: undefined });
    expect(lowered(files(L4("100")), record({ trustLevel: TrustLevel.AUTONOMOUS, dailySpendLimitWei: "100" }))).toEqual(
      { fields: [], trust: undefined },
    );
  });

  it("takes the lower level and the lower limit, whichever of the two has it: neither the host nor the record raises", () => {
    // The owner lowered L4 to L2 a moment before the host was lost: the pool recorded it, the kept state did not.
    expect(lowered(files(L4("100")))).toEqual({
      fields: ["trust_level: L4 -> L2", "daily_spend_limit_wei: 100 -> 0"],
      trust: { level: TrustLevel.ADVISOR, dailySpendLimitWei: "0" },
    });
    // A record above the state (a broken claims service) raises nothing.
    expect(lowered(files(), record({ trustLevel: TrustLevel.AUTONOMOUS, dailySpendLimitWei: "100" }))).toEqual({
      fields: [],
      trust: undefined,
    });
    // Both at L4 with different limits: the lower limit.
    expect(
      lowered(files(L4("100")), record({ trustLevel: TrustLevel.AUTONOMOUS, dailySpendLimitWei: "40" })).trust,
    ).toMatchObject({
      level: TrustLevel.AUTONOMOUS,
      dailySpendLimitWei: "40",
    });
    // L4 needs a limit: the lower of "none" and one is none, so it is L3.
    expect(
      lowered(files(L4("100")), record({ trustLevel: TrustLevel.AUTONOMOUS, dailySpendLimitWei: "" })).trust,
    ).toMatchObject({
      level: TrustLevel.OPERATOR,
      dailySpendLimitWei: "0",
    });
  });

  it("reads a record with no level (claimed before trust levels) and a state with no trust.json as L2 without a limit", () => {
    const none = record({ trustLevel: TrustLevel.UNSPECIFIED, dailySpendLimitWei: "900" });
    expect(lowered(files({ trust: { level: TrustLevel.OPERATOR, dailySpendLimitWei: "7" } }), none)).toEqual({
      fields: ["trust_level: L3 -> L2", "daily_spend_limit_wei: 7 -> 0"],
      trust: { level: TrustLevel.ADVISOR, dailySpendLimitWei: "0" },
    });
    const { [FILES.trust]: _, ...untrusted } = files();
    expect(lowered(untrusted, record({ trustLevel: TrustLevel.AUTONOMOUS, dailySpendLimitWei: "9" }))).toEqual({
      fields: [],
      trust: undefined,
    });
    expect(lowered(untrusted, record({ trustLevel: TrustLevel.OBSERVER })).trust).toMatchObject({
      level: TrustLevel.OBSERVER,
    });
  });

  it("compares the limit only where money moves, and reads '' and '0' as none alike", () => {
    const observer = files({ trust: { level: TrustLevel.OBSERVER } });
    expect(lowered(observer, record({ trustLevel: TrustLevel.OBSERVER, dailySpendLimitWei: "1000" })).fields).toEqual(
      [],
    );
    expect(lowered(files({ trust: { dailySpendLimitWei: "0" } }), record({ dailySpendLimitWei: "" })).fields).toEqual(
      [],
    );
    expect(
      lowered(files({ trust: { dailySpendLimitWei: "0100" } }), record({ dailySpendLimitWei: "100" })).fields,
    ).toEqual([]);
  });

  it("takes the stricter permission of each, the defaults where neither says, and approvals asked directly when either says so", () => {
    expect(lowerTrust(files({ permissions: { memberSms: Grant.ASK } }), record()).lowered).toEqual([]);
    const refusing = record({ permissions: { memberCrypto: Grant.REFUSE, outsiderReply: OutsiderReply.ASK } });
    const out = lowerTrust(
      files({
        permissions: { memberCrypto: Grant.ALLOW, outsiderReply: OutsiderReply.ANSWER, memberSms: Grant.REFUSE },
      }),
      refusing,
    );
    expect(out.lowered.map((l) => `${l.field}: ${l.state} -> ${l.now}`)).toEqual([
      "permissions.member_crypto: allow -> refuse",
      "permissions.outsider_reply: answer -> ask",
    ]);
    expect(JSON.parse(out.files[FILES.permissions] ?? "{}").permissions).toMatchObject({
      memberSms: Grant.REFUSE,
      memberCrypto: Grant.REFUSE,
      outsiderReply: OutsiderReply.ASK,
    });
    const direct = lowerTrust(files(), record({ permissions: { approvals: ApprovalPlace.DIRECT } }));
    expect(direct.lowered.map((l) => l.field)).toEqual(["permissions.approvals"]);
  });

  it("follows the transfers from the pool's owner to the state's over several links, from the last out of the pool's owner", async () => {
    const chain = [await transfer(OWNER, HEIR), await transfer(HEIR, MALLORY)];
    expect(
      planOwner(files({ config: { ownerId: MALLORY.inboxId, transfers: chain } }), record()).map((l) => l.index),
    ).toEqual([0, 1]);
    // Its owner had it twice: the links since the pool's record began, the last transfer out of that owner.
    const twice = [await transfer(OWNER, HEIR), await transfer(HEIR, OWNER), await transfer(OWNER, MALLORY)];
    expect(
      planOwner(files({ config: { ownerId: MALLORY.inboxId, transfers: twice } }), record()).map((l) => l.index),
    ).toEqual([2]);
    expect(planOwner(files(), record())).toEqual([]);
  });

  it("refuses transfers that do not lead from the pool's owner to the state's, and one it cannot date", async () => {
    const broken = [await transfer(OWNER, HEIR), await transfer(MALLORY, newIdentity())];
    expect(
      tooFar(() => planOwner(files({ config: { ownerId: MALLORY.inboxId, transfers: broken } }), record())),
    ).toMatch(/^state\.owner_id: .* do not lead to/);
    const elsewhere = [await transfer(HEIR, MALLORY)];
    expect(
      tooFar(() => planOwner(files({ config: { ownerId: MALLORY.inboxId, transfers: elsewhere } }), record())),
    ).toMatch(/^state\.owner_id: .* carries no transfer from/);
    const { ownerSince: _, ...undated } = record();
    const moved = files({ config: { ownerId: HEIR.inboxId, transfers: [await transfer(OWNER, HEIR)] } });
    expect(tooFar(() => planOwner(moved, create(RestoreRecordSchema, undated)))).toMatch(
      /record\.owner_since: required/,
    );
  });

  it("dates a state within the clock allowance, and no further", () => {
    const kept = new Date(Date.now() - HOUR);
    const at = (ms: number) => new Date(kept.getTime() + ms).toISOString();
    const rec = record({ stateKeptAt: timestampFromDate(kept), hostSeenAt: timestampFromDate(kept) });
    checkDated(at(RECORD_CLOCK_ALLOWANCE_MS - 1000), rec);
    expect(tooFar(() => checkDated(at(RECORD_CLOCK_ALLOWANCE_MS + 1000), rec))).toMatch(/^state\.sealed_at: /);
    expect(tooFar(() => checkDated("not a date", rec))).toMatch(/^state\.sealed_at: .* says not when/);
    const lateKept = record({
      stateKeptAt: timestampFromDate(new Date(kept.getTime() + RECORD_CLOCK_ALLOWANCE_MS + 1000)),
      hostSeenAt: timestampFromDate(kept),
    });
    expect(tooFar(() => checkDated(at(0), lateKept))).toMatch(/^record\.state_kept_at: .* after the pool last saw/);
  });
});
