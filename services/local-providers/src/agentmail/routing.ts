// Which of AgentMail's endpoints (or the keyless /local routes) a request
// asks for, decided from its method and path alone, and whether a caller's
// key may take it. Pure.

/** An endpoint of the API and what its path names. */
export type AgentMailRoute =
  /** POST /local/messages: a person writes to an inbox here. */
  | { kind: "localSend" }
  /** GET /local/outbox/{address}: what inboxes here sent to a person. */
  | { kind: "localOutbox"; address: string }
  /** Any other /local path: not found, once the caller is known to be local. */
  | { kind: "localUnknown" }
  /** Not under /v0/inboxes: not found, without asking for a key. */
  | { kind: "outside" }
  /** Under /v0/inboxes but no endpoint: not found, once the key is checked. */
  | { kind: "unknown" }
  | { kind: "createInbox" }
  | { kind: "getInbox" | "deleteInbox" | "sendMessage" | "listMessages"; inboxId: string }
  | { kind: "getMessage"; inboxId: string; messageId: string }
  | { kind: "createKey"; inboxId: string }
  | { kind: "deleteKey"; inboxId: string; keyId: string }
  /** Under an inbox's api-keys but no endpoint: the organization's only, then not found. */
  | { kind: "unknownKeyRoute"; inboxId: string };

export function agentMailRouteOf(method: string, path: readonly string[]): AgentMailRoute {
  if (path[0] === "local") {
    const [, what, address] = path;
    if (method === "POST" && what === "messages" && path.length === 2) return { kind: "localSend" };
    if (method === "GET" && what === "outbox" && address !== undefined && path.length === 3)
      return { kind: "localOutbox", address };
    return { kind: "localUnknown" };
  }
  const [version, inboxes, inboxId, collection, id, action] = path;
  if (version !== "v0" || inboxes !== "inboxes") return { kind: "outside" };
  if (inboxId === undefined) return method === "POST" ? { kind: "createInbox" } : { kind: "unknown" };
  if (collection === undefined) {
    if (method === "GET") return { kind: "getInbox", inboxId };
    if (method === "DELETE") return { kind: "deleteInbox", inboxId };
  }
  if (collection === "api-keys" && action === undefined) {
    if (method === "POST" && id === undefined) return { kind: "createKey", inboxId };
    if (method === "DELETE" && id !== undefined) return { kind: "deleteKey", inboxId, keyId: id };
    return { kind: "unknownKeyRoute", inboxId };
  }
  if (collection === "messages") {
    if (method === "POST" && id === "send" && action === undefined) return { kind: "sendMessage", inboxId };
    if (method === "GET" && id === undefined) return { kind: "listMessages", inboxId };
    if (method === "GET" && id !== undefined && action === undefined)
      return { kind: "getMessage", inboxId, messageId: id };
  }
  return { kind: "unknown" };
}

/** Who is calling: the organization, or the inbox a scoped key belongs to. */
export type Caller = { org: true } | { org: false; inboxId: string };

/**
 * Whether the caller may take the route: the organization anything; an
 * inbox's key reads its inbox and its mail and sends from it, nothing else.
 * An unknown route is not refused here: it is not found.
 */
export function mayTake(who: Caller, route: AgentMailRoute): boolean {
  if (who.org) return true;
  switch (route.kind) {
    case "getInbox":
    case "sendMessage":
    case "listMessages":
    case "getMessage":
      return who.inboxId === route.inboxId.toLowerCase();
    case "unknown":
    case "outside":
    case "localSend":
    case "localOutbox":
    case "localUnknown":
      return true;
    default:
      return false;
  }
}
