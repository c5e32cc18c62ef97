import { inflateRawSync, inflateSync } from "node:zlib";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ConversationCustomMetadataSchema,
  type ConversationCustomMetadata,
} from "@convos-pool/gen/convos/app/v1/invite_pb.js";
import { MemberKind, ProfileUpdateSchema } from "@convos-pool/gen/convos/app/v1/profile_pb.js";

const COMPRESSED = 0x1f;
const MAX_APP_DATA = 1024 * 1024;

/**
 * A Convos group's app data: base64url of ConversationCustomMetadata, raw
 * deflate behind a 0x1f marker when that is smaller (zlib accepted too).
 * Undecodable app data reads as no metadata at all.
 */
export function readAppData(appData: string): ConversationCustomMetadata | undefined {
  if (!appData || !/^[A-Za-z0-9_-]+={0,2}$/.test(appData)) return undefined;
  try {
    let bytes: Buffer = Buffer.from(appData, "base64url");
    if (bytes[0] === COMPRESSED) {
      const body = bytes.subarray(5);
      try {
        bytes = inflateRawSync(body, { maxOutputLength: MAX_APP_DATA });
      } catch {
        bytes = inflateSync(body, { maxOutputLength: MAX_APP_DATA });
      }
    }
    return fromBinary(ConversationCustomMetadataSchema, bytes);
  } catch {
    return undefined;
  }
}

/** The inverse, uncompressed: for tests and for agents that create conversations. */
export function writeAppData(metadata: MessageInitShape<typeof ConversationCustomMetadataSchema>): string {
  return Buffer.from(
    toBinary(ConversationCustomMetadataSchema, create(ConversationCustomMetadataSchema, metadata)),
  ).toString("base64url");
}

/** XMTP's encoded content, as `Conversation.send` takes it. */
export interface EncodedContent {
  type: { authorityId: string; typeId: string; versionMajor: number; versionMinor: number };
  parameters: Record<string, string>;
  fallback?: string;
  content: Uint8Array;
}

export interface JoinRequest {
  inviteSlug: string;
  profile?: { name?: string; imageURL?: string; memberKind?: "agent" };
  metadata?: Record<string, string>;
}

/** convos.org/join_request:1.0: JSON, what Convos clients answer with `addMembers`. */
export function encodeJoinRequest(request: JoinRequest): EncodedContent {
  return {
    type: { authorityId: "convos.org", typeId: "join_request", versionMajor: 1, versionMinor: 0 },
    parameters: {},
    fallback: request.inviteSlug,
    content: new TextEncoder().encode(JSON.stringify(request)),
  };
}

/** A profile's metadata values: Convos' MetadataValue is a string, a number or a bool. */
export type ProfileMetadataValues = Record<string, string | number | boolean>;

/**
 * convos.org/profile_update:1.0: how a member announces its name, that it is
 * an agent, and its metadata (an agent's badge and certificate, its face).
 */
export function encodeProfileUpdate(
  name: string | undefined,
  agent = true,
  metadata: ProfileMetadataValues = {},
): EncodedContent {
  const update = create(ProfileUpdateSchema, {
    name,
    memberKind: agent ? MemberKind.AGENT : undefined,
    metadata: Object.fromEntries(
      Object.entries(metadata).map(([k, v]) => [
        k,
        {
          value:
            typeof v === "string"
              ? { case: "stringValue" as const, value: v }
              : typeof v === "number"
                ? { case: "numberValue" as const, value: v }
                : { case: "boolValue" as const, value: v },
        },
      ]),
    ),
  });
  return {
    type: { authorityId: "convos.org", typeId: "profile_update", versionMajor: 1, versionMinor: 0 },
    parameters: {},
    content: toBinary(ProfileUpdateSchema, update),
  };
}
