// The person tool's phone (phone.ts), pure: which asks it answers and what it
// answers them, each answer decoded with the Convos CLI's own codecs. The
// tool against a real XMTP node is person.int.test.ts.
import { describe, expect, it } from "vitest";
import {
  CapabilityRequestResultCodec,
  ConnectionInvocationResultCodec,
  ConnectionPayloadCodec,
  swiftReferenceToDate,
  type CapabilityRequest,
  type ConnectionInvocation,
  type ReadMessage,
} from "@convos-pool/convos";
import { answerTo, asksIn, sharePayload } from "./phone.js";

const ME = "ana";
const AGENT = "agent";
const invocation = (id: string, name = "create_event"): ConnectionInvocation => ({
  id: `I-${id}`,
  schemaVersion: 1,
  invocationId: id,
  kind: "calendar",
  action: { name, arguments: { title: { type: "string", value: "Dinner" } } },
  issuedAt: 0,
});
const request: CapabilityRequest = {
  version: 1,
  requestId: "r1",
  askerInboxId: AGENT,
  subject: "calendar",
  capability: "write_delete",
  rationale: "To clear what was cancelled",
};
const message = (id: string, ns: number, from: string, typeId: string, content: unknown): ReadMessage => ({
  id,
  sentAtNs: BigInt(ns),
  senderInboxId: from,
  contentType: { typeId },
  content,
});

describe("the person tool's phone", () => {
  it("publishes a kind's data as the apps do, captured when it says", () => {
    const at = new Date("2026-12-01T08:00:00Z");
    const decoded = new ConnectionPayloadCodec().decode(sharePayload("calendar", { summary: "1 event" }, at));
    expect(decoded).toMatchObject({
      schemaVersion: 1,
      source: "calendar",
      body: { type: "calendar", data: { summary: "1 event" } },
    });
    expect(swiftReferenceToDate(decoded.capturedAt)).toEqual(at);
  });

  it("answers what others asked and it has not answered yet, oldest first", () => {
    const asks = asksIn(
      [
        message("m3", 3, AGENT, "capability_request", request),
        message("m1", 1, AGENT, "connection_invocation", invocation("i1")),
        message("m2", 2, AGENT, "connection_invocation", invocation("i2")),
        message("m4", 4, ME, "connection_invocation_result", { invocationId: "i1" }),
        message("m5", 5, ME, "connection_invocation", invocation("i3")),
        message("m6", 6, AGENT, "text", "hello"),
      ],
      ME,
    );
    expect(asks.map((a) => a.id)).toEqual(["m2", "m3"]);
  });

  it("answers an invocation with the status asked, an event's id on a create that succeeded", () => {
    const ask = { id: "m1", from: AGENT, sentAtNs: 1n, invocation: invocation("i1") };
    const ok = answerTo(ask, { status: "success", pick: "approved" }, new Date());
    const result = new ConnectionInvocationResultCodec().decode(ok.content);
    expect(result).toMatchObject({
      invocationId: "i1",
      kind: "calendar",
      actionName: "create_event",
      status: "success",
    });
    expect(result.result.eventId?.value).toMatch(/^evt-[0-9a-f]{8}$/);
    expect(ok.line).toEqual({
      id: "m1",
      from: AGENT,
      kind: "calendar",
      action: "create_event",
      arguments: { title: "Dinner" },
      answered: { status: "success", result: { eventId: result.result.eventId?.value } },
    });

    const off = answerTo(
      ask,
      { status: "capability_not_enabled", errorMessage: "write_create", pick: "approved" },
      new Date(),
    );
    expect(new ConnectionInvocationResultCodec().decode(off.content)).toMatchObject({
      status: "capability_not_enabled",
      result: {},
      errorMessage: "write_create",
    });
    expect(off.line).toMatchObject({ answered: { status: "capability_not_enabled", errorMessage: "write_create" } });
  });

  it("answers a capability request with the person's pick, naming the phone as provider when approved", () => {
    const ask = { id: "m3", from: AGENT, sentAtNs: 3n, request };
    const yes = answerTo(ask, { status: "success", pick: "approved" }, new Date());
    expect(new CapabilityRequestResultCodec().decode(yes.content)).toMatchObject({
      requestId: "r1",
      status: "approved",
      providers: ["device.calendar"],
    });
    expect(yes.line).toEqual({
      id: "m3",
      from: AGENT,
      subject: "calendar",
      capability: "write_delete",
      rationale: "To clear what was cancelled",
      answered: { pick: "approved" },
    });
    const no = answerTo(ask, { status: "success", pick: "denied" }, new Date());
    expect(new CapabilityRequestResultCodec().decode(no.content)).toMatchObject({
      status: "denied",
      providers: [],
    });
  });
});
