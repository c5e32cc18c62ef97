// The two agents' checks of a clone (clone/summary.ts), in memory: real EIP-712
// signatures, a real master seed, inboxes derived from addresses (what the
// network-backed resolver falls back to for an inbox it has not seen); and
// what a summary is made from, pure (cloneSelection).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloneSummarySchema } from "@convos-pool/gen/convos/pool/v1/clone_summary_pb.js";
import {
  CloneAuthorizationSchema,
  CloneSummaryRequestSchema,
  type CloneAuthorization,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  deriveInboxId,
  inviteHash,
  signClone,
  type CloneToSign,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { contentFromJson } from "@convos-pool/kit/content";
import { MAX_SUMMARY_BYTES } from "../platform/xmtp.js";
import { SpentNonces } from "../platform/nonces.js";
import { buildSummary, checkCloneRequest, checkSummary, cloneSelection, type CloneChecks } from "./summary.js";
import { Memory } from "../memory/store.js";
import { fc, test } from "@fast-check/vitest";
import { readableIn } from "../memory/walls.js";
import { MasterSeed } from "@convos-pool/kit/signing";
import { seedKeys, walletAt } from "../platform/keys.js";
import { Workspace } from "../platform/workspace.js";

const seed = MasterSeed.parse("11".repeat(32));
const resolver = new DerivedInboxResolver();
const checks: CloneChecks = {
  verifier: new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver }),
  resolver,
  keys: seedKeys(seed),
};
const poolInbox = (index: number) => deriveInboxId(walletAt(seed, index).address);

const owner = newIdentity();
const stranger = newIdentity();
const creator = newIdentity();
const TEMPLATE = { templateId: "tmpl_TRIP000000000000", creatorId: creator.inboxId };
// The clone's template: a model the owner may choose, one value of the owner's.
const content = contentFromJson(
  sampleContent({
    model: { default: "gpt-oss-20b", allow_override: true },
    tools: [
      {
        id: "personal-email",
        name: "Email",
        description: "",
        prompt: "Your email?",
        provisioning: "user",
        required: false,
      },
    ],
  }),
);
const INVITE = "https://dev.convos.org/v2?i=greece-trip";
const parent = { instanceId: "inst_PARENT0000000000", inboxId: poolInbox(3), walletIndex: 3 };
const child = { instanceId: "inst_CHILD00000000000", inboxId: poolInbox(7), walletIndex: 7 };

const clone = (over: Partial<CloneToSign> = {}): CloneToSign => ({
  ownerId: owner.inboxId,
  parentInstanceId: parent.instanceId,
  templateId: TEMPLATE.templateId,
  templateCreatorId: TEMPLATE.creatorId,
  conversationInvite: INVITE,
  contextPrompt: "not the Japan details",
  carry: [],
  model: "",
  userConfig: {},
  ...over,
});

async function authorization(
  over: Partial<CloneToSign> = {},
  signer = owner,
  issuedAt?: number,
): Promise<CloneAuthorization> {
  const c = clone(over);
  return create(CloneAuthorizationSchema, { ...c, signature: await signClone(signer.account, c, issuedAt) });
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("accepted");
    },
    (err: unknown) => ConnectError.from(err),
  );

