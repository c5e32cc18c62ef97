// agentMailRouteOf and mayTake alone: pure functions of a method, a path and
// a caller, no server.
import { describe, expect, it } from "vitest";
import { agentMailRouteOf, mayTake, type AgentMailRoute } from "./routing.js";

const route = (method: string, path: string) => agentMailRouteOf(method, path.split("/").slice(1));
const inbox = "agent@agentmail.localhost";

describe("agentMailRouteOf", () => {
  it("names each of AgentMail's endpoints the stand-in answers, with the ids its path holds", () => {
    expect(route("POST", "/v0/inboxes")).toEqual({ kind: "createInbox" });
    expect(route("GET", `/v0/inboxes/${inbox}`)).toEqual({ kind: "getInbox", inboxId: inbox });
    expect(route("DELETE", `/v0/inboxes/${inbox}`)).toEqual({ kind: "deleteInbox", inboxId: inbox });
    expect(route("POST", `/v0/inboxes/${inbox}/api-keys`)).toEqual({ kind: "createKey", inboxId: inbox });
    expect(route("DELETE", `/v0/inboxes/${inbox}/api-keys/k1`)).toEqual({
      kind: "deleteKey",
      inboxId: inbox,
      keyId: "k1",
    });
    expect(route("POST", `/v0/inboxes/${inbox}/messages/send`)).toEqual({ kind: "sendMessage", inboxId: inbox });
    expect(route("GET", `/v0/inboxes/${inbox}/messages`)).toEqual({ kind: "listMessages", inboxId: inbox });
    expect(route("GET", `/v0/inboxes/${inbox}/messages/m1`)).toEqual({
      kind: "getMessage",
      inboxId: inbox,
      messageId: "m1",
    });
  });

  it("names the keyless /local routes, and any other /local path as unknown there", () => {
    expect(route("POST", "/local/messages")).toEqual({ kind: "localSend" });
    expect(route("GET", "/local/outbox/person@example.com")).toEqual({
      kind: "localOutbox",
      address: "person@example.com",
    });
    expect(route("GET", "/local/messages")).toEqual({ kind: "localUnknown" });
    expect(route("GET", "/local/outbox")).toEqual({ kind: "localUnknown" });
  });

  it("tells a path outside /v0/inboxes from an unknown one under it, and an unknown route under an inbox's keys", () => {
    expect(route("GET", "/v1/inboxes")).toEqual({ kind: "outside" });
    expect(route("GET", "/v0/domains")).toEqual({ kind: "outside" });
    expect(route("GET", "/v0/inboxes")).toEqual({ kind: "unknown" });
    expect(route("PUT", `/v0/inboxes/${inbox}`)).toEqual({ kind: "unknown" });
    expect(route("DELETE", `/v0/inboxes/${inbox}/messages/m1`)).toEqual({ kind: "unknown" });
    expect(route("GET", `/v0/inboxes/${inbox}/api-keys`)).toEqual({ kind: "unknownKeyRoute", inboxId: inbox });
    expect(route("GET", `/v0/inboxes/${inbox}/api-keys/k1/x`)).toEqual({ kind: "unknown" });
  });
});

describe("mayTake", () => {
  const scoped = { org: false as const, inboxId: inbox };
  const routes: AgentMailRoute[] = [
    { kind: "createInbox" },
    { kind: "getInbox", inboxId: inbox },
    { kind: "deleteInbox", inboxId: inbox },
    { kind: "createKey", inboxId: inbox },
    { kind: "deleteKey", inboxId: inbox, keyId: "k1" },
    { kind: "unknownKeyRoute", inboxId: inbox },
    { kind: "sendMessage", inboxId: inbox },
    { kind: "listMessages", inboxId: inbox },
    { kind: "getMessage", inboxId: inbox, messageId: "m1" },
  ];

  it("lets the organization's key take every route", () => {
    for (const r of routes) expect(mayTake({ org: true }, r)).toBe(true);
  });

  it("lets an inbox's key read its inbox and its mail and send from it, whatever the case of its address, and nothing else", () => {
    const taken = routes.filter((r) => mayTake(scoped, r)).map((r) => r.kind);
    expect(taken).toEqual(["getInbox", "sendMessage", "listMessages", "getMessage"]);
    expect(mayTake(scoped, { kind: "getInbox", inboxId: "Agent@AgentMail.localhost" })).toBe(true);
    expect(mayTake(scoped, { kind: "getInbox", inboxId: "other@agentmail.localhost" })).toBe(false);
    expect(mayTake(scoped, { kind: "sendMessage", inboxId: "other@agentmail.localhost" })).toBe(false);
  });
});
