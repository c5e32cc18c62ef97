/**
 * The claim of an agent from the store (docs/claims.md): check the
 * request, prove the requester (proof.ts) and the template, claim an idle
 * instance atomically (within the owner's caps, holdings.ts), provision the
 * pool tools, configure the instance, join it to the conversation, make the
 * requester its owner. Any failure on the way rolls back (docs/claims.md).
 *
 * A clone with context (docs/claims.md, "Clone with context") is the
 * same claim of the parent's template, with the parent's model and user
 * config unless overridden, fresh pool tools, and the parent named to the
 * child; once the child has joined, the parent is asked for its summary,
 * which it sends the child directly (instance/src/clone.ts). The pool's
 * requester == owner check is a fast rejection only: the parent and the
 * child check the owner's signature themselves. A summary that does not come
 * leaves a working fresh agent, its inheritance `failed` with the reason.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ClaimRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import {
  CloneAuthorizationSchema,
  CloneSummaryRequestSchema,
  ConfigureRequestSchema,
  TransferOwnerRequestSchema,
  type CloneAuthorization,
  type InstanceServiceSetTrustLevelRequest,
  type ListActivityRequest,
  type ListActivityResponse,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { InheritanceSchema, InheritanceState, type Inheritance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  TemplateStatus,
  Visibility,
  type SignedTemplate,
  type Template,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  Batcher,
  canonicalCarry,
  cloneFields,
  consumeNonce,
  failedPrecondition,
  type FieldViolationInfo,
  fieldViolations,
  INBOX_ID_PATTERN,
  initialTrustLevel,
  INSTANCE_ID_PATTERN,
  invalidArgument,
  invalidArguments,
  type LimitConfig,
  type Logger,
  type ModelJson,
  nonceUsed,
  notFound,
  parseTrustLevel,
  permissionDenied,
  RateLimit,
  type SignatureVerifier,
  TEMPLATE_ID_PATTERN,
  type ToolJson,
  whileDatabaseAway,
} from "@convos-pool/kit";
import {
  agentForFlow,
  completeClaims,
  endClaim,
  failStalePending,
  isClaimedBy,
  settleInheritance,
  type FlowAgent,
  markRemoved,
  renewClaims,
  takeStaleClaims,
  toolsToRelease,
  type ClaimParams,
  type ClaimedInstance,
  type Completion,
  type ToolRef,
} from "./claim-sql.js";
import {
  awaitKey,
  checkIdempotencyKey,
  failStaleKeys,
  releaseKey,
  renewKeys,
  requestHash,
  settleKey,
  settleKeysDone,
  takeKey,
} from "./claim-keys.js";
import { claimBatch, claimWithinCaps } from "./holdings.js";
import { proveRequester, type Proof } from "./proof.js";
import { ProvisioningError } from "./providers/types.js";
import { askAgent, type InstanceRef, type InstanceRuntime } from "./runtime.js";
import { TrustLevel, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { PoolTools, ProvisionedTool } from "./pool-tools.js";
import { describeRelease } from "./sync.js";

/** A template, and its current content version as its creator signed it, with its bases' (its base first). */
export interface TemplateWithRelease {
  template: Template;
  release: SignedTemplate;
  bases: SignedTemplate[];
}

/** Reads templates (TemplateReleaseService); who may use one is decided here (visibleTo). */
export interface TemplateSource {
  getTemplate(templateId: string): Promise<TemplateWithRelease>;
}

/** Whether `who` may see the template: a public, active one anyone; any other its creator only. */
export function visibleTo(template: Template, who: string): boolean {
  return (
    (template.visibility === Visibility.PUBLIC && template.status === TemplateStatus.ACTIVE) ||
    template.creatorId === who
  );
}

export interface ClaimFlowDeps {
  em: EntityManager;
  templates: TemplateSource;
  /** Pool tools: provisioned and released through it alone. */
  tools: PoolTools;
  runtime: InstanceRuntime;
  /** Checks requesters' ClaimAgent signatures. */
  verifier: SignatureVerifier;
  /** claimsPerCaller, liveAgentsPerOwner, poolToolsPerOwner (docs/limits.md). */
  limits: LimitConfig;
  log: Logger;
  /** Counts a successful claim, and its owner, for the store's "most used" order; best effort. */
  recordUse?: (templateId: string, ownerId: string) => Promise<void>;
  /**
   * A claim's lease: its process renews it every quarter of it while the
   * claim is in flight; one not renewed for this long belongs to a process
   * that died, and the sweep resolves it. Default 20 s.
   */
  claimLeaseSeconds?: number;
}

