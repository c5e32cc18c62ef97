// What a claim asks for, checked before anything is taken (request.ts),
// pure: no database, no services. Requests, templates and their signed
// releases are built here as the template service would return them; the
// signatures are not checked (instances check them, never the pool).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ClaimRequestSchema } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { SignatureSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  SignedTemplateSchema,
  TemplateDelistingSchema,
  TemplateSchema,
  TemplateStatus,
  Visibility,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { contentFromJson, fieldViolations, type TemplateContentJson, type ToolJson } from "@convos-pool/kit/content";
import {
  carriedModel,
  carriedUserConfig,
  checkClaimRequest,
  checkUserConfig,
  chooseModel,
  MAX_CONTEXT_PROMPT,
  MAX_INVITE,
  MAX_MODEL,
  MAX_USER_VALUE,
  MODEL_PATTERN,
  planClaim,
  visibleTo,
  type ClaimInput,
} from "./request.js";
import type { TemplateWithRelease } from "../templates/release.js";

const ALICE = "a".repeat(64);
const BOB = "b".repeat(64);
const TEMPLATE = "tmpl_AAAAAAAAAAAAAAAA";
const PARENT = "inst_BBBBBBBBBBBBBBBB";
const signature = () => create(SignatureSchema, { signature: "0x01", issuedAt: 1n, nonce: "n" });

const request = (over: MessageInitShape<typeof ClaimRequestSchema> = {}) =>
  create(ClaimRequestSchema, {
    requester: ALICE,
    templateId: TEMPLATE,
    conversationInvite: "https://convos.org/v2?i=abc",
    ...over,
  });
const clone = (over: MessageInitShape<typeof ClaimRequestSchema> = {}) =>
  request({ cloneFrom: PARENT, templateCreatorId: BOB, ownerSignature: signature(), ...over });

/** The fields an INVALID_ARGUMENT names, in order, with what it says of each; fails when it was accepted. */
function violations(fn: () => unknown): { field: string; description: string }[] {
  try {
    fn();
  } catch (err) {
    expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
    return fieldViolations(err).map((v) => ({ field: v.field, description: v.description }));
  }
  throw new Error("it was accepted");
}
const refused = (fn: () => unknown): string[] => violations(fn).map((v) => v.field);

/** The message of a refusal without named fields. */
function refusedWith(fn: () => unknown, code: Code): string {
  try {
    fn();
  } catch (err) {
    const e = ConnectError.from(err);
    expect(e.code).toBe(code);
    return e.rawMessage;
  }
  throw new Error("it was accepted");
}

const tool = (id: string, provisioning: "pool" | "user", extra: Partial<ToolJson> = {}): ToolJson => ({
  id,
  name: id,
  provisioning,
  description: "",
  prompt: provisioning === "user" ? `Your ${id}?` : "",
  required: false,
  ...extra,
});
const TOOLS = [tool("sms", "pool"), tool("personal-email", "user", { required: true }), tool("nickname", "user")];

