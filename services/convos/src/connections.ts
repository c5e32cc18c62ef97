// ConvosConnections as the Convos apps speak it (the Convos CLI's
// skills/convos-cli/SKILL.md, "ConvosConnections" and "Capability
// Resolution"): what a person's phone publishes into a conversation
// (payloads), what an agent asks of it (invocations, capability requests)
// and what it answers. The codecs and types are the Convos CLI's own, so
// that the pool reads and writes exactly what the apps do.
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