const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;
const MAX_INVITE = 16 * 1024;
const MAX_MODEL = 200;
const MAX_USER_VALUE = 2000;
const MAX_CONTEXT_PROMPT = 4000;

export const NO_IDLE_AGENT = "no idle agent, try again";

/**
 * Claims in one batch statement at most, and such batches (of takes, and of
 * completions) at once. PostgreSQL runs a batch in one backend, one claim
 * after the other: four batches of up to 25 on four of the pool's
 * connections kept claims moving through their steps, where whole batches of
 * 50 marched together (measured, README "Claims": ratio 0.28 to 0.29 against
 * 0.26).
 */
const BATCH_SIZE = 25;
const BATCHES_IN_FLIGHT = 4;

/** Failures a client retries with the same request (docs/claims.md, "Retrying a claim"). */
const RETRIED_AS_IS = [Code.Unavailable, Code.DeadlineExceeded];

/** Join failures an instance reports itself (docs/instance.md): after them, a released instance is fit for reuse. */
const REPORTED_JOIN_FAILURES = [
  Code.InvalidArgument,
  Code.PermissionDenied,
  Code.FailedPrecondition,
  Code.DeadlineExceeded,
];

/** Where a claim was when it failed: decides what the rollback must undo. */
type Stage = "provision" | "configure" | "join" | "complete";

/** The checked request. */
interface ClaimInput {
  requester: string;
  templateId: string;
  invite: string;
  model: string;
  userConfig: Record<string, string>;
  /** A clone: the kinds that carry, canonical. */
  carry: string[];
}

/** Field checks that need no template: required fields, formats, sizes. */
export function checkClaimRequest(req: ClaimRequest): ClaimInput {
  const v: FieldViolationInfo[] = [];
  const bad = (field: string, description: string) => v.push({ field, description });
  if (!req.requester) bad("requester", "is required: the XMTP inbox ID of who adds the agent");
  else if (!INBOX_ID_PATTERN.test(req.requester))
    bad("requester", "must be an XMTP inbox ID (64 lower-case hex characters)");
  if (!req.templateId) {
    if (!req.cloneFrom) bad("template_id", "is required");
  } else if (!TEMPLATE_ID_PATTERN.test(req.templateId))
    bad("template_id", 'must be a template id such as "tmpl_" followed by 16 letters or digits');
  if (!req.conversationInvite.trim())
    bad("conversation_invite", "is required: the Convos invite link (or slug) of the conversation");
  else if (req.conversationInvite.length > MAX_INVITE)
    bad("conversation_invite", `must be at most ${MAX_INVITE} characters`);
  if (req.model && (req.model.length > MAX_MODEL || !MODEL_PATTERN.test(req.model))) {
    bad("model", `must be a model name (letters, digits and . _ : / @ + -, at most ${MAX_MODEL} characters)`);
  }
  for (const [key, value] of Object.entries(req.userConfig)) {
    if (value.length > MAX_USER_VALUE) bad(`user_config.${key}`, `must be at most ${MAX_USER_VALUE} characters`);
  }
  let carry: string[] = [];
  if (!req.cloneFrom) {
    if (req.contextPrompt) bad("context_prompt", "is only for a clone (with clone_from)");
    if (req.ownerSignature) bad("owner_signature", "is only for a clone (with clone_from)");
    if (req.carry.length > 0) bad("carry", "is only for a clone (with clone_from)");
  } else {
    if (!INSTANCE_ID_PATTERN.test(req.cloneFrom))
      bad("clone_from", 'must be an instance id such as "inst_" followed by 16 letters or digits');
    if (req.contextPrompt.length > MAX_CONTEXT_PROMPT)
      bad("context_prompt", `must be at most ${MAX_CONTEXT_PROMPT} characters`);
    if (!req.ownerSignature)
      bad("owner_signature", "is required for a clone: the parent's owner signs CloneAgent (docs/signatures.md)");
    if (req.signature) bad("signature", "a clone is signed with owner_signature (CloneAgent) alone");
    try {
      carry = canonicalCarry(req.carry);
    } catch (err) {
      const first = fieldViolationsOf(err)[0];
      if (first) v.push(first);
    }
  }
  if (v.length > 0) throw invalidArguments(v);
  return {
    requester: req.requester,
    templateId: req.templateId,
    invite: req.conversationInvite.trim(),
    model: req.model,
    userConfig: { ...req.userConfig },
    carry,
  };
}

/** The violations an error carries (canonicalCarry's INVALID_ARGUMENT). */
function fieldViolationsOf(err: unknown): FieldViolationInfo[] {
  return fieldViolations(ConnectError.from(err)).map((f) => ({ field: f.field, description: f.description }));
}