describe("the request's own fields", () => {
  it("names its limits: the invite, the model, a user-config value, a clone's context prompt", () => {
    expect([MAX_INVITE, MAX_MODEL, MAX_USER_VALUE, MAX_CONTEXT_PROMPT]).toEqual([16 * 1024, 200, 2000, 4000]);
    expect(MODEL_PATTERN.test("acme/model-1.5:latest@eu+fast")).toBe(true);
    expect(MODEL_PATTERN.test("-leading-dash")).toBe(false);
    expect(MODEL_PATTERN.test("two words")).toBe(false);
  });

  it("takes a complete claim: the invite trimmed, the user config copied, no carry", () => {
    const req = request({ conversationInvite: "  slug-1  ", model: "gpt-oss-20b", userConfig: { nickname: "T" } });
    const input = checkClaimRequest(req);
    expect(input).toEqual({
      requester: ALICE,
      templateId: TEMPLATE,
      invite: "slug-1",
      model: "gpt-oss-20b",
      userConfig: { nickname: "T" },
      carry: [],
      confirmSecondAgent: false,
    });
    expect(input.userConfig).not.toBe(req.userConfig);
  });

  it("refuses a missing requester, or one that is not an XMTP inbox ID", () => {
    expect(refused(() => checkClaimRequest(request({ requester: "" })))).toEqual(["requester"]);
    expect(refused(() => checkClaimRequest(request({ requester: "A".repeat(64) })))).toEqual(["requester"]);
  });

  it("refuses a missing template id (a clone's too: its owner signs it), or one that is not a template id", () => {
    expect(refused(() => checkClaimRequest(request({ templateId: "" })))).toEqual(["template_id"]);
    expect(refused(() => checkClaimRequest(request({ templateId: "tmpl_short" })))).toEqual(["template_id"]);
    expect(refused(() => checkClaimRequest(clone({ templateId: "" })))).toEqual(["template_id"]);
    expect(checkClaimRequest(clone()).templateId).toBe(TEMPLATE);
  });

  it("refuses a clone without its template's creator, or with one that is not an inbox id, and a creator without a clone", () => {
    expect(refused(() => checkClaimRequest(clone({ templateCreatorId: "" })))).toEqual(["template_creator_id"]);
    expect(refused(() => checkClaimRequest(clone({ templateCreatorId: "bob" })))).toEqual(["template_creator_id"]);
    expect(refused(() => checkClaimRequest(request({ templateCreatorId: BOB })))).toEqual(["template_creator_id"]);
  });

  it("refuses a blank invite and one longer than MAX_INVITE", () => {
    expect(refused(() => checkClaimRequest(request({ conversationInvite: "   " })))).toEqual(["conversation_invite"]);
    expect(checkClaimRequest(request({ conversationInvite: "x".repeat(MAX_INVITE) })).invite).toHaveLength(MAX_INVITE);
    expect(refused(() => checkClaimRequest(request({ conversationInvite: "x".repeat(MAX_INVITE + 1) })))).toEqual([
      "conversation_invite",
    ]);
  });

  it("refuses a model that is not a model name (MODEL_PATTERN) or longer than MAX_MODEL", () => {
    expect(checkClaimRequest(request({ model: "m".repeat(MAX_MODEL) })).model).toHaveLength(MAX_MODEL);
    expect(refused(() => checkClaimRequest(request({ model: "m".repeat(MAX_MODEL + 1) })))).toEqual(["model"]);
    expect(refused(() => checkClaimRequest(request({ model: "gpt 4" })))).toEqual(["model"]);
  });

  it("refuses a user-config value longer than MAX_USER_VALUE, naming its key", () => {
    const ok = { nickname: "n".repeat(MAX_USER_VALUE) };
    expect(checkClaimRequest(request({ userConfig: ok })).userConfig).toEqual(ok);
    expect(
      refused(() => checkClaimRequest(request({ userConfig: { nickname: "n".repeat(MAX_USER_VALUE + 1) } }))),
    ).toEqual(["user_config.nickname"]);
  });

  it("refuses a clone's fields on a claim that is not a clone", () => {
    expect(refused(() => checkClaimRequest(request({ contextPrompt: "go on" })))).toEqual(["context_prompt"]);
    expect(refused(() => checkClaimRequest(request({ ownerSignature: signature() })))).toEqual(["owner_signature"]);
    expect(refused(() => checkClaimRequest(request({ carry: ["training"] })))).toEqual(["carry"]);
  });

  it("names every field wrong at once", () => {
    expect(
      refused(() => checkClaimRequest(request({ requester: "", templateId: "", conversationInvite: "" }))),
    ).toEqual(["requester", "template_id", "conversation_invite"]);
  });
});

