/**
 * What the claims service asks of a running agent on its host
 * (InstanceService): the InstanceRuntime, its answers, and how a host's
 * refusal reaches a client. Over gRPC: grpc-runtime.ts; in tests, a
 * stand-in host behind it.
 */
import type { AgentConversationState, InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type {
  AddConversationRequest,
  AttestRequest,
  CloneSummaryRequest,
  ConfigureRequest,
  InstanceServiceSetTrustLevelRequest,
  InstanceServiceSetPermissionsRequest,
  InstanceServiceSetParticipationRequest,
  ListActivityRequest,
  ListActivityResponse,
  GetFundsResponse,
  ToolCredential,
  TransferOwnerRequest,
  InstanceServiceWithdrawTransferRequest,
  NoteTransferOfferRequest,
  LeaveConversationRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { InstanceMemoryService } from "@convos-pool/gen/convos/pool/v1/instance_memory_service_pb.js";
import type { InstanceAddressBookService } from "@convos-pool/gen/convos/pool/v1/instance_address_book_service_pb.js";
import type { InstanceApprovalService } from "@convos-pool/gen/convos/pool/v1/instance_approval_service_pb.js";
import type { InstanceConfirmationService } from "@convos-pool/gen/convos/pool/v1/instance_confirmation_service_pb.js";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { ResolvedParticipation, ResolvedPermissions } from "@convos-pool/kit/content";

/** An instance as the claims service addresses it. */
export interface InstanceRef {
  id: string;
  /** Base URL of the instance host that runs it. */
  hostUrl: string;
  /** The instance's own XMTP inbox. */
  inboxId: string;
}

/** An instance's answer to a template update. */
export interface UpdateResult {
  /** Where the release it now runs stands: its template's version, then its bases'. */
  appliedKey: number[];
  /** The model it now runs on (the new default, or the owner's override). */
  model: string;
  /** Its trust level after the update (lowered to the release's highest); 0 when it did not say. */
  trustLevel: number;
}

/** One conversation of an agent as its host lists it (HostedInstance.conversations). */
export interface HostedConversation {
  conversationId: string;
  state: AgentConversationState;
}

/** One agent's answer within UpdateTemplates: applied, or the error its own UpdateTemplate would have given. */
export type BatchUpdateAnswer =
  | { instanceId: string; applied: UpdateResult }
  | { instanceId: string; error: ConnectError };

/**
 * What the claim flow and instruction sync ask of a running instance (InstanceService). The real
 * implementation is GrpcInstanceRuntime; tests of rollback put a stand-in
 * host behind it that fails on demand.
 */
export interface InstanceRuntime {
  /** Gives the instance its template, owner, model, tools and user config. */
  configure(instance: InstanceRef, req: ConfigureRequest): Promise<void>;
  /** Joins the conversation from its Convos invite; resolves once joined. */
  join(instance: InstanceRef, invite: string): Promise<{ conversationId: string }>;
  /** Wipes the instance's claim (credentials, owner, conversation) so it can be reused or destroyed. */
  release(instance: InstanceRef): Promise<void>;
  /**
   * Hands the instance a creator-signed template version and its bases',
   * unchanged, with every pool tool they declare (credentials included):
   * the set replaces the instance's tools.
   */
  updateTemplate(
    instance: InstanceRef,
    release: SignedTemplate,
    tools: ToolCredential[],
    bases: SignedTemplate[],
  ): Promise<UpdateResult>;
  /**
   * The same release for many agents of one host at once (InstanceHostService.UpdateTemplates),
   * each with its own tools; answered per agent, in order. UNIMPLEMENTED from a host that predates it.
   */
  updateTemplates(
    hostUrl: string,
    release: SignedTemplate,
    bases: SignedTemplate[],
    targets: { instance: InstanceRef; tools: ToolCredential[] }[],
  ): Promise<BatchUpdateAnswer[]>;
  /** The instance's state and the key of the release it has applied. */
  health(instance: InstanceRef): Promise<{ state: InstanceState; appliedKey: number[] }>;
  /** Members of the agent's conversation, itself included (a full conversation: docs/claims.md). */
  countMembers(instance: InstanceRef, timeoutMs: number): Promise<number>;
  /** Asks a clone's parent to send its summary; the parent checks the owner's signature and the child itself. */
  cloneSummary(parent: InstanceRef, req: CloneSummaryRequest): Promise<{ entries: number; via: string }>;
  /** Hands an agent to its new owner; it checks both signatures itself. */
  transferOwner(instance: InstanceRef, req: TransferOwnerRequest): Promise<void>;
  /** Voids the owner's offers to one inbox; it checks the owner's signature itself. */
  withdrawTransfer(instance: InstanceRef, req: InstanceServiceWithdrawTransferRequest): Promise<void>;
  /** Tells the agent of the owner's new offer, the only one it accepts from then on; it checks the signature itself. */
  noteTransferOffer(instance: InstanceRef, req: NoteTransferOfferRequest): Promise<void>;
  /** The owner's new trust level, which the agent checks and enforces itself. */
  setTrustLevel(
    instance: InstanceRef,
    req: InstanceServiceSetTrustLevelRequest,
  ): Promise<{ trustLevel: number; dailySpendLimitWei: string }>;
  /** The owner's new permissions, which the agent checks and enforces itself; what it took, defaults filled in. */
  setPermissions(instance: InstanceRef, req: InstanceServiceSetPermissionsRequest): Promise<ResolvedPermissions>;
  /** When the agent speaks, from its owner; it checks and enforces it itself. */
  setParticipation(instance: InstanceRef, req: InstanceServiceSetParticipationRequest): Promise<ResolvedParticipation>;
  /**
   * Joins one more conversation from its invite, as its owner signed it
   * (AddToConversation, which the agent checks itself); resolves with its
   * group id once it is in (it may wait for the invite's creator to let it in).
   */
  addConversation(instance: InstanceRef, req: AddConversationRequest): Promise<{ conversationId: string }>;
  /** Leaves one of its conversations, as its owner signed it (checked by the agent); its home after. */
  leaveConversation(instance: InstanceRef, req: LeaveConversationRequest): Promise<{ homeConversationId: string }>;
  /** The conversations its host lists for it (ListInstances); undefined when that host does not run it. */
  hostedConversations(instance: InstanceRef): Promise<HostedConversation[] | undefined>;
  /** The agent's activity log, newest first. */
  listActivity(instance: InstanceRef, req: ListActivityRequest): Promise<ListActivityResponse>;
  /** The agent's wallet balance and what it spent today against its limit, from its own wallet and ledger. */
  getFunds(instance: InstanceRef): Promise<GetFundsResponse>;
  /**
   * A fresh attestation of the pool, which the agent checks names it and publishes in its profile.
   * Those of one host made close together go as one InstanceHostService.AttestInstances call.
   */
  attest(instance: InstanceRef, req: AttestRequest): Promise<void>;
  /** InstanceMemoryService on the agent's host: its owner's memory calls (claims memory/service.ts). */
  memory(instance: InstanceRef): InstanceMemoryCall;
  /** InstanceAddressBookService on the agent's host: its owner's address-book calls (claims address-book/service.ts). */
  addressBook(instance: InstanceRef): InstanceAddressBookCall;
  /** InstanceApprovalService on the agent's host: its owner's answers to its questions (claims approvals/service.ts). */
  approvals(instance: InstanceRef): InstanceApprovalCall;
  /** InstanceConfirmationService on the agent's host: its owner's steps confirmed in Convos (claims confirmations/service.ts). */
  confirmations(instance: InstanceRef): InstanceConfirmationCall;
}

/** A client of the agent's host's InstanceConfirmationService and the options that name the agent in every call. */
export interface InstanceConfirmationCall {
  client: Client<typeof InstanceConfirmationService>;
  options: { headers: Record<string, string>; timeoutMs: number };
}

/** A client of the agent's host's InstanceApprovalService and the options that name the agent in every call. */
export interface InstanceApprovalCall {
  client: Client<typeof InstanceApprovalService>;
  options: { headers: Record<string, string>; timeoutMs: number };
}

/** A client of the agent's host's InstanceMemoryService and the options that name the agent in every call. */
export interface InstanceMemoryCall {
  client: Client<typeof InstanceMemoryService>;
  options: { headers: Record<string, string>; timeoutMs: number };
}

/** A client of the agent's host's InstanceAddressBookService and the options that name the agent in every call. */
export interface InstanceAddressBookCall {
  client: Client<typeof InstanceAddressBookService>;
  options: { headers: Record<string, string>; timeoutMs: number };
}

/**
 * The answer of a host built before a batch call (ConfigureInstances,
 * JoinConversations, AttestInstances, UpdateTemplates): UNIMPLEMENTED, or, to a
 * unary call over the Connect protocol, the kit server's NOT_FOUND for a path
 * it has no route for. An agent's own NOT_FOUND is its outcome, never the
 * whole call's.
 */
export function predatesBatchCalls(err: unknown): boolean {
  const code = ConnectError.from(err).code;
  return code === Code.Unimplemented || code === Code.NotFound;
}

/**
 * Asks an agent through its host. A host that does not answer is UNAVAILABLE
 * (nothing changed); the agent's own refusal is passed on as it said it, with
 * its details (the field it names), so a client reads them as from the pool.
 */
export async function askAgent<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = ConnectError.from(err);
    if ([Code.Unavailable, Code.Internal, Code.Unknown, Code.DeadlineExceeded].includes(e.code)) {
      throw new ConnectError("the agent's host did not answer; nothing changed, try again", Code.Unavailable);
    }
    const refused = new ConnectError(`the agent refused ${what}: ${e.rawMessage}`, e.code);
    refused.details = e.details;
    throw refused;
  }
}
