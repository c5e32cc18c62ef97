// The signing half of the pool's EIP-712 vocabulary: types, the fields of
// each operation, and signing with any wallet. Safe in a browser (the web app
// signs with it) as in Node; verification is signatures.ts's.
import { create } from "@bufbuild/protobuf";
import { keccak256, stringToBytes, toHex, type Hex, type TypedDataDefinition } from "viem";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { invalidArgument } from "./errors.js";
import { canonicalJson } from "./template-content.js";

/**
 * EIP-712 typed data for every signed operation of the pool. Each operation
 * has its own type, so a signature for one can never be replayed as another;
 * each names its target and carries issuedAt and a single-use nonce, and
 * the domain names the pool (signatureDomain). docs/signatures.md is the
 * reference for client authors.
 */
const DOMAIN_NAME = "Convos Agent Pool";
const DOMAIN_VERSION = "1";

/**
 * The pool id of `npm start` and of the tests; a deployed service refuses to
 * start without its own (POOL_ID), so that a signature made for one pool is
 * refused by every other.
 */
export const LOCAL_POOL_ID = "local";

const POOL_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether `id` can name a pool: lower-case letters, digits and inner dashes, at most 63. */
export function isPoolId(id: string): boolean {
  return POOL_ID.test(id);
}

/** The EIP-712 domain of every signature for the pool `poolId`: its salt is keccak256 of the id's UTF-8 bytes. */
export function signatureDomain(poolId: string): { name: string; version: string; salt: Hex } {
  if (!isPoolId(poolId)) throw new Error(`"${poolId}" is not a pool id (lower-case letters, digits, dashes)`);
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, salt: keccak256(stringToBytes(poolId)) };
}

/**
 * Where a sign-in is made for, as Sign-In with Ethereum (EIP-4361) names it:
 * the origin (scheme://host[:port]) of the page or client that signs in, and
 * the URI of the gateway it signs in to. CreateSession signs both and the
 * gateway refuses an origin that is not its own, so a sign-in that a
 * look-alike site (same pool id, its own origin) obtains is worthless here.
 */
// A type, not an interface: it is also an operation's fields (OperationFields).
export type SignInPlace = {
  origin: string;
  uri: string;
};

/**
 * The place of a sign-in to the gateway at `gatewayUrl` (the CLI's and the
 * web app's: the web app is served by its gateway): the URL's origin, and the
 * URL itself. Throws for a URL that is not http(s).
 */
export function signInPlace(gatewayUrl: string): SignInPlace {
  const u = new URL(gatewayUrl);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`not an http(s) URL: ${gatewayUrl}`);
  return { origin: u.origin, uri: u.href };
}

const envelope = [
  { name: "issuedAt", type: "uint64" },
  { name: "nonce", type: "bytes32" },
] as const;