/**
 * A clone's model: the one asked for (as for a fresh claim), else the
 * parent's when its owner chose it and the newest release still allows a
 * choice, else the release's default.
 */
export function carriedModel(
  templateId: string,
  model: ModelJson,
  parent: Pick<FlowAgent, "model" | "modelOverridden">,
  requested: string,
): { model: string; overridden: boolean } {
  if (requested) return chooseModel(templateId, model, requested);
  if (parent.modelOverridden && parent.model && model.allow_override) return { model: parent.model, overridden: true };
  return { model: model.default, overridden: false };
}

/** A clone's user config: the parent's values the newest release still asks for, overridden by those given. */
export function carriedUserConfig(
  tools: ToolJson[],
  parent: Record<string, string>,
  given: Record<string, string>,
): Record<string, string> {
  const asked = new Set(tools.filter((t) => t.provisioning === "user").map((t) => t.id));
  const carried = Object.fromEntries(Object.entries(parent).filter(([k]) => asked.has(k)));
  return { ...carried, ...given };
}

/** A clone on its way: the parent, the owner's authorization (passed to the parent as signed), the kinds that carry. */
interface Clone {
  parent: FlowAgent;
  auth: CloneAuthorization;
  carry: string[];
}

/**
 * The template's user-provided tools against `user_config`: every required
 * one answered (the error carries the tool's prompt, so a client can ask it),
 * no key that is not one of them. Returns the non-empty values.
 */
export function checkUserConfig(
  templateId: string,
  tools: ToolJson[],
  given: Record<string, string>,
): Record<string, string> {
  const userTools = tools.filter((t) => t.provisioning === "user");
  const known = new Map(userTools.map((t) => [t.id, t]));
  const v: FieldViolationInfo[] = [];
  for (const key of Object.keys(given).sort()) {
    if (known.has(key)) continue;
    const pool = tools.some((t) => t.id === key && t.provisioning === "pool");
    v.push({
      field: `user_config.${key}`,
      description: pool
        ? `"${key}" is provisioned by the pool, not by you: leave it out`
        : `template ${templateId} asks for no value "${key}"` +
          (userTools.length > 0
            ? ` (it asks for: ${userTools.map((t) => t.id).join(", ")})`
            : " (it asks for no values)"),
    });
  }
  const out: Record<string, string> = {};
  for (const t of userTools) {
    const value = (given[t.id] ?? "").trim();
    if (value) out[t.id] = value;
    else if (t.required) v.push({ field: `user_config.${t.id}`, description: `is required: ${t.prompt}` });
  }
  if (v.length > 0) throw invalidArguments(v);
  return out;
}

/** The template's default model, or the requester's choice when the template allows one. */
export function chooseModel(
  templateId: string,
  model: ModelJson,
  requested: string,
): { model: string; overridden: boolean } {
  if (!requested || requested === model.default) return { model: model.default, overridden: false };
  if (!model.allow_override) {
    throw invalidArgument(
      "model",
      `template ${templateId} runs on ${model.default} and does not allow choosing another model`,
    );
  }
  return { model: requested, overridden: true };
}

export class ClaimFlow {
  private readonly tools: PoolTools;
  readonly claimLeaseSeconds: number;
  private readonly perCaller: RateLimit;
  /** The claims this process has in flight, by claim id: their leases are renewed (renewLeases). */
  private readonly inFlight = new Set<string>();
  /**
   * Claims in flight together take their instances in one statement and
   * complete in one (kit batcher.ts): a round trip each for many claims
   * instead of two per claim (docs/scaling.md, "Claims in batches"). What
   * arrives while BATCHES_IN_FLIGHT run goes in the next.
   */
  private readonly takes: Batcher<ClaimParams, ClaimedInstance | undefined>;
  private readonly completions: Batcher<{ completion: Completion; keyed: boolean }, boolean>;

  constructor(private readonly deps: ClaimFlowDeps) {
    this.tools = deps.tools;
    this.claimLeaseSeconds = deps.claimLeaseSeconds ?? 20;
    this.perCaller = new RateLimit("claims per caller", deps.limits.claimsPerCaller);
    this.takes = new Batcher(
      async (batch, settle) =>
        (await claimBatch(deps.em.fork(), batch, deps.limits)).forEach((got, i) => settle(i, got)),
      { maxInFlight: BATCHES_IN_FLIGHT, maxBatch: BATCH_SIZE },
    );
    this.completions = new Batcher(
      async (batch, settle) => (await this.complete(batch)).forEach((done, i) => settle(i, done)),
      {
        maxInFlight: BATCHES_IN_FLIGHT,
        maxBatch: BATCH_SIZE,
      },
    );
  }

