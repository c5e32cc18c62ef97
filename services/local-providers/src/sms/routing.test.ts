// smsRouteOf alone: a pure function of a method and a path, no server.
import { describe, expect, it } from "vitest";
import { smsRouteOf } from "./routing.js";

const route = (method: string, path: string) => smsRouteOf(method, path.split("/").slice(1));

describe("smsRouteOf", () => {
  it("names each of Telnyx's endpoints the stand-in answers, with the id its path holds", () => {
    expect(route("POST", "/v2/messaging_profiles")).toEqual({ kind: "createProfile" });
    expect(route("GET", "/v2/messaging_profiles")).toEqual({ kind: "listProfiles" });
    expect(route("PATCH", "/v2/messaging_profiles/p1")).toEqual({ kind: "updateProfile", id: "p1" });
    expect(route("PATCH", "/v2/phone_numbers/+15550100000/messaging")).toEqual({
      kind: "setNumberProfile",
      number: "+15550100000",
    });
    expect(route("GET", "/v2/available_phone_numbers")).toEqual({ kind: "searchNumbers" });
    expect(route("POST", "/v2/number_orders")).toEqual({ kind: "orderNumbers" });
    expect(route("GET", "/v2/number_orders/o1")).toEqual({ kind: "getOrder", id: "o1" });
    expect(route("GET", "/v2/phone_numbers")).toEqual({ kind: "listNumbers" });
    expect(route("DELETE", "/v2/phone_numbers/123")).toEqual({ kind: "releaseNumber", id: "123" });
    expect(route("POST", "/v2/messages")).toEqual({ kind: "sendMessage" });
  });

  it("names a local phone's messages whatever the method, the handler deciding which it answers", () => {
    expect(route("GET", "/local/phones/+15550100000/messages")).toEqual({ kind: "phone", number: "+15550100000" });
    expect(route("PUT", "/local/phones/+15550100000/messages")).toEqual({ kind: "phone", number: "+15550100000" });
  });

  it("tells a path outside /v2/ (not found without a key) from an unknown one under it (not found after the key)", () => {
    expect(route("GET", "/v1/messages")).toEqual({ kind: "outside" });
    expect(route("GET", "/local/phones/+15550100000")).toEqual({ kind: "outside" });
    expect(route("GET", "/local/phones/+15550100000/messages/1")).toEqual({ kind: "outside" });
    expect(route("GET", "/v2/messages")).toEqual({ kind: "unknown" });
    expect(route("DELETE", "/v2/messaging_profiles")).toEqual({ kind: "unknown" });
    expect(route("PATCH", "/v2/phone_numbers/+15550100000/messaging/x")).toEqual({ kind: "unknown" });
    expect(route("GET", "/v2/phone_numbers/123")).toEqual({ kind: "unknown" });
    expect(route("GET", "/v2")).toEqual({ kind: "unknown" });
  });
});