export const SIGNED_TYPES = {
  // A sign-in, bound to where it was made for (SignInPlace).
  CreateSession: [
    { name: "inboxId", type: "string" },
    { name: "origin", type: "string" },
    { name: "uri", type: "string" },
    ...envelope,
  ],
  CreateTemplate: [{ name: "inboxId", type: "string" }, { name: "contentHash", type: "bytes32" }, ...envelope],
  UpdateTemplate: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "version", type: "uint64" },
    { name: "contentHash", type: "bytes32" },
    ...envelope,
  ],
  PatchTemplate: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "version", type: "uint64" },
    { name: "patchHash", type: "bytes32" },
    // The resulting content: every content version is signed over in full,
    // so an instance can check it without the patch or the version before.
    { name: "contentHash", type: "bytes32" },
    ...envelope,
  ],
  SetTemplateVisibility: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "version", type: "uint64" },
    { name: "visibility", type: "string" },
    ...envelope,
  ],
  ArchiveTemplate: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "version", type: "uint64" },
    ...envelope,
  ],
  DeleteTemplate: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "version", type: "uint64" },
    ...envelope,
  ],
  RollbackTemplate: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "version", type: "uint64" },
    { name: "targetVersion", type: "uint64" },
    // The restored content, for the same reason as PatchTemplate's.
    { name: "contentHash", type: "bytes32" },
    ...envelope,
  ],
  SetInstancePin: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "pinned", type: "bool" },
    ...envelope,
  ],
  // A claim by a client that keeps no session: the requester (inboxId) signs
  // what it asks for, so that nobody can claim in their name (claimFields).
  ClaimAgent: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "inviteHash", type: "bytes32" },
    { name: "model", type: "string" },
    { name: "userConfigHash", type: "bytes32" },
    ...envelope,
  ],
  RemoveAgent: [{ name: "inboxId", type: "string" }, { name: "instanceId", type: "string" }, ...envelope],
  // Clone with context: the parent's owner (inboxId) authorizes one clone of
  // one agent, running one creator's template, into one conversation, under
  // one directive, carrying the named kinds of memory, with one model and
  // user config (cloneFields). The parent checks it before it reads its
  // memory; the child before it takes the summary in.
  CloneAgent: [
    { name: "inboxId", type: "string" },
    { name: "parentInstanceId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "templateCreatorId", type: "string" },
    { name: "inviteHash", type: "bytes32" },
    { name: "directiveHash", type: "bytes32" },
    { name: "carry", type: "string" },
    { name: "configHash", type: "bytes32" },
    ...envelope,
  ],
  // Ownership transfer: the owner offers, the new owner accepts; the agent checks both.
  TransferAgent: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "newOwnerId", type: "string" },
    ...envelope,
  ],
  AcceptAgent: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "fromOwnerId", type: "string" },
    ...envelope,
  ],
  // The owner takes back an open offer: every offer of theirs to newOwnerId made before this one is void.
  WithdrawTransfer: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "newOwnerId", type: "string" },
    ...envelope,
  ],
  // The owner sets the agent's trust level (1 to 4) and, for level 4, its
  // daily spending limit in wei (0 otherwise); the agent checks it itself.
  SetTrustLevel: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "trustLevel", type: "uint8" },
    { name: "dailySpendLimitWei", type: "uint256" },
    ...envelope,
  ],
  // The owner sets whose requests the agent acts on (docs/trust.md, "Who may
  // ask"): a member's grant per tool (1 allow, 2 ask, 3 refuse) and whether it
  // answers outsiders' texts (1 none, 2 ask, 3 answer), defaults filled in.
  SetPermissions: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "memberSms", type: "uint8" },
    { name: "memberEmail", type: "uint8" },
    { name: "memberCrypto", type: "uint8" },
    { name: "outsiderReply", type: "uint8" },
    ...envelope,
  ],
  // The owner sets when the agent speaks (docs/instance.md): mode 0
  // by the conversation's size, 1 speak, 2 mention, 3 paused; a cooldown in
  // seconds after each answer.
  SetParticipation: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "mode", type: "uint8" },
    { name: "cooldownSeconds", type: "uint32" },
    ...envelope,
  ],
  // The owner's control over the agent's memory (docs/memory.md); the agent
  // checks each itself. recipientKey is the X25519 key the answer is sealed to;
  // ImportMemory signs the SHA-256 of the sealed file; ForgetMemory the
  // entry ids joined by ",".
  ExportMemory: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "recipientKey", type: "bytes32" },
    ...envelope,
  ],
  ImportMemory: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "sealedDigest", type: "bytes32" },
    ...envelope,
  ],
  ListMemory: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "recipientKey", type: "bytes32" },
    { name: "feedbackOnly", type: "bool" },
    ...envelope,
  ],
  ForgetMemory: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "entryIds", type: "string" },
    ...envelope,
  ],
  // The owner's address book kept by the agent (docs/address-book.md); the
  // agent checks each itself, so the pool cannot add a payee. ListContacts
  // names the X25519 key the listing is sealed to; SaveContact signs the
  // SHA-256 of the contact sealed to the agent's memory key; RemoveContacts
  // the contact ids joined by ",".
  ListContacts: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "recipientKey", type: "bytes32" },
    ...envelope,
  ],
  SaveContact: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "sealedDigest", type: "bytes32" },
    ...envelope,
  ],
  RemoveContacts: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "contactIds", type: "string" },
    ...envelope,
  ],
  // The owner opts the agent in or out of the pattern pool (docs/patterns.md).
  SetPatternSharing: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "offer", type: "bool" },
    { name: "adopt", type: "bool" },
    ...envelope,
  ],
  // The creator of a template holds pattern-pool lessons for approval, or stops (docs/patterns.md).
  SetPatternHold: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "hold", type: "bool" },
    ...envelope,
  ],
  // The creator approves (true) or rejects (false) one lesson for the template's agents.
  ReviewPattern: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "patternId", type: "string" },
    { name: "approve", type: "bool" },
    ...envelope,
  ],
  // Store curation (docs/store.md): an operator (inboxId, one of
  // POOL_OPERATORS) acts on a template; the words shown to its creator and
  // its agents' owners are signed with the action, which the curation log keeps.
  DelistTemplate: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "reason", type: "string" },
    ...envelope,
  ],
  RelistTemplate: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "note", type: "string" },
    ...envelope,
  ],
  DeclineTemplateReview: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "note", type: "string" },
    ...envelope,
  ],
  DismissTemplateReports: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "note", type: "string" },
    ...envelope,
  ],
  SetFeatured: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "featured", type: "bool" },
    ...envelope,
  ],
  // An operator lets the pool pay for numbers, mailboxes and wallet funding
  // under one template (creatorId "") or one creator's templates (templateId
  // ""): the tools comma-joined in sorted order, wei per new wallet, the most
  // such tools held at once (0: no quota). docs/limits.md.
  SetToolGrant: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "creatorId", type: "string" },
    { name: "tools", type: "string" },
    { name: "fundWei", type: "uint256" },
    { name: "maxLiveTools", type: "uint32" },
    ...envelope,
  ],
  // The owner takes their share of the agent's wallet (docs/tools.md, "Whose
  // money a wallet holds"): the funds go to the wallet that signs this.
  WithdrawFunds: [{ name: "inboxId", type: "string" }, { name: "instanceId", type: "string" }, ...envelope],
  // An agent's counts for one UTC day of the version it runs (docs/signals.md),
  // signed by the agent's own wallet (inboxId is the agent's inbox): its host
  // carries them to the lineage service and can change none of them.
  ReportVersionSignals: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "version", type: "string" },
    { name: "day", type: "string" },
    { name: "answers", type: "uint32" },
    { name: "people", type: "uint32" },
    { name: "thumbsUp", type: "uint32" },
    { name: "thumbsDown", type: "uint32" },
    { name: "corrections", type: "uint32" },
    { name: "forgetRequests", type: "uint32" },
    { name: "approvalsAsked", type: "uint32" },
    { name: "approvalsDeclined", type: "uint32" },
    { name: "toolCallsFailed", type: "uint32" },
    ...envelope,
  ],
  // Ratings in the store (docs/store.md, "Ratings"): an owner of an agent of
  // the template rates it (stars 1 to 5, review "" for none); the words are
  // signed as shown, so nobody between the owner and the store changes them.
  RateTemplate: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "stars", type: "uint8" },
    { name: "review", type: "string" },
    ...envelope,
  ],
  // The template's creator answers one owner's review, once.
  AnswerTemplateReview: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "reviewerId", type: "string" },
    { name: "answer", type: "string" },
    ...envelope,
  ],
  // An operator takes a review's words out of the store; the curation log keeps it.
  RemoveTemplateReview: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "reviewerId", type: "string" },
    { name: "reason", type: "string" },
    ...envelope,
  ],
  // The creator of a delisted template asks for a review of the version it is at.
  RequestTemplateReview: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "version", type: "uint64" },
    { name: "message", type: "string" },
    ...envelope,
  ],
} as const;