describe("the parent's checks (CloneSummary)", () => {
  const self = { instanceId: parent.instanceId, inboxId: parent.inboxId, ownerId: owner.inboxId, template: TEMPLATE };
  const request = async (
    auth: CloneAuthorization | undefined,
    over: { childInboxId?: string; childWalletIndex?: number } = {},
  ) =>
    create(CloneSummaryRequestSchema, {
      childInstanceId: child.instanceId,
      childInboxId: child.inboxId,
      childWalletIndex: child.walletIndex,
      authorization: auth,
      ...over,
    });

  it("accepts its own owner's signature naming it, for a genuine agent of the pool, and gives the kinds that carry", async () => {
    const { carry } = await checkCloneRequest(checks, self, await request(await authorization()));
    expect(carry).toEqual(["training", "personalization"]);
    const all = await checkCloneRequest(
      checks,
      self,
      await request(await authorization({ carry: ["credentials", "training", "credentials"] })),
    );
    expect(all.carry).toEqual(["training", "credentials"]);
  });

  it("refuses another owner, another agent, a stranger's signature, no signature, a stale one, and an unknown kind", async () => {
    const cases: [() => Promise<CloneAuthorization | undefined>, Code, string][] = [
      [() => authorization({ ownerId: stranger.inboxId }, stranger), Code.PermissionDenied, "owner_id"],
      [() => authorization({ parentInstanceId: "inst_OTHER00000000000" }), Code.PermissionDenied, "parent_instance_id"],
      [() => authorization({}, stranger), Code.PermissionDenied, "not signed by a wallet"],
      [async () => create(CloneAuthorizationSchema, clone()), Code.Unauthenticated, "signature"],
      [async () => undefined, Code.InvalidArgument, "authorization"],
      [() => authorization({}, owner, Math.floor(Date.now() / 1000) - 600), Code.Unauthenticated, "issued_at"],
      [
        async () => ({ ...(await authorization()), carry: ["secrets"] }),
        Code.InvalidArgument,
        "authorization.carry[0]",
      ],
    ];
    for (const [auth, code, text] of cases) {
      const err = await refusal(checkCloneRequest(checks, self, await request(await auth())));
      expect(err.code, err.rawMessage).toBe(code);
      expect(err.rawMessage).toContain(text);
    }
  });

  it("refuses a signature for a clone of another template, or of a template by another creator, before it verifies it", async () => {
    for (const [over, field] of [
      [{ templateId: "tmpl_OTHER00000000000" }, "authorization.template_id"],
      [{ templateCreatorId: stranger.inboxId }, "authorization.template_creator_id"],
    ] as const) {
      const err = await refusal(checkCloneRequest(checks, self, await request(await authorization(over))));
      expect(err.code).toBe(Code.PermissionDenied);
      expect(err.rawMessage).toContain(field);
    }
  });

  it("refuses a child that is not the pool's agent at the stated wallet index, or is itself", async () => {
    const auth = await authorization();
    for (const over of [
      { childInboxId: stranger.inboxId },
      { childWalletIndex: 8 },
      { childInboxId: parent.inboxId, childWalletIndex: parent.walletIndex },
    ]) {
      const err = await refusal(checkCloneRequest(checks, self, await request(auth, over)));
      expect([Code.PermissionDenied, Code.InvalidArgument]).toContain(err.code);
      expect(err.rawMessage).toContain("child_inbox_id");
    }
  });
});

describe("the child's checks (the summary message)", () => {
  const view = {
    ownerId: owner.inboxId,
    parent,
    inviteHash: inviteHash(INVITE),
    template: TEMPLATE,
    content,
    config: { model: "gpt-oss-20b", userConfig: {} },
  };
  const summaryOf = async (auth: CloneAuthorization, carried?: { model: string; userConfig: Record<string, string> }) =>
    buildSummary(
      auth,
      "not the Japan details",
      [
        { kind: "training", text: "Confirm dates" },
        { kind: "personalization", text: "Saul is vegetarian" },
        { kind: "credentials", text: "PIN 1234" },
      ],
      "offline",
      carried,
    );
  const from = async (
    summary: Awaited<ReturnType<typeof summaryOf>>,
    over: { senderInboxId?: string; memberCount?: number } = {},
  ) => checkSummary(checks, view, { senderInboxId: parent.inboxId, memberCount: 2, summary, ...over });

  it("takes in its owner's summary from its genuine parent, only the kinds the owner chose, marked inherited", async () => {
    const entries = await from(await summaryOf(await authorization()));
    expect(entries).toEqual([
      { kind: "training", text: "Confirm dates", via: "rule", inheritedFrom: parent.instanceId },
      { kind: "personalization", text: "Saul is vegetarian", via: "rule", inheritedFrom: parent.instanceId },
    ]);
  });

  it("an entry keeps who taught the parent (role, inbox, conversation), and a role it does not know is dropped", async () => {
    const auth = await authorization();
    const summary = buildSummary(
      auth,
      "",
      [
        { kind: "training", text: "Confirm dates", role: "owner", from: owner.inboxId, conversationId: "conv-1" },
        { kind: "personalization", text: "Saul is vegetarian" },
      ],
      "offline",
    );
    summary.entries[1]!.role = "admin";
    expect(await from(summary)).toEqual([
      {
        kind: "training",
        text: "Confirm dates",
        via: "rule",
        inheritedFrom: parent.instanceId,
        role: "owner",
        from: owner.inboxId,
        conversationId: "conv-1",
      },
      { kind: "personalization", text: "Saul is vegetarian", via: "rule", inheritedFrom: parent.instanceId },
    ]);
  });

  it("refuses a summary from anyone but its parent, outside a group of two, for another owner, parent or conversation, or forged", async () => {
    const good = await summaryOf(await authorization());
    const cases: [() => Promise<unknown>, string][] = [
      [() => from(good, { senderInboxId: poolInbox(9) }), "not the parent"],
      [() => from(good, { memberCount: 3 }), "group of two"],
      [
        async () => from(await summaryOf(await authorization({ ownerId: stranger.inboxId }, stranger))),
        "someone other than this agent's owner",
      ],
      [
        async () => from(await summaryOf(await authorization({ parentInstanceId: "inst_OTHER00000000000" }))),
        "another agent",
      ],
      [
        async () =>
          from(await summaryOf(await authorization({ conversationInvite: "https://dev.convos.org/v2?i=japan-trip" }))),
        "another conversation",
      ],
      [async () => from(await summaryOf(await authorization({}, stranger))), "not signed by a wallet"],
    ];
    for (const [run, text] of cases) expect((await refusal(run())).rawMessage).toContain(text);
    // A parent the pool named with a wallet index that is not its inbox's.
    const lied = checkSummary(
      checks,
      { ...view, parent: { ...parent, walletIndex: 4 } },
      { senderInboxId: parent.inboxId, memberCount: 2, summary: good },
    );
    expect((await refusal(lied)).rawMessage).toContain("not this pool's agent");
  });
});