  /**
   * Claims an agent for `req.requester`, who must be proven: `caller` (the
   * signed-in person the gateway forwarded) or the claim's own signature.
   * With an idempotency key, a retry gets the first claim's outcome
   * (claim-keys.ts): its agent, or its failure once it had taken one; a
   * failure before it took one leaves the key free for the retry.
   */
  async claim(req: ClaimRequest, caller?: string): Promise<{ instanceId: string; inheritance?: Inheritance }> {
    const input = checkClaimRequest(req);
    const key = checkIdempotencyKey(req.idempotencyKey);
    let clone: Clone | undefined;
    let proof: Proof;
    if (req.cloneFrom) {
      ({ clone, proof } = await this.prepareClone(req, input, caller));
    } else {
      proof = await proveRequester(
        this.deps.verifier,
        { ...input, conversationInvite: req.conversationInvite, signature: req.signature },
        caller,
      );
    }
    const claimId = randomUUID();
    if (key) {
      const first = await takeKey(this.deps.em.fork(), {
        requester: input.requester,
        key,
        hash: requestHash(req),
        claimId,
      });
      if (first) {
        const outcome =
          first.state === "pending"
            ? await awaitKey(this.deps.em, input.requester, key, (this.claimLeaseSeconds + 15) * 1000)
            : first;
        if (outcome.state === "failed") throw new ConnectError(outcome.message, outcome.code);
        return { instanceId: outcome.instanceId };
      }
    }
    this.inFlight.add(claimId);
    let took = false;
    try {
      return await this.claimWith(claimId, key !== undefined, req, input, proof, clone, () => (took = true));
    } catch (err) {
      if (key) await this.settleFailure(claimId, input.requester, key, took, err);
      throw err;
    } finally {
      this.inFlight.delete(claimId);
    }
  }

  /**
   * A keyed claim failed and was rolled back. Its failure is the key's
   * outcome once it had taken an instance, unless it is one that a client
   * retries as it is (a host or the network away: UNAVAILABLE,
   * DEADLINE_EXCEEDED): then, as before it took one, the key is freed, so
   * that the retry with the same key makes a new attempt.
   */
  private async settleFailure(
    claimId: string,
    requester: string,
    key: string,
    took: boolean,
    err: unknown,
  ): Promise<void> {
    const e = ConnectError.from(err);
    const settled = whileDatabaseAway(() =>
      took && !RETRIED_AS_IS.includes(e.code)
        ? settleKey(this.deps.em.fork(), claimId, { state: "failed", code: e.code, message: e.rawMessage })
        : releaseKey(this.deps.em.fork(), requester, key, claimId),
    );
    await settled.catch((dbErr: unknown) =>
      this.deps.log.error("a claim's idempotency key could not be settled; the sweep settles it", { err: dbErr }),
    );
  }

  /** Renews the leases of the claims in flight here (the server calls it every quarter of the lease). */
  async renewLeases(): Promise<void> {
    const ids = [...this.inFlight];
    if (ids.length === 0) return;
    await renewClaims(this.deps.em.fork(), ids);
    await renewKeys(this.deps.em.fork(), ids);
  }

