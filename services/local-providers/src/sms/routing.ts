// Which of Telnyx's endpoints (or the keyless /local routes) a request asks
// for, decided from its method and path alone. Pure.

/** An endpoint of the API and what its path names. */
export type SmsRoute =
  /** /local/phones/{number}/messages: a local phone's texts (GET) or one it sends (POST). */
  | { kind: "phone"; number: string }
  /** Not under /v2/: not found, without asking for the key. */
  | { kind: "outside" }
  /** Under /v2/ but no endpoint: not found, once the key is checked. */
  | { kind: "unknown" }
  | { kind: "createProfile" | "listProfiles" | "searchNumbers" | "orderNumbers" | "listNumbers" | "sendMessage" }
  | { kind: "updateProfile" | "getOrder" | "releaseNumber"; id: string }
  | { kind: "setNumberProfile"; number: string };

export function smsRouteOf(method: string, path: readonly string[]): SmsRoute {
  const [top, collection, id, sub] = path;
  if (top === "local" && collection === "phones" && id !== undefined && sub === "messages" && path.length === 4)
    return { kind: "phone", number: id };
  if (top !== "v2") return { kind: "outside" };
  if (collection === "messaging_profiles" && id === undefined) {
    if (method === "POST") return { kind: "createProfile" };
    if (method === "GET") return { kind: "listProfiles" };
  }
  if (collection === "messaging_profiles" && id !== undefined && sub === undefined && method === "PATCH")
    return { kind: "updateProfile", id };
  if (
    collection === "phone_numbers" &&
    id !== undefined &&
    sub === "messaging" &&
    path.length === 4 &&
    method === "PATCH"
  )
    return { kind: "setNumberProfile", number: id };
  if (collection === "available_phone_numbers" && id === undefined && method === "GET")
    return { kind: "searchNumbers" };
  if (collection === "number_orders" && id === undefined && method === "POST") return { kind: "orderNumbers" };
  if (collection === "number_orders" && id !== undefined && sub === undefined && method === "GET")
    return { kind: "getOrder", id };
  if (collection === "phone_numbers" && id === undefined && method === "GET") return { kind: "listNumbers" };
  if (collection === "phone_numbers" && id !== undefined && sub === undefined && method === "DELETE")
    return { kind: "releaseNumber", id };
  if (collection === "messages" && id === undefined && method === "POST") return { kind: "sendMessage" };
  return { kind: "unknown" };
}