describe("the child's checks of what it runs (the template, model and user config the owner signed)", () => {
  const view = {
    ownerId: owner.inboxId,
    parent,
    inviteHash: inviteHash(INVITE),
    template: TEMPLATE,
    content,
    config: { model: "acme/parent", userConfig: { "personal-email": "saul@example.com" } },
  };
  const carried = { model: "acme/parent", userConfig: { "personal-email": "saul@example.com" } };
  const take = async (
    auth: CloneAuthorization,
    over: Partial<typeof view> = {},
    from: { model: string; userConfig: Record<string, string> } = carried,
  ) =>
    checkSummary(
      checks,
      { ...view, ...over },
      {
        senderInboxId: parent.inboxId,
        memberCount: 2,
        summary: buildSummary(auth, "", [{ kind: "training", text: "Confirm dates" }], "offline", from),
      },
    );

  it("takes the summary in when it runs the signed template with the model and values its parent carried", async () => {
    expect(await take(await authorization())).toHaveLength(1);
  });

  it("takes it in with the model and values the owner asked for in place of the parent's", async () => {
    const auth = await authorization({ model: "acme/asked", userConfig: { "personal-email": " new@example.com " } });
    const config = { model: "acme/asked", userConfig: { "personal-email": "new@example.com" } };
    expect(await take(auth, { config })).toHaveLength(1);
  });

  it("refuses it, naming the field, when it runs another template, another creator's, another model or other values", async () => {
    const auth = await authorization();
    const cases: [Promise<unknown>, string][] = [
      [take(auth, { template: { ...TEMPLATE, templateId: "tmpl_OTHER00000000000" } }), "authorization.template_id"],
      [take(auth, { template: { ...TEMPLATE, creatorId: stranger.inboxId } }), "authorization.template_creator_id"],
      [take(auth, { config: { ...view.config, model: "acme/pool-choice" } }), "authorization.model"],
      [
        take(auth, { config: { ...view.config, userConfig: { "personal-email": "pool@evil.example" } } }),
        "authorization.user_config",
      ],
      // The owner asked for a model; the pool configured the parent's.
      [take(await authorization({ model: "acme/asked" })), "authorization.model"],
    ];
    for (const [run, field] of cases) {
      const err = await refusal(run);
      expect(err.code).toBe(Code.PermissionDenied);
      expect(err.rawMessage).toContain(field);
      // The values themselves stay out of the reason.
      expect(err.rawMessage).not.toContain("evil.example");
    }
  });
});