  /** The claim itself, under `claimId`; `took` is called once it holds an instance. */
  private async claimWith(
    claimId: string,
    keyed: boolean,
    req: ClaimRequest,
    input: ClaimInput,
    proof: Proof,
    clone: Clone | undefined,
    took: () => void,
  ): Promise<{ instanceId: string; inheritance?: Inheritance }> {
    await this.perCaller.take(input.requester);
    const templateId = clone ? clone.parent.templateId! : input.templateId;

    // Step 4: visibility. A private template of someone else is NOT_FOUND,
    // exactly as a missing one (its id is its creator's secret).
    const { template, release, bases } = await this.deps.templates.getTemplate(templateId);
    if (!visibleTo(template, input.requester)) throw notFound(`template ${templateId}`);
    if (template.status === TemplateStatus.ARCHIVED) {
      throw failedPrecondition(`template ${templateId} is archived: it cannot be added to conversations`);
    }
    // Out of the store: agents already added keep working, no one else adds one (its creator still may, to fix it).
    if (template.delisting && template.creatorId !== input.requester) {
      throw failedPrecondition(
        `template ${templateId} was delisted from the store by its operators (${template.delisting.reason}): it cannot be added to conversations`,
      );
    }
    // What the agent will run on: the signed release with its bases, not the row around it.
    if (![release, ...bases].every((l) => l.content))
      throw new ConnectError(`template ${templateId} came without content`, Code.Internal);
    const described = describeRelease(release, bases);
    const { content, model: contentModel } = described;
    const userConfig = checkUserConfig(
      templateId,
      content.tools,
      clone ? carriedUserConfig(content.tools, clone.parent.userConfig, input.userConfig) : input.userConfig,
    );
    const { model, overridden } = clone
      ? carriedModel(templateId, contentModel, clone.parent, input.model)
      : chooseModel(templateId, contentModel, input.model);
    const poolTools = content.tools.filter((t) => t.provisioning === "pool");
    for (const t of poolTools) {
      if (!this.tools.providerOf(t.id))
        throw failedPrecondition(`template ${templateId} needs tool "${t.id}", which this pool cannot provision`);
    }

    // Step 6 (first half): the atomic claim of one idle instance.
    const instance = await this.takeIdle(proof, {
      claimId,
      ownerId: input.requester,
      toolsReserved: poolTools.length,
      templateId: template.id,
      templateVersion: Number(release.version),
      agentName: content.agent_name,
      model,
      modelOverridden: overridden,
      userConfig,
    });
    took();

    const provisioned: ProvisionedTool[] = [];
    let stage: Stage = "provision";
    try {
      // Step 5: pool-provisioned tools, each recorded (secrets sealed) as soon as it exists.
      for (const tool of poolTools) {
        try {
          provisioned.push(await this.tools.provision(instance.id, tool.id));
        } catch (err) {
          throw provisioningFailure(tool.id, err);
        }
      }

      // Step 6 (second half): configure.
      stage = "configure";
      await this.deps.runtime.configure(
        instance,
        create(ConfigureRequestSchema, {
          instanceId: instance.id,
          // As the creators signed them: the instance checks each signature before it accepts.
          template: release,
          bases,
          ownerId: input.requester,
          model,
          modelOverridden: overridden,
          tools: provisioned.map((t) => ({ toolId: t.toolId, handle: t.handle, secrets: t.secrets })),
          userConfig,
          // A clone learns who its parent is: it takes a summary only from that inbox, checked against the seed.
          ...(clone
            ? {
                parent: {
                  instanceId: clone.parent.id,
                  inboxId: clone.parent.inboxId,
                  walletIndex: clone.parent.walletIndex,
                },
              }
            : {}),
        }),
      );

      // Step 8: join the conversation from its invite.
      stage = "join";
      const { conversationId } = await this.deps.runtime.join(instance, input.invite);

      // Steps 7 and 9: the requester owns it, and only now is it claimed.
      stage = "complete";
      const done = await this.completions.add({
        keyed,
        completion: {
          instanceId: instance.id,
          claimId,
          ownerId: input.requester,
          conversationId,
          appliedKey: described.key,
          ...(clone ? { clone: { parentInstanceId: clone.parent.id, carry: clone.carry.join(",") } } : {}),
          // Where the agent started (it computes the same from the signed release).
          trustLevel: initialTrustLevel(parseTrustLevel(content.max_trust_level ?? "") ?? TrustLevel.UNSPECIFIED),
        },
      });
      if (!done) throw new ConnectError("the claim took too long and was abandoned; try again", Code.Aborted);
    } catch (err) {
      await this.rollback(instance, claimId, provisioned, stage, err);
      throw claimFailure(stage, err);
    }
    this.deps.log.info("claimed", {
      instanceId: instance.id,
      templateId: template.id,
      tools: provisioned.length,
      parentInstanceId: clone?.parent.id,
    });
    if (this.deps.recordUse) {
      this.deps
        .recordUse(template.id, input.requester)
        .catch((err: unknown) => this.deps.log.warn("usage count not recorded", { templateId: template.id, err }));
    }
    // Steps 11 to 15: the parent sends its summary to the child, past the pool.
    const inheritance = clone ? await this.askParent(clone, instance) : undefined;
    return { instanceId: instance.id, ...(inheritance ? { inheritance } : {}) };
  }