export type SignedOperation = keyof typeof SIGNED_TYPES;

/**
 * Fields an operation signs only when they are set (true): absent, its typed
 * data is the type above exactly, so every signature made before the field
 * existed still checks out and clients that never set it sign as before. Set,
 * the field comes before issuedAt and nonce, and the type differs: a signature
 * without it cannot be presented as one with it, nor the other way round.
 * A content change that takes the pool's wallet away from agents is published
 * only with its creator's acknowledgment (docs/templates.md, "A version
 * without the wallet").
 */
export const OPTIONAL_SIGNED_FIELDS: Partial<Record<SignedOperation, readonly { name: string; type: "bool" }[]>> = {
  UpdateTemplate: [{ name: "acknowledgeWalletRemoval", type: "bool" }],
  PatchTemplate: [{ name: "acknowledgeWalletRemoval", type: "bool" }],
  RollbackTemplate: [{ name: "acknowledgeWalletRemoval", type: "bool" }],
};

/** The EIP-712 fields of `operation` as signed with `fields`: its type, with each optional field that is set. */
export function signedTypeOf(
  operation: SignedOperation,
  fields: OperationFields,
): readonly { name: string; type: string }[] {
  const set = (OPTIONAL_SIGNED_FIELDS[operation] ?? []).filter((f) => fields[f.name] === true);
  const type = SIGNED_TYPES[operation];
  if (set.length === 0) return type;
  return [...type.slice(0, -envelope.length), ...set, ...envelope];
}

