// What each of the pool's signed operations signs: its EIP-712 type, the
// fields it signs only when set, and the message of its typed data. Signing
// is sign.ts's, verification signatures.ts's; the fields of a claim, a clone
// and a day's counts are fields.ts's.

const envelope = [
  { name: "issuedAt", type: "uint64" },
  { name: "nonce", type: "bytes32" },
] as const;

/**
 * EIP-712 typed data for every signed operation of the pool. Each operation
 * has its own type, so a signature for one can never be replayed as another;
 * each names its target and carries issuedAt and a single-use nonce, and
 * the domain names the pool (signatureDomain). docs/signatures.md is the
 * reference for client authors.
 */
export const SIGNED_TYPES = {
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
  // A step of a staged rollout (docs/rollouts.md): the candidate version it
  // is of, the action (RolloutAction: 1 start, 2 widen, 3 pause, 4 resume,
  // 5 promote, 6 roll back), the share after it in hundredths of a percent,
  // and the rollout's bounds (jsonHash of RolloutBounds, defaults filled),
  // so no share or bound the creator did not sign is applied.
  RolloutStep: [
    { name: "inboxId", type: "string" },
    { name: "templateId", type: "string" },
    { name: "version", type: "uint64" },
    { name: "action", type: "uint8" },
    { name: "shareBasisPoints", type: "uint32" },
    { name: "boundsHash", type: "bytes32" },
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
  // ask"): a member's grant per tool (1 allow, 2 ask, 3 refuse), whether it
  // answers outsiders' texts (1 none, 2 ask, 3 answer) and where it asks the
  // owner's approval (1 in the conversation, 2 directly), defaults filled in.
  SetPermissions: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "memberSms", type: "uint8" },
    { name: "memberEmail", type: "uint8" },
    { name: "memberCrypto", type: "uint8" },
    { name: "outsiderReply", type: "uint8" },
    { name: "approvals", type: "uint8" },
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
  // One agent in several conversations (docs/design/one-agent-many-conversations.md).
  // The owner adds a running agent to the conversation of one invite
  // (inviteHash as ClaimAgent's), with its participation there (as
  // SetParticipation's) and its tools there (1 shared, 2 none). The agent
  // checks it itself before it joins: the pool's word never sends it
  // anywhere its owner's knowledge would be read.
  AddToConversation: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "inviteHash", type: "bytes32" },
    { name: "mode", type: "uint8" },
    { name: "cooldownSeconds", type: "uint32" },
    { name: "tools", type: "uint8" },
    ...envelope,
  ],
  // The owner takes the agent out of one of its conversations (its XMTP group id).
  RemoveFromConversation: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "conversationId", type: "string" },
    ...envelope,
  ],
  // SetParticipation in one named conversation: a type of its own, so a
  // signature for the home can never be applied to another conversation.
  SetConversationParticipation: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "conversationId", type: "string" },
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
  // Entries known in all the agent's conversations (share true), or back in
  // the one each came from (false); the ids joined by ",", as ForgetMemory's.
  ShareMemory: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "entryIds", type: "string" },
    { name: "share", type: "bool" },
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
  // The owner answers a question the agent asked before a gated act
  // (docs/trust.md, "Approvals"): questionId is the id of the message that
  // asked; approve true for yes. The agent checks it itself.
  AnswerApproval: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "questionId", type: "string" },
    { name: "approve", type: "bool" },
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
  // A read of an agent's activity with its recipients and amounts: a session alone reads it without them.
  ReadAgentActivity: [{ name: "inboxId", type: "string" }, { name: "instanceId", type: "string" }, ...envelope],
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
    { name: "pauses", type: "uint32" },
    { name: "stopRequests", type: "uint32" },
    // personsDigest of the day's counts per person (fields.ts): "" for none.
    { name: "persons", type: "string" },
    ...envelope,
  ],
  // An agent's high-water mark (docs/scaling.md, "Only the newest state"):
  // the vault kept its state at this sequence. Signed by the agent's own
  // wallet (inboxId is the agent's inbox); kept by the lineage service, read
  // back by the host that restores the agent, which opens nothing older.
  MarkAgentState: [
    { name: "inboxId", type: "string" },
    { name: "instanceId", type: "string" },
    { name: "sequence", type: "uint64" },
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
  // The requester confirmed a second agent of the template in the conversation (docs/claims.md); optional,
  // so that the claims signed before it existed, kept in agents' certificates, still verify.
  ClaimAgent: [{ name: "secondAgent", type: "bool" }],
  // The owner confirmed adding it beside another agent of its template already in that conversation.
  AddToConversation: [{ name: "secondAgent", type: "bool" }],
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