describe("a clone's fields", () => {
  it("takes a clone: its carry canonical, the default carry when it names none", () => {
    expect(checkClaimRequest(clone({ carry: ["credentials", "training", "training"] })).carry).toEqual([
      "training",
      "credentials",
    ]);
    expect(checkClaimRequest(clone()).carry).toEqual(["training", "personalization"]);
  });

  it("refuses a parent that is not an instance id", () => {
    expect(refused(() => checkClaimRequest(clone({ cloneFrom: "inst_x" })))).toEqual(["clone_from"]);
  });

  it("refuses a context prompt longer than MAX_CONTEXT_PROMPT", () => {
    expect(checkClaimRequest(clone({ contextPrompt: "p".repeat(MAX_CONTEXT_PROMPT) }))).toBeDefined();
    expect(refused(() => checkClaimRequest(clone({ contextPrompt: "p".repeat(MAX_CONTEXT_PROMPT + 1) })))).toEqual([
      "context_prompt",
    ]);
  });

  it("refuses a clone without the owner's signature, and one signed as a plain claim", () => {
    expect(refused(() => checkClaimRequest(clone({ ownerSignature: undefined })))).toEqual(["owner_signature"]);
    expect(refused(() => checkClaimRequest(clone({ signature: signature() })))).toEqual(["signature"]);
  });

  it("refuses a kind of memory that does not exist, naming its place in carry", () => {
    expect(refused(() => checkClaimRequest(clone({ carry: ["training", "secrets"] })))).toEqual(["carry[1]"]);
  });
});

describe("user config against the template's tools", () => {
  it("keeps the values of the tools it asks for, trimmed, and drops empty optional ones", () => {
    expect(checkUserConfig(TEMPLATE, TOOLS, { "personal-email": " a@b.c ", nickname: " " })).toEqual({
      "personal-email": "a@b.c",
    });
  });

  it("refuses a required value not given, with the tool's prompt", () => {
    expect(refused(() => checkUserConfig(TEMPLATE, TOOLS, {}))).toEqual(["user_config.personal-email"]);
    expect(violations(() => checkUserConfig(TEMPLATE, TOOLS, { "personal-email": "  " }))).toEqual([
      { field: "user_config.personal-email", description: "is required: Your personal-email?" },
    ]);
  });

  it("refuses a value for a pool tool, and one the template does not ask for, naming what it asks for", () => {
    expect(refused(() => checkUserConfig(TEMPLATE, TOOLS, { "personal-email": "a@b.c", sms: "+1555" }))).toEqual([
      "user_config.sms",
    ]);
    expect(violations(() => checkUserConfig(TEMPLATE, TOOLS, { "personal-email": "a@b.c", colour: "blue" }))).toEqual([
      {
        field: "user_config.colour",
        description: `template ${TEMPLATE} asks for no value "colour" (it asks for: personal-email, nickname)`,
      },
    ]);
    expect(refused(() => checkUserConfig(TEMPLATE, [tool("sms", "pool")], { colour: "blue" }))).toEqual([
      "user_config.colour",
    ]);
  });

  it("refuses a value not of its tool's kind, naming the field in people's words and never repeating the value", () => {
    const err = violations(() => checkUserConfig(TEMPLATE, TOOLS, { "personal-email": "not-an-email" }));
    expect(err).toEqual([
      { field: "user_config.personal-email", description: "is not a mail address: write it as name@example.com" },
    ]);
    expect(JSON.stringify(err)).not.toContain("not-an-email");
    const typed = [tool("budget", "user", { kind: "number" }), tool("work-phone", "user")];
    expect(refused(() => checkUserConfig(TEMPLATE, typed, { budget: "lots", "work-phone": "555 1234" }))).toEqual([
      "user_config.budget",
      "user_config.work-phone",
    ]);
    expect(checkUserConfig(TEMPLATE, typed, { budget: "12.5", "work-phone": "+15551234567" })).toEqual({
      budget: "12.5",
      "work-phone": "+15551234567",
    });
    // Free text (a nickname) takes anything, as before kinds.
    expect(checkUserConfig(TEMPLATE, TOOLS, { "personal-email": "a@b.c", nickname: "not-an-email" })).toEqual({
      "personal-email": "a@b.c",
      nickname: "not-an-email",
    });
  });

  it("a clone carries the parent's values the newest release still asks for; the ones given win", () => {
    const parent = { "personal-email": "old@b.c", nickname: "Old", retired: "x" };
    expect(carriedUserConfig(TOOLS, parent, { nickname: "New" })).toEqual({
      "personal-email": "old@b.c",
      nickname: "New",
    });
  });
});