/** `fields` without the optional fields that are not set: what the typed data's message holds. */
export function signedMessage(operation: SignedOperation, fields: OperationFields): OperationFields {
  const optional = OPTIONAL_SIGNED_FIELDS[operation] ?? [];
  return Object.fromEntries(
    Object.entries(fields).filter(([k, v]) => v === true || !optional.some((f) => f.name === k)),
  );
}

/** The operation's own fields: everything but issuedAt and nonce. */
export type OperationFields = Record<string, string | bigint | number | boolean>;

/**
 * What signs: a viem local account, or an adapter of a browser wallet
 * (EIP-1193) that signs typed data with eth_signTypedData_v4.
 */
export interface TypedDataSigner {
  signTypedData(typedData: TypedDataDefinition): Promise<Hex>;
}

/**
 * Signs an operation for the pool `poolId` (the CLI and the web app ask the
 * gateway for it: SessionService.GetSigningDomain); tests and benchmarks
 * sign for LOCAL_POOL_ID.
 */
export async function signOperation(
  account: TypedDataSigner,
  operation: SignedOperation,
  fields: OperationFields & { inboxId: string },
  issuedAt: number = Math.floor(Date.now() / 1000),
  poolId: string = LOCAL_POOL_ID,
): Promise<Signature> {
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const signature = await account.signTypedData({
    domain: signatureDomain(poolId),
    types: { [operation]: signedTypeOf(operation, fields) },
    primaryType: operation,
    message: { ...signedMessage(operation, fields), issuedAt: BigInt(issuedAt), nonce },
  } as unknown as TypedDataDefinition);
  return create(SignatureSchema, { signature, issuedAt: BigInt(issuedAt), nonce });
}

/** A signed sign-in (CreateSession) as a client sends it: who, where for, and the signature. */
export type SignIn = SignInPlace & {
  inboxId: string;
  signature: Signature;
};

/** Signs in `inboxId` to the gateway at `gatewayUrl` (CreateSession over signInPlace): for the CLI, tests and benchmarks. */
export async function signSignIn(
  account: TypedDataSigner,
  inboxId: string,
  gatewayUrl: string,
  issuedAt?: number,
  poolId?: string,
): Promise<SignIn> {
  const place = signInPlace(gatewayUrl);
  const signature = await signOperation(account, "CreateSession", { inboxId, ...place }, issuedAt, poolId);
  return { inboxId, ...place, signature };
}

/**
 * The fields of a `ClaimAgent` signature, from the claim as sent: the invite
 * as keccak256 of its text with surrounding white space trimmed, the user
 * config as keccak256 of its canonical JSON (`{}` when empty), the model as
 * given ("" for the template's default). docs/signatures.md, "Claims".
 */
export function claimFields(claim: {
  requester: string;
  templateId: string;
  conversationInvite: string;
  model: string;
  userConfig: Record<string, string>;
}): OperationFields & { inboxId: string } {
  return {
    inboxId: claim.requester,
    templateId: claim.templateId,
    inviteHash: inviteHash(claim.conversationInvite),
    model: claim.model,
    userConfigHash: keccak256(stringToBytes(canonicalJson(claim.userConfig))),
  };
}

/** Signs a claim as a client without a session does (ClaimAgent over claimFields): for the CLI, tests and benchmarks. */
export function signClaim(
  account: TypedDataSigner,
  claim: Parameters<typeof claimFields>[0],
  issuedAt?: number,
  poolId?: string,
): Promise<Signature> {
  return signOperation(account, "ClaimAgent", claimFields(claim), issuedAt, poolId);
}

/** Memory kinds in their one canonical order (training, personalization, credentials: docs/memory.md). */
export const MEMORY_KINDS = ["training", "personalization", "credentials"] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];
/** What carries when the owner names nothing: credentials only when named. */
export const DEFAULT_CARRY: readonly MemoryKind[] = ["training", "personalization"];

/**
 * The kinds that carry, deduplicated, in canonical order: what `CloneAgent`
 * signs as `carry`, comma-joined. Empty means DEFAULT_CARRY; an unknown kind
 * throws INVALID_ARGUMENT naming `field`.
 */
