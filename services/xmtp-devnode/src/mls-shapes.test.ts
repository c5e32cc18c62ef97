// What MlsApi's requests may hold, and its answers' shapes: pure functions
// over requests built with the real @xmtp/proto codecs (from loosely typed
// literals) and the MLS fixtures; no store, no transport.
import { describe, expect, it } from "vitest";
import {
  checkCommitLogEntries,
  checkCommitLogQueries,
  commitLogPaging,
  commitLogQueryOf,
  groupMessageProto,
  groupMessagesOf,
  MAX_COMMIT_LOG_INSERTS,
  MAX_COMMIT_LOG_QUERIES,
  welcomeRowOf,
} from "./mls-shapes.js";
import { MAX_PAGE_SIZE, SortDirection } from "./paging.js";
import { mls } from "./proto.js";
import { RpcError, Status } from "./rpc-error.js";
import { mlsPrivateMessage } from "../test/fixtures.js";

/** The message of the INVALID_ARGUMENT `fn` threw. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof RpcError && err.code === Status.INVALID_ARGUMENT) return err.message;
    throw err;
  }
  throw new Error("not refused");
}

const sendGroup = (messages: unknown[]) => mls.SendGroupMessagesRequest.fromPartial({ messages } as never).messages;
const welcome = (input: unknown) =>
  mls.SendWelcomeMessagesRequest.fromPartial({ messages: [input] } as never).messages[0]!;

describe("groupMessagesOf", () => {
  it("reads each message's group and whether it is a commit from its MLS framing", () => {
    const g = Buffer.from("group-1");
    const [app, commit] = groupMessagesOf(
      sendGroup([
        { v1: { data: mlsPrivateMessage(g, { contentType: 1 }) } },
        { v1: { data: mlsPrivateMessage(g, { contentType: 3 }) } },
      ]),
    );
    expect(Buffer.from(app!.framing.groupId).toString()).toBe("group-1");
    expect([app!.framing.isCommit, commit!.framing.isCommit]).toEqual([false, true]);
  });

  it("refuses a send with no message, one without v1 or data, or one that is not MLS, naming its index", () => {
    expect(refusal(() => groupMessagesOf([]))).toBe("no group messages to send");
    expect(refusal(() => groupMessagesOf(sendGroup([{}])))).toBe("invalid group message");
    expect(refusal(() => groupMessagesOf(sendGroup([{ v1: { data: new Uint8Array(0) } }])))).toBe("message is empty");
    const ok = { v1: { data: mlsPrivateMessage(Buffer.from("g")) } };
    expect(refusal(() => groupMessagesOf(sendGroup([ok, { v1: { data: Uint8Array.from([1, 2, 3]) } }])))).toMatch(
      /^invalid group message 1: /,
    );
  });
});

describe("welcomeRowOf", () => {
  const key = Buffer.from("installation");

  it("stores a v1 welcome as type 0 and a welcome pointer as type 1", () => {
    expect(
      welcomeRowOf(welcome({ v1: { installationKey: key, data: Buffer.from("w"), hpkePublicKey: key } })),
    ).toMatchObject({ messageType: 0, data: Buffer.from("w") });
    const pointer = welcomeRowOf(
      welcome({
        welcomePointer: {
          installationKey: key,
          welcomePointer: Buffer.from("p"),
          hpkePublicKey: key,
          wrapperAlgorithm: 1,
        },
      }),
    );
    expect(pointer).toMatchObject({ messageType: 1, data: Buffer.from("p"), welcomeMetadata: Buffer.alloc(0) });
  });

  it("takes a v1 welcome without an HPKE key only when it is wrapped with a symmetric key", () => {
    const v1 = { installationKey: key, data: Buffer.from("w") };
    expect(refusal(() => welcomeRowOf(welcome({ v1 })))).toBe("invalid welcome message");
    expect(welcomeRowOf(welcome({ v1: { ...v1, wrapperAlgorithm: 3 } })).wrapperAlgorithm).toBe(3);
  });

  it("refuses a pointer missing a part or its wrapper algorithm, and a welcome of no version", () => {
    const p = { installationKey: key, welcomePointer: Buffer.from("p"), hpkePublicKey: key, wrapperAlgorithm: 1 };
    expect(refusal(() => welcomeRowOf(welcome({ welcomePointer: { ...p, hpkePublicKey: Buffer.alloc(0) } })))).toBe(
      "invalid welcome pointer message",
    );
    expect(refusal(() => welcomeRowOf(welcome({ welcomePointer: { ...p, wrapperAlgorithm: 0 } })))).toBe(
      "invalid welcome pointer wrapper algorithm",
    );
    expect(refusal(() => welcomeRowOf(welcome({})))).toBe("invalid welcome message: missing version");
  });
});

describe("the commit log's batches", () => {
  const entry = {
    groupId: Buffer.from("g"),
    serializedCommitLogEntry: Buffer.from("e"),
    signature: { bytes: Buffer.from("s") },
  };
  const entries = (list: unknown[]) =>
    mls.BatchPublishCommitLogRequest.fromPartial({ requests: list } as never).requests;
  const queries = (list: unknown[]) => mls.BatchQueryCommitLogRequest.fromPartial({ requests: list } as never).requests;

  it("takes 1 to 10 entries, each with a group, an entry and a signature", () => {
    expect(() => checkCommitLogEntries(entries([entry]))).not.toThrow();
    expect(refusal(() => checkCommitLogEntries([]))).toBe("no log entries to publish");
    expect(refusal(() => checkCommitLogEntries(entries(Array(MAX_COMMIT_LOG_INSERTS + 1).fill(entry))))).toBe(
      "cannot exceed 10 inserts in single batch",
    );
    expect(refusal(() => checkCommitLogEntries(entries([{ ...entry, signature: undefined }])))).toBe(
      "invalid commit log entry",
    );
  });

  it("takes 1 to 20 queries, ascending only, reading a full page when the limit is absent or out of range", () => {
    expect(refusal(() => checkCommitLogQueries([]))).toBe("no requests to query");
    expect(
      refusal(() => checkCommitLogQueries(queries(Array(MAX_COMMIT_LOG_QUERIES + 1).fill({ groupId: entry.groupId })))),
    ).toBe("cannot exceed 20 queries in single batch");
    const [plain, paged, tooMany, descending, noGroup] = queries([
      { groupId: entry.groupId },
      { groupId: entry.groupId, pagingInfo: { limit: 5, idCursor: 7 } },
      { groupId: entry.groupId, pagingInfo: { limit: MAX_PAGE_SIZE + 1 } },
      { groupId: entry.groupId, pagingInfo: { direction: SortDirection.Descending } },
      { groupId: new Uint8Array(0) },
    ]);
    expect(commitLogQueryOf(plain!)).toMatchObject({ after: 0n, limit: MAX_PAGE_SIZE });
    expect(commitLogQueryOf(paged!)).toMatchObject({ after: 7n, limit: 5 });
    expect(commitLogQueryOf(tooMany!).limit).toBe(MAX_PAGE_SIZE);
    expect(refusal(() => commitLogQueryOf(descending!))).toBe("descending direction is not supported");
    expect(refusal(() => commitLogQueryOf(noGroup!))).toBe("invalid request");
  });

  it("answers the last id as the cursor of a full page, and 0 when there is no more", () => {
    expect(commitLogPaging([1n, 2n], 2)).toEqual({ direction: SortDirection.Ascending, limit: 2, idCursor: "2" });
    expect(commitLogPaging([1n], 2).idCursor).toBe("0");
  });
});

describe("groupMessageProto", () => {
  it("leaves out a message's content when asked for its metadata only", () => {
    const row = {
      id: 3n,
      createdNs: 9n,
      groupId: Buffer.from("g"),
      data: Buffer.from("d"),
      senderHmac: Buffer.from("h"),
      shouldPush: true,
      isCommit: true,
    };
    expect(groupMessageProto(row).v1?.id.toString()).toBe("3");
    expect(groupMessageProto(row).v1).toMatchObject({
      data: Buffer.from("d"),
      shouldPush: true,
      isCommit: true,
    });
    expect(groupMessageProto(row, false).v1).toMatchObject({
      data: new Uint8Array(0),
      shouldPush: false,
      isCommit: true,
    });
  });
});