  /**
   * Completes a batch of claims: for each, whether its claim still held its
   * instance. A keyed claim's key says so in the same transaction, so a
   * retry never finds one without the other. The agents are in their
   * conversations now: a database away for a moment is waited for, not a
   * reason to undo them.
   */
  private async complete(batch: { completion: Completion; keyed: boolean }[]): Promise<boolean[]> {
    const completions = batch.map((b) => b.completion);
    const completeAll = async (em: EntityManager) => {
      const done = await completeClaims(em, completions);
      await settleKeysDone(
        em,
        batch
          .filter((b, i) => b.keyed && done[i])
          .map((b) => ({ claimId: b.completion.claimId, instanceId: b.completion.instanceId })),
      );
      return done;
    };
    return whileDatabaseAway(async (attempt) => {
      const done = batch.some((b) => b.keyed)
        ? await this.deps.em.fork().transactional(completeAll)
        : await completeAll(this.deps.em.fork());
      // A COMMIT lost with its connection may have gone through.
      if (attempt === 1) return done;
      return Promise.all(
        done.map(
          async (d, i) =>
            d ||
            isClaimedBy(
              this.deps.em.fork(),
              completions[i]!.instanceId,
              completions[i]!.ownerId,
              completions[i]!.conversationId,
            ),
        ),
      );
    });
  }

  /**
   * A clone's checks before anything is taken: the owner's CloneAgent
   * signature over exactly this clone (also the requester's proof, and its
   * nonce spent with the claim), then the fast requester == owner check (a
   * parent that is not the requester's is NOT_FOUND, as a missing one).
   */
  private async prepareClone(
    req: ClaimRequest,
    input: ClaimInput,
    caller: string | undefined,
  ): Promise<{ clone: Clone; proof: Proof }> {
    if (caller !== undefined && caller !== input.requester) {
      throw permissionDenied("requester must be the signed-in caller: the requester becomes the agent's owner");
    }
    const auth = create(CloneAuthorizationSchema, {
      ownerId: input.requester,
      parentInstanceId: req.cloneFrom,
      conversationInvite: input.invite,
      contextPrompt: req.contextPrompt,
      carry: input.carry,
      model: req.model,
      userConfig: req.userConfig,
      signature: req.ownerSignature,
    });
    const verified = await this.deps.verifier.verify(
      "CloneAgent",
      cloneFields(auth),
      req.ownerSignature,
      "owner_signature",
    );
    const parent = await agentForFlow(this.deps.em.fork(), req.cloneFrom);
    if (
      !parent ||
      parent.ownerId !== input.requester ||
      !["claimed", "crashed"].includes(parent.state) ||
      !parent.templateId
    ) {
      throw notFound(`instance ${req.cloneFrom}`);
    }
    if (parent.state !== "claimed")
      throw failedPrecondition(
        `clone_from: instance ${parent.id} is not running right now (its host lost it); try again when it is back`,
      );
    if (input.templateId && input.templateId !== parent.templateId) {
      throw invalidArgument("template_id", `a clone runs its parent's template (${parent.templateId}); leave it empty`);
    }
    return { clone: { parent, auth, carry: input.carry }, proof: { nonce: verified.nonce, purpose: "CloneAgent" } };
  }

  /**
   * Asks the parent for its summary (CloneSummary) and records the outcome
   * on the child: sent, or failed with why (the parent's refusal as it said
   * it, or that it did not answer). Never the summary: the pool has none.
   */
  private async askParent(clone: Clone, child: ClaimedInstance): Promise<Inheritance> {
    const carry = clone.carry;
    try {
      const res = await this.deps.runtime.cloneSummary(
        clone.parent,
        create(CloneSummaryRequestSchema, {
          childInstanceId: child.id,
          childInboxId: child.inboxId,
          childWalletIndex: child.walletIndex,
          authorization: clone.auth,
        }),
      );
      await settleInheritance(this.deps.em.fork(), child.id, { state: "sent" });
      this.deps.log.info("clone summary sent by the parent", {
        instanceId: child.id,
        parentInstanceId: clone.parent.id,
        entries: res.entries,
        via: res.via,
      });
      return create(InheritanceSchema, { state: InheritanceState.SENT, carry });
    } catch (err) {
      const e = ConnectError.from(err);
      const error = [Code.Unavailable, Code.Internal, Code.Unknown, Code.DeadlineExceeded, Code.Canceled].includes(
        e.code,
      )
        ? "the parent agent did not answer; this agent works without its summary"
        : `the parent agent refused to send its summary: ${e.rawMessage}`;
      await settleInheritance(this.deps.em.fork(), child.id, { state: "failed", error }).catch((dbErr: unknown) =>
        this.deps.log.error("a clone's inheritance could not be recorded", { instanceId: child.id, err: dbErr }),
      );
      this.deps.log.warn("clone summary not sent", {
        instanceId: child.id,
        parentInstanceId: clone.parent.id,
        code: Code[e.code],
        reason: e.rawMessage,
      });
      return create(InheritanceSchema, { state: InheritanceState.FAILED, carry, error });
    }
  }