export function canonicalCarry(kinds: readonly string[], field = "carry"): MemoryKind[] {
  kinds.forEach((k, i) => {
    if (!(MEMORY_KINDS as readonly string[]).includes(k)) {
      throw invalidArgument(`${field}[${i}]`, `"${k}" is not a kind of memory (${MEMORY_KINDS.join(", ")})`);
    }
  });
  if (kinds.length === 0) return [...DEFAULT_CARRY];
  return MEMORY_KINDS.filter((k) => kinds.includes(k));
}

/** A clone as the owner signs it (CloneAuthorization without its signature). */
export interface CloneToSign {
  ownerId: string;
  parentInstanceId: string;
  /** The parent's template, which the clone runs, and that template's creator. */
  templateId: string;
  templateCreatorId: string;
  conversationInvite: string;
  contextPrompt: string;
  carry: string[];
  model: string;
  userConfig: Record<string, string>;
}

/**
 * A clone's `configHash`: keccak256 of the canonical JSON of
 * `{"model": …, "user_config": {…}}` (keys sorted, no white space, as
 * contentHash's). One hash for both, so model and values are signed as one
 * configuration. docs/signatures.md, "Clone with context".
 */
export function cloneConfigHash(model: string, userConfig: Record<string, string>): Hex {
  return keccak256(stringToBytes(canonicalJson({ model, user_config: userConfig })));
}

/**
 * The fields of a `CloneAgent` signature: the template and its creator as
 * given, the invite as keccak256 of its trimmed text (as ClaimAgent's), the
 * directive as keccak256 of its exact text ("" when the owner gives none),
 * the kinds that carry comma-joined in canonical order, and the model as
 * asked ("" for the parent's) with the user config as asked (none: the
 * parent's) as `configHash`. docs/signatures.md, "Clone with context".
 */
export function cloneFields(clone: CloneToSign): OperationFields & { inboxId: string } {
  return {
    inboxId: clone.ownerId,
    parentInstanceId: clone.parentInstanceId,
    templateId: clone.templateId,
    templateCreatorId: clone.templateCreatorId,
    inviteHash: inviteHash(clone.conversationInvite),
    directiveHash: keccak256(stringToBytes(clone.contextPrompt)),
    carry: canonicalCarry(clone.carry).join(","),
    configHash: cloneConfigHash(clone.model, clone.userConfig),
  };
}

/** Signs a clone as its owner (CloneAgent over cloneFields): for the CLI, tests and benchmarks. */
export function signClone(
  account: TypedDataSigner,
  clone: CloneToSign,
  issuedAt?: number,
  poolId?: string,
): Promise<Signature> {
  return signOperation(account, "CloneAgent", cloneFields(clone), issuedAt, poolId);
}

/** keccak256 of a trimmed invite: how ClaimAgent and CloneAgent name a conversation. */
export function inviteHash(invite: string): Hex {
  return keccak256(stringToBytes(invite.trim()));
}

/** An agent's counts for one day of one version (docs/signals.md): counts only (its pin is the pool's record, not its word). */
export interface VersionSignalCounts {
  answers: number;
  people: number;
  thumbsUp: number;
  thumbsDown: number;
  corrections: number;
  forgetRequests: number;
  approvalsAsked: number;
  approvalsDeclined: number;
  toolCallsFailed: number;
}

/** What an agent signs of a day's counts (ReportVersionSignals). */
export interface VersionSignalsToSign {
  /** The agent's own inbox. */
  inboxId: string;
  instanceId: string;
  templateId: string;
  version: string;
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  counts: VersionSignalCounts;
}

/** The fields of a `ReportVersionSignals` signature: every count, beside the agent, version and day. */
export function versionSignalsFields(r: VersionSignalsToSign): OperationFields & { inboxId: string } {
  return {
    inboxId: r.inboxId,
    instanceId: r.instanceId,
    templateId: r.templateId,
    version: r.version,
    day: r.day,
    ...r.counts,
  };
}

/** Signs a day's counts as the agent (ReportVersionSignals over versionSignalsFields): for instance hosts and tests. */
export function signVersionSignals(
  account: TypedDataSigner,
  report: VersionSignalsToSign,
  issuedAt?: number,
  poolId?: string,
): Promise<Signature> {
  return signOperation(account, "ReportVersionSignals", versionSignalsFields(report), issuedAt, poolId);
}