describe("the model", () => {
  const open = { default: "gpt-oss-20b", allow_override: true };
  const fixed = { default: "gpt-oss-20b", allow_override: false };
  const served = ["gpt-oss-20b", "acme/mine", "acme/asked", "acme/parent"];

  it("is the template's default, or the requester's choice where the template allows one", () => {
    expect(chooseModel(TEMPLATE, fixed, "", served)).toEqual({ model: "gpt-oss-20b", overridden: false });
    expect(chooseModel(TEMPLATE, fixed, "gpt-oss-20b", served)).toEqual({ model: "gpt-oss-20b", overridden: false });
    expect(chooseModel(TEMPLATE, open, "acme/mine", served)).toEqual({ model: "acme/mine", overridden: true });
    expect(refused(() => chooseModel(TEMPLATE, fixed, "acme/mine", served))).toEqual(["model"]);
  });

  it("a choice the pool does not serve is refused, naming the field and what it serves", () => {
    let message = "";
    try {
      chooseModel(TEMPLATE, open, "no-such-model-xyz", ["gpt-oss-20b", "gpt-oss-120b"]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("gpt-oss-20b, gpt-oss-120b");
    expect(refused(() => chooseModel(TEMPLATE, open, "no-such-model-xyz", ["gpt-oss-20b"]))).toEqual(["model"]);
    // A templates service that did not say what it serves: the template's word alone.
    expect(chooseModel(TEMPLATE, open, "acme/mine", [])).toEqual({ model: "acme/mine", overridden: true });
  });

  it("a clone's: the one asked for, else the parent's chosen one while the release allows a choice, else the default", () => {
    const chose = { model: "acme/parent", modelOverridden: true };
    expect(carriedModel(TEMPLATE, open, chose, "acme/asked", served)).toEqual({
      model: "acme/asked",
      overridden: true,
    });
    expect(carriedModel(TEMPLATE, open, chose, "", served)).toEqual({ model: "acme/parent", overridden: true });
    expect(carriedModel(TEMPLATE, fixed, chose, "", served)).toEqual({ model: "gpt-oss-20b", overridden: false });
    expect(carriedModel(TEMPLATE, open, { model: "gpt-oss-20b", modelOverridden: false }, "", served)).toEqual({
      model: "gpt-oss-20b",
      overridden: false,
    });
    expect(refused(() => carriedModel(TEMPLATE, fixed, chose, "acme/asked", served))).toEqual(["model"]);
    // The parent's choice the pool no longer serves: the release's default, not a model nobody answers to.
    expect(carriedModel(TEMPLATE, open, chose, "", ["gpt-oss-20b"])).toEqual({
      model: "gpt-oss-20b",
      overridden: false,
    });
  });
});

describe("the template, as the requester may claim it", () => {
  const content = (over: Partial<TemplateContentJson> = {}): TemplateContentJson => ({
    agent_name: "Trip Planner",
    instructions: "You plan trips.",
    model: { default: "gpt-oss-20b", allow_override: true },
    tools: TOOLS,
    description: "Plans trips",
    category: "travel",
    tags: [],
    ...over,
  });
  const got = (
    template: MessageInitShape<typeof TemplateSchema> = {},
    c: TemplateContentJson | null = content(),
  ): TemplateWithRelease => ({
    template: create(TemplateSchema, {
      id: TEMPLATE,
      creatorId: BOB,
      visibility: Visibility.PUBLIC,
      status: TemplateStatus.ACTIVE,
      ...template,
    }),
    release: create(SignedTemplateSchema, {
      templateId: TEMPLATE,
      creatorId: BOB,
      version: 3n,
      ...(c ? { content: contentFromJson(c) } : {}),
    }),
    bases: [],
  });
  const input = (over: Partial<ClaimInput> = {}): ClaimInput => ({
    requester: ALICE,
    templateId: TEMPLATE,
    invite: "slug",
    model: "",
    userConfig: { "personal-email": "a@b.c" },
    carry: [],
    confirmSecondAgent: false,
    ...over,
  });
  const any = () => true;

  it("who may see it: a public, active one anyone; any other its creator only", () => {
    expect(visibleTo(got().template, ALICE)).toBe(true);
    expect(visibleTo(got({ visibility: Visibility.PRIVATE }).template, ALICE)).toBe(false);
    expect(visibleTo(got({ visibility: Visibility.PRIVATE }).template, BOB)).toBe(true);
    expect(visibleTo(got({ status: TemplateStatus.ARCHIVED }).template, ALICE)).toBe(false);
  });

  it("plans the claim: the release resolved, the user config, the model, the pool tools", () => {
    const plan = planClaim(TEMPLATE, got(), input({ model: "acme/mine" }), undefined, any);
    expect(plan.release.key).toEqual([3]);
    expect(plan.userConfig).toEqual({ "personal-email": "a@b.c" });
    expect(plan).toMatchObject({ model: "acme/mine", overridden: true });
    expect(plan.poolTools.map((t) => t.id)).toEqual(["sms"]);
  });

  it("a private template of someone else is NOT_FOUND, exactly as a missing one", () => {
    expect(
      refusedWith(
        () => planClaim(TEMPLATE, got({ visibility: Visibility.PRIVATE }), input(), undefined, any),
        Code.NotFound,
      ),
    ).toBe(`template ${TEMPLATE} not found`);
  });

  it("an archived template is refused, to its creator too", () => {
    const archived = got({ status: TemplateStatus.ARCHIVED });
    expect(
      refusedWith(
        () => planClaim(TEMPLATE, archived, input({ requester: BOB }), undefined, any),
        Code.FailedPrecondition,
      ),
    ).toMatch(/is archived/);
  });

  it("a delisted template is refused to anyone but its creator, with the operators' reason", () => {
    const delisted = got({ delisting: create(TemplateDelistingSchema, { reason: "spam" }) });
    expect(refusedWith(() => planClaim(TEMPLATE, delisted, input(), undefined, any), Code.FailedPrecondition)).toMatch(
      /delisted from the store by its operators \(spam\)/,
    );
    expect(planClaim(TEMPLATE, delisted, input({ requester: BOB }), undefined, any).model).toBe("gpt-oss-20b");
    const held = got({ delisting: create(TemplateDelistingSchema, { reason: "a look-alike", operatorId: "pool" }) });
    expect(refusedWith(() => planClaim(TEMPLATE, held, input(), undefined, any), Code.FailedPrecondition)).toMatch(
      /was held by the pool \(a look-alike\)/,
    );
  });

  it("a release without content is an internal error", () => {
    expect(refusedWith(() => planClaim(TEMPLATE, got({}, null), input(), undefined, any), Code.Internal)).toMatch(
      /came without content/,
    );
  });

  it("a pool tool this pool cannot provision is refused before anything is taken", () => {
    expect(
      refusedWith(() => planClaim(TEMPLATE, got(), input(), undefined, (id) => id !== "sms"), Code.FailedPrecondition),
    ).toMatch(/needs tool "sms", which this pool cannot provision/);
  });

  it("checks the user config before the model", () => {
    expect(
      refused(() =>
        planClaim(
          TEMPLATE,
          got({}, content({ model: { default: "m", allow_override: false } })),
          input({ userConfig: {}, model: "x" }),
          undefined,
          any,
        ),
      ),
    ).toEqual(["user_config.personal-email"]);
  });

  it("a clone carries its parent's user config and chosen model", () => {
    const parent = { model: "acme/parent", modelOverridden: true, userConfig: { "personal-email": "p@b.c" } };
    const plan = planClaim(TEMPLATE, got(), input({ templateId: "", userConfig: {} }), parent, any);
    expect(plan).toMatchObject({
      userConfig: { "personal-email": "p@b.c" },
      model: "acme/parent",
      overridden: true,
    });
  });
});
