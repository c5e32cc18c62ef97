/**
 * MlsApi's requests and answers as data, pure: which group messages,
 * welcomes and commit-log entries a request may hold (refused with the
 * production node's messages), and the store's rows as the protocol's
 * messages and paging.
 */
import { MlsFramingError, parseGroupMessage, type GroupMessageFraming } from "./mls.js";
import { MAX_PAGE_SIZE, normalizePaging, SortDirection, type Page, type PagingOutput } from "./paging.js";
import { EMPTY, mls, toBigInt, type Long } from "./proto.js";
import { asBuffer } from "./request.js";
import { invalidArgument } from "./rpc-error.js";
import type { GroupMessageRow, WelcomeMessageRow } from "./store.js";

/** The production node's batch limits (clients know them). */
export const MAX_COMMIT_LOG_INSERTS = 10;
export const MAX_COMMIT_LOG_QUERIES = 20;

type SendGroupMessagesRequest = ReturnType<typeof mls.SendGroupMessagesRequest.decode>;
type GroupMessageInputV1 = NonNullable<SendGroupMessagesRequest["messages"][number]["v1"]>;
type WelcomeMessageInput = ReturnType<typeof mls.SendWelcomeMessagesRequest.decode>["messages"][number];
// The wrapper algorithms' enums, whose module the package does not export (its values are the protocol's numbers).
type WelcomeWrapperAlgorithm = NonNullable<WelcomeMessageInput["v1"]>["wrapperAlgorithm"];
type WelcomePointerWrapperAlgorithm = NonNullable<WelcomeMessageInput["welcomePointer"]>["wrapperAlgorithm"];

/** WELCOME_WRAPPER_ALGORITHM_SYMMETRIC_KEY: a welcome pointee, which has no HPKE key. */
const WRAPPER_SYMMETRIC_KEY: WelcomeWrapperAlgorithm = 3;
/** WELCOME_POINTER_WRAPPER_ALGORITHM_UNSPECIFIED: at or below it (UNRECOGNIZED is -1), no algorithm. */
const POINTER_WRAPPER_UNSPECIFIED: WelcomePointerWrapperAlgorithm = 0;
type CommitLogEntry = ReturnType<typeof mls.BatchPublishCommitLogRequest.decode>["requests"][number];
type CommitLogQuery = ReturnType<typeof mls.BatchQueryCommitLogRequest.decode>["requests"][number];

/** A welcome as the store keeps it, before it has an id and a time. */
export type NewWelcomeRow = Omit<WelcomeMessageRow, "id" | "createdNs">;

export function pageFrom(p: { direction: number; limit: number; idCursor: Long } | undefined): Page {
  return normalizePaging(p ? { direction: p.direction, limit: p.limit, idCursor: toBigInt(p.idCursor) } : undefined);
}

export function pagingProto(p: PagingOutput) {
  return { direction: p.direction, limit: p.limit, idCursor: p.idCursor.toString() };
}

/** A stored group message; without its content (data, sender HMAC, push) when `includeContent` is false. */
export function groupMessageProto(r: GroupMessageRow, includeContent = true) {
  return mls.GroupMessage.fromPartial({
    v1: {
      id: r.id.toString(),
      createdNs: r.createdNs.toString(),
      groupId: r.groupId,
      data: includeContent ? r.data : EMPTY,
      senderHmac: includeContent ? r.senderHmac : EMPTY,
      shouldPush: includeContent ? r.shouldPush : false,
      isCommit: r.isCommit,
    },
  });
}

/** A stored welcome: a welcome pointer (message type 1) or a v1 welcome. */
export function welcomeMessageProto(r: WelcomeMessageRow) {
  if (r.messageType === 1) {
    return mls.WelcomeMessage.fromPartial({
      welcomePointer: {
        id: r.id.toString(),
        createdNs: r.createdNs.toString(),
        installationKey: r.installationKey,
        welcomePointer: r.data,
        hpkePublicKey: r.hpkePublicKey,
        wrapperAlgorithm: r.wrapperAlgorithm,
      },
    });
  }
  return mls.WelcomeMessage.fromPartial({
    v1: {
      id: r.id.toString(),
      createdNs: r.createdNs.toString(),
      installationKey: r.installationKey,
      data: r.data,
      hpkePublicKey: r.hpkePublicKey,
      wrapperAlgorithm: r.wrapperAlgorithm,
      welcomeMetadata: r.welcomeMetadata,
    },
  });
}