  /**
   * Undoes a failed claim. Tools: each released by its provider and its row
   * deleted; a release that fails twice keeps the row as `release_failed`
   * for the sweep. Instance: not yet contacted (provisioning failed) -> idle;
   * configure failed -> released -> idle, or dead if the release fails too;
   * join failed as the instance reported it (the creator did not answer, the
   * invite was refused) -> released -> idle: it leaves the conversation, now
   * and whenever the creator adds it later (its join request outlives the
   * claim); dead if the release fails or the join failed unexpectedly (a
   * fault on its host). An instance with a tool not released is dead.
   */
  private async rollback(
    instance: ClaimedInstance,
    claimId: string,
    tools: ToolRef[],
    stage: Stage,
    cause: unknown,
  ): Promise<void> {
    let toolsReleased = true;
    for (const t of [...tools].reverse()) toolsReleased = (await this.tools.release(t)) && toolsReleased;
    // One made whose record was not written (the database away at that moment).
    if (stage === "provision") await this.tools.releaseUnrecorded(instance.id);
    let to: "idle" | "dead" = "idle";
    if (stage === "configure") {
      to = await this.deps.runtime.release(instance).then(
        () => "idle" as const,
        () => "dead" as const,
      );
    } else if (stage === "join") {
      const released = await this.deps.runtime.release(instance).then(
        () => true,
        () => false,
      );
      to = released && cause instanceof ConnectError && REPORTED_JOIN_FAILURES.includes(cause.code) ? "idle" : "dead";
    } else if (stage !== "provision") {
      await this.deps.runtime.release(instance).catch(() => {});
      to = "dead";
    }
    if (!toolsReleased) to = "dead";
    try {
      await whileDatabaseAway(() => endClaim(this.deps.em.fork(), { instanceId: instance.id, claimId, to }));
    } catch (err) {
      // Left `claiming`: the stale-claim sweep marks it dead later.
      this.deps.log.error("claim rollback could not update the instance", { instanceId: instance.id, err });
    }
    this.deps.log.warn("claim rolled back", { instanceId: instance.id, stage, instanceNow: to, toolsReleased, cause });
  }

  /**
   * The atomic claim statement, within the owner's caps when there are any
   * (one call: holdings.ts); with a signature to spend, in one transaction
   * with its nonce, so that a claim refused there takes nothing and spends
   * nothing.
   */
  private async takeIdle(proof: Proof, params: ClaimParams): Promise<ClaimedInstance> {
    // A signed claim spends its nonce in the transaction that takes its instance, so it goes alone.
    const found = (instance: ClaimedInstance | undefined) => {
      if (!instance) throw new ConnectError(NO_IDLE_AGENT, Code.ResourceExhausted);
      return instance;
    };
    if (!proof.nonce) return found(await this.takes.add(params));
    // Refused, it rolls back with its nonce unspent.
    return this.deps.em.fork().transactional(async (tx) => {
      if (
        !(await consumeNonce(tx, {
          nonce: proof.nonce!,
          inboxId: params.ownerId,
          purpose: proof.purpose ?? "ClaimAgent",
        }))
      ) {
        const field = proof.purpose === "CloneAgent" ? "owner_signature" : "signature";
        throw nonceUsed(`${field}.nonce`);
      }
      return found(await claimWithinCaps(tx, params, this.deps.limits));
    });
  }

  /** Asks the agent to take its new owner (it checks both signatures); the caller records it after. */
  transferOwner(
    instance: InstanceRef,
    req: { ownerId: string; newOwnerId: string; offer: Signature; acceptance: Signature },
  ): Promise<void> {
    return askAgent("the transfer", () =>
      this.deps.runtime.transferOwner(instance, create(TransferOwnerRequestSchema, req)),
    );
  }

  /** Asks the agent to take the owner's new trust level (it checks the signature and the template's highest); the caller records it after. */
  setTrustLevel(
    instance: InstanceRef,
    req: InstanceServiceSetTrustLevelRequest,
  ): Promise<{ trustLevel: number; dailySpendLimitWei: string }> {
    return askAgent("the trust level", () => this.deps.runtime.setTrustLevel(instance, req));
  }

  /** The agent's activity log, as it keeps it. */
  listActivity(instance: InstanceRef, req: ListActivityRequest): Promise<ListActivityResponse> {
    return askAgent("the activity log", () => this.deps.runtime.listActivity(instance, req));
  }