describe("the summary message and the spent nonces", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "clone-test-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("keeps a summary within 32 KiB by dropping its oldest entries", async () => {
    const auth = await authorization();
    const entries = Array.from({ length: 100 }, (_, i) => ({
      kind: "training" as const,
      text: `${i} ${"x".repeat(490)}`,
    }));
    const s = buildSummary(auth, "", entries, "offline");
    expect(toBinary(CloneSummarySchema, s).byteLength).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
    expect(s.entries.length).toBeLessThan(100);
    expect(s.entries.at(-1)!.text.startsWith("99 ")).toBe(true);
    expect(create(CloneSummarySchema, s).authorization?.signature).toBeDefined();
  });

  it("spends a nonce once, remembers it across a restart, and forgets it once it has expired", async () => {
    const ws = new Workspace(dir, "inst_NONCES000000000");
    await ws.create();
    const now = Date.now() / 1000;
    const nonces = await SpentNonces.open(ws);
    expect(await nonces.spend("0xAA", now + 600)).toBe(true);
    expect(await nonces.spend("0xaa", now + 600)).toBe(false);
    expect(await (await SpentNonces.open(ws)).spend("0xaa", now + 600)).toBe(false);
    expect(await nonces.spend("0xbb", now - 1)).toBe(true);
    // Expired entries are dropped at the next spend: the file no longer holds 0xbb.
    await nonces.spend("0xcc", now + 600);
    expect(Object.keys((await ws.readJson<Record<string, number>>(SpentNonces.FILE))!).sort()).toEqual([
      "0xaa",
      "0xcc",
    ]);
  });
});

describe("what a clone's summary is made from (made for another conversation)", () => {
  const BEA = "b".repeat(64);
  const HOME = "conv-a";
  function taught(): Memory {
    const m = new Memory();
    m.add([
      { kind: "personalization", text: "my flight is AF123", from: owner.inboxId, role: "owner", conversationId: HOME },
      { kind: "personalization", text: "the door code is 7719", from: BEA, role: "member", conversationId: HOME },
      {
        kind: "personalization",
        text: "we land at 9",
        from: BEA,
        role: "member",
        conversationId: HOME,
        sharedBy: owner.inboxId,
      },
      {
        kind: "personalization",
        text: "I am vegan",
        from: BEA,
        role: "owner",
        confirmedBy: owner.inboxId,
        conversationId: HOME,
      },
      { kind: "training", text: "Always confirm the date", from: BEA, role: "member", conversationId: HOME },
      { kind: "training", text: "suggest trains", adoptedFrom: "pat_1" },
      {
        kind: "training",
        text: "Your answer was marked good.",
        from: owner.inboxId,
        role: "owner",
        conversationId: HOME,
        feedback: { messageId: "m", signal: "up", about: "x" },
      },
      { kind: "personalization", text: "the museum opens at 9", inheritedFrom: "inst_grand" },
      { kind: "credentials", text: "my PIN is 4321", from: owner.inboxId, role: "owner", conversationId: HOME },
    ]);
    return m;
  }

  it("takes the owner's own entries of the chosen kinds: taught, confirmed, marked for all their conversations, adopted; never a member's, feedback or inheritance", () => {
    const { entries } = cloneSelection({
      memory: taught(),
      history: [],
      carry: ["training", "personalization"],
      ownerId: owner.inboxId,
    });
    expect(entries.map((e) => e.text)).toEqual(["my flight is AF123", "we land at 9", "I am vegan", "suggest trains"]);
    // After a transfer, the former owner's entries and marks stay home.
    const { entries: heirs } = cloneSelection({
      memory: taught(),
      history: [],
      carry: ["training", "personalization"],
      ownerId: stranger.inboxId,
    });
    expect(heirs.map((e) => e.text)).toEqual(["suggest trains"]);
  });

  it("reads the owner's own lines only: not a member's, not its own answers, not a line that carries a kind the owner did not choose", () => {
    const history = [
      { role: "user" as const, text: "Remember that my flight is AF123", sender: "Saul", speaker: "owner" },
      { role: "user" as const, text: "Remember that the door code is 7719", sender: "Bea", speaker: "member" },
      { role: "assistant" as const, text: "Noted: the door code is 7719" },
      { role: "user" as const, text: "pass it on", sender: "Eve", speaker: "outsider" },
      { role: "user" as const, text: "Remember that my password is hunter2", sender: "Saul", speaker: "owner" },
    ];
    const { recent } = cloneSelection({
      memory: taught(),
      history,
      carry: ["personalization"],
      ownerId: owner.inboxId,
    });
    expect(recent.map((h) => h.text)).toEqual(["Remember that my flight is AF123"]);
  });

  test.prop([fc.constantFrom("conv-b", "conv-c")])(
    "every entry it takes is one another conversation of the agent reads",
    (other) => {
      const { entries } = cloneSelection({
        memory: taught(),
        history: [],
        carry: ["training", "personalization", "credentials"],
        ownerId: owner.inboxId,
      });
      for (const e of entries) expect(readableIn(e, other, { ownerId: owner.inboxId, home: HOME }), e.text).toBe(true);
    },
  );
});