/** Every message of a send, each with its MLS framing (its group, whether a commit); one bad message refuses them all. */
export function groupMessagesOf(
  messages: SendGroupMessagesRequest["messages"],
): { v1: GroupMessageInputV1; framing: GroupMessageFraming }[] {
  if (messages.length === 0) throw invalidArgument("no group messages to send");
  return messages.map((input, i) => {
    const v1 = input.v1;
    if (!v1) throw invalidArgument("invalid group message");
    if (v1.data.length === 0) throw invalidArgument("message is empty");
    try {
      return { v1, framing: parseGroupMessage(v1.data) };
    } catch (err) {
      if (err instanceof MlsFramingError) throw invalidArgument(`invalid group message ${i}: ${err.message}`);
      throw err;
    }
  });
}

/** A welcome to store: a v1 welcome (type 0) or a welcome pointer (type 1), each with what it needs. */
export function welcomeRowOf(input: WelcomeMessageInput): NewWelcomeRow {
  if (input.v1) {
    const v1 = input.v1;
    if (
      v1.data.length === 0 ||
      v1.installationKey.length === 0 ||
      (v1.hpkePublicKey.length === 0 && v1.wrapperAlgorithm !== WRAPPER_SYMMETRIC_KEY)
    ) {
      throw invalidArgument("invalid welcome message");
    }
    return {
      installationKey: asBuffer(v1.installationKey),
      messageType: 0,
      data: asBuffer(v1.data),
      hpkePublicKey: asBuffer(v1.hpkePublicKey),
      wrapperAlgorithm: v1.wrapperAlgorithm,
      welcomeMetadata: asBuffer(v1.welcomeMetadata),
    };
  }
  if (input.welcomePointer) {
    const p = input.welcomePointer;
    if (p.installationKey.length === 0 || p.welcomePointer.length === 0 || p.hpkePublicKey.length === 0) {
      throw invalidArgument("invalid welcome pointer message");
    }
    if (p.wrapperAlgorithm <= POINTER_WRAPPER_UNSPECIFIED)
      throw invalidArgument("invalid welcome pointer wrapper algorithm");
    return {
      installationKey: asBuffer(p.installationKey),
      messageType: 1,
      data: asBuffer(p.welcomePointer),
      hpkePublicKey: asBuffer(p.hpkePublicKey),
      wrapperAlgorithm: p.wrapperAlgorithm,
      welcomeMetadata: Buffer.alloc(0),
    };
  }
  throw invalidArgument("invalid welcome message: missing version");
}

/** A commit-log entry with its signature. */
export type SignedCommitLogEntry = CommitLogEntry & { signature: NonNullable<CommitLogEntry["signature"]> };

/**
 * The batch's entries, each with its signature. Refuses a batch that is empty,
 * too large, or holds an entry without a group, an entry or a signature.
 */
export function checkCommitLogEntries(entries: readonly CommitLogEntry[]): SignedCommitLogEntry[] {
  if (entries.length === 0) throw invalidArgument("no log entries to publish");
  if (entries.length > MAX_COMMIT_LOG_INSERTS) {
    throw invalidArgument(`cannot exceed ${MAX_COMMIT_LOG_INSERTS} inserts in single batch`);
  }
  return entries.map((e) => {
    const { signature } = e;
    if (e.groupId.length === 0 || e.serializedCommitLogEntry.length === 0 || !signature) {
      throw invalidArgument("invalid commit log entry");
    }
    return { ...e, signature };
  });
}

/** Refuses a batch of commit-log queries that is empty or too large. */
export function checkCommitLogQueries(queries: readonly CommitLogQuery[]): void {
  if (queries.length === 0) throw invalidArgument("no requests to query");
  if (queries.length > MAX_COMMIT_LOG_QUERIES) {
    throw invalidArgument(`cannot exceed ${MAX_COMMIT_LOG_QUERIES} queries in single batch`);
  }
}

/** One commit-log query: its group, the id after which to read, and how many; ascending only, as on the production node. */
export function commitLogQueryOf(q: CommitLogQuery): { groupId: Uint8Array; after: bigint; limit: number } {
  if (q.groupId.length === 0) throw invalidArgument("invalid request");
  if (q.pagingInfo?.direction === mls.SortDirection.SORT_DIRECTION_DESCENDING) {
    throw invalidArgument("descending direction is not supported");
  }
  const limit =
    q.pagingInfo && q.pagingInfo.limit > 0 && q.pagingInfo.limit <= MAX_PAGE_SIZE ? q.pagingInfo.limit : MAX_PAGE_SIZE;
  return { groupId: q.groupId, after: toBigInt(q.pagingInfo?.idCursor), limit };
}

/** The paging of a commit-log answer: the last id when the page is full (there may be more), else 0. */
export function commitLogPaging(ids: readonly bigint[], limit: number) {
  const last = ids.at(-1);
  return {
    direction: SortDirection.Ascending,
    limit,
    idCursor: ids.length >= limit && last !== undefined ? last.toString() : "0",
  };
}