  /**
   * Removes an owner's agent (RemoveAgent): dead, with the nonce of the
   * owner's signature spent in the same statement's transaction; then it
   * leaves its conversation (Release) and its tools go back to their
   * providers. A host that does not answer: the agent is dead anyway, and the
   * pool manager stops and destroys it once its host answers again. False
   * when it is not the owner's live agent (any more).
   */
  async remove(instanceId: string, ownerId: string, nonce?: string): Promise<boolean> {
    const removed = await this.deps.em.fork().transactional(async (tx) => {
      if (nonce && !(await consumeNonce(tx, { nonce, inboxId: ownerId, purpose: "RemoveAgent" }))) {
        throw nonceUsed("owner_signature.nonce");
      }
      return markRemoved(tx, instanceId, ownerId);
    });
    if (!removed) return false;
    await this.deps.runtime.release(removed).catch((err: unknown) =>
      this.deps.log.warn("a removed agent's host did not answer; the pool manager destroys it later", {
        instanceId,
        err,
      }),
    );
    let toolsLeft = 0;
    const tools = (await toolsToRelease(this.deps.em.fork(), [instanceId])).filter((t) => t.instanceId === instanceId);
    for (const t of tools) if (!(await this.tools.release(t))) toolsLeft++;
    this.deps.log.info("agent removed by its owner", { instanceId, toolsLeft });
    return true;
  }

  /**
   * Cleans up after claims processes that died mid-claim: instances whose
   * claim's lease ran out become dead (they leave the conversation) and their
   * tools are released; the claims' keys say they failed; tools whose
   * release failed before are tried again.
   */
  async sweep(): Promise<{ staleClaims: number; toolsReleased: number }> {
    const stale = await takeStaleClaims(this.deps.em.fork(), this.claimLeaseSeconds);
    await failStaleKeys(
      this.deps.em.fork(),
      this.claimLeaseSeconds,
      "the claims process handling this claim stopped before it finished; the agent was taken back, try again with a new key",
    );
    // A parent asked in a claims process that died: its owner's signature has expired by now.
    await failStalePending(this.deps.em.fork(), 600);
    for (const instance of stale) await this.deps.runtime.release(instance).catch(() => {});
    const tools = await toolsToRelease(
      this.deps.em.fork(),
      stale.map((s) => s.id),
    );
    let released = 0;
    for (const t of tools) if (await this.tools.release(t)) released++;
    // A tool its provider made just before the process died has no record: given back by instance.
    for (const instance of stale) released += await this.tools.releaseUnrecorded(instance.id);
    if (stale.length > 0 || tools.length > 0) {
      this.deps.log.warn("sweep", {
        staleClaims: stale.length,
        toolsReleased: released,
        toolsLeft: tools.length - released,
      });
    }
    return { staleClaims: stale.length, toolsReleased: released };
  }
}

function provisioningFailure(toolId: string, err: unknown): ConnectError {
  if (err instanceof ProvisioningError) {
    return new ConnectError(
      `could not provision tool "${toolId}": ${err.message}; nothing was claimed, try again`,
      err.reason === "exhausted" ? Code.ResourceExhausted : Code.Unavailable,
    );
  }
  return new ConnectError(
    `could not provision tool "${toolId}": ${(err as Error)?.message ?? String(err)}; nothing was claimed, try again`,
    Code.Unavailable,
  );
}

/** What the requester learns of a failure after the claim began (rolled back by then). */
function claimFailure(stage: Stage, err: unknown): ConnectError {
  if (stage === "provision" && err instanceof ConnectError) return err;
  // A transport failure's message names internal addresses; the requester gets the gist, the log the rest.
  const reason = !(err instanceof ConnectError)
    ? "an internal error"
    : [Code.Unavailable, Code.Internal, Code.Unknown].includes(err.code)
      ? "the agent's host did not answer"
      : err.rawMessage;
  if (stage === "configure") {
    return new ConnectError(
      `the agent instance could not be configured (${reason}); nothing was claimed, try again`,
      Code.Unavailable,
    );
  }
  if (stage === "join") {
    const code = err instanceof ConnectError ? err.code : Code.Unavailable;
    if (code === Code.InvalidArgument) {
      // The instance names the invite too: its description, not the field twice.
      const said = fieldViolations(err).find((v) => v.field === "conversation_invite")?.description;
      return invalidArgument("conversation_invite", `could not be joined: ${said ?? reason}`);
    }
    const passOn = [Code.FailedPrecondition, Code.PermissionDenied, Code.NotFound, Code.DeadlineExceeded];
    return new ConnectError(
      `joining the conversation failed (${reason}); nothing was claimed`,
      passOn.includes(code) ? code : Code.Unavailable,
    );
  }
  if (err instanceof ConnectError) return err;
  return new ConnectError(
    `the claim could not be completed (${reason}); nothing was claimed, try again`,
    Code.Unavailable,
  );
}
