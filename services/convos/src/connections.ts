// ConvosConnections as the Convos apps speak it (the Convos CLI's
// skills/convos-cli/SKILL.md, "ConvosConnections" and "Capability
// Resolution"): what a person's phone publishes into a conversation
// (payloads), what an agent asks of it (invocations, capability requests)
// and what it answers. The codecs and types are the Convos CLI's own, so
// that the pool reads and writes exactly what the apps do.
import { randomUUID } from "node:crypto";
import type { ClientOptions } from "@xmtp/node-sdk";
import type { EncodedContent } from "./app-data.js";
import { CapabilityRequestCodec, type CapabilityRequest } from "@xmtp/convos-cli/utils/capabilityRequest";
import {
  CapabilityRequestResultCodec,
  type CapabilityRequestResultStatus,
} from "@xmtp/convos-cli/utils/capabilityRequestResult";
import { ConnectionInvocationCodec, type ConnectionInvocation } from "@xmtp/convos-cli/utils/connectionInvocation";
import { ConnectionInvocationResultCodec } from "@xmtp/convos-cli/utils/connectionInvocationResult";
import { ConnectionPayloadCodec } from "@xmtp/convos-cli/utils/connectionPayload";
import {
  dateToSwiftReference,
  type ArgumentValue,
  type ConnectionKind,
  type InvocationStatus,
} from "@xmtp/convos-cli/utils/connectionTypes";

export {
  ConnectionPayloadCodec,
  ContentTypeConnectionPayload,
  summarizeConnectionPayload,
  type ConnectionPayload,
} from "@xmtp/convos-cli/utils/connectionPayload";
export {
  ConnectionInvocationCodec,
  ContentTypeConnectionInvocation,
  type ConnectionInvocation,
} from "@xmtp/convos-cli/utils/connectionInvocation";
export {
  ConnectionInvocationResultCodec,
  ContentTypeConnectionInvocationResult,
  type ConnectionInvocationResult,
} from "@xmtp/convos-cli/utils/connectionInvocationResult";
export {
  CapabilityRequestCodec,
  ContentTypeCapabilityRequest,
  type CapabilityRequest,
} from "@xmtp/convos-cli/utils/capabilityRequest";
export {
  CapabilityRequestResultCodec,
  ContentTypeCapabilityRequestResult,
  type CapabilityRequestResult,
  type CapabilityRequestResultStatus,
} from "@xmtp/convos-cli/utils/capabilityRequestResult";
export {
  ALL_CONNECTION_CAPABILITIES,
  ALL_CONNECTION_KINDS,
  dateToSwiftReference,
  swiftReferenceToDate,
  type ArgumentValue,
  type ConnectionCapability,
  type ConnectionKind,
  type InvocationStatus,
} from "@xmtp/convos-cli/utils/connectionTypes";
export type { CapabilitySubject } from "@xmtp/convos-cli/utils/capabilityTypes";

/** ConvosConnections' five content types, which the Convos apps read (docs/connections.md): an agent's client and a person's both register them. */
export function connectionCodecs(): NonNullable<ClientOptions["codecs"]> {
  // The Convos CLI's codecs are typed against its own copy of the content-type primitives.
  return [
    new ConnectionPayloadCodec(),
    new ConnectionInvocationCodec(),
    new ConnectionInvocationResultCodec(),
    new CapabilityRequestCodec(),
    new CapabilityRequestResultCodec(),
  ] as unknown as NonNullable<ClientOptions["codecs"]>;
}

// What a phone sends, as the apps build it: the one place both phones the
// pool plays (the `person` tool's, and the tests') make it.

/** A payload of what `kind` shares, captured `at`. */
export function phonePayload(kind: ConnectionKind, data: Record<string, unknown>, at: Date): EncodedContent {
  return new ConnectionPayloadCodec().encode({
    id: randomUUID().toUpperCase(),
    schemaVersion: 1,
    source: kind,
    capturedAt: dateToSwiftReference(at),
    body: { type: kind, data },
  }) as EncodedContent;
}

/** A phone's answer to `inv`: its outputs only on success. */
export function invocationResult(
  inv: ConnectionInvocation,
  answer: { status: InvocationStatus; result?: Record<string, ArgumentValue>; errorMessage?: string | undefined },
  at: Date,
): EncodedContent {
  return new ConnectionInvocationResultCodec().encode({
    id: randomUUID().toUpperCase(),
    schemaVersion: 1,
    invocationId: inv.invocationId,
    kind: inv.kind,
    actionName: inv.action.name,
    status: answer.status,
    result: answer.status === "success" ? (answer.result ?? {}) : {},
    ...(answer.status !== "success" && answer.errorMessage ? { errorMessage: answer.errorMessage } : {}),
    completedAt: dateToSwiftReference(at),
  }) as EncodedContent;
}

/** A person's pick on the capability request `req`: an approval names the device's provider. */
export function capabilityResult(req: CapabilityRequest, pick: CapabilityRequestResultStatus): EncodedContent {
  return new CapabilityRequestResultCodec().encode({
    version: 1,
    requestId: req.requestId,
    status: pick,
    subject: req.subject,
    capability: req.capability,
    providers: pick === "approved" ? [`device.${req.subject}`] : [],
    availableActions: [],
  }) as EncodedContent;
}
