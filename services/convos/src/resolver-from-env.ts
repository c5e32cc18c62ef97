import { DerivedInboxResolver, type InboxResolver } from "@convos-pool/kit/signing";
import type { Logger } from "@convos-pool/kit/server";

/**
 * The inbox check a service runs with: the XMTP network at XMTP_API_URL, or,
 * without it, the offline derivation (which cannot see wallets added to an
 * inbox or removed from it), said loudly.
 */
export async function inboxResolverFromEnv(log: Logger): Promise<InboxResolver> {
  const apiUrl = process.env.XMTP_API_URL;
  if (!apiUrl) {
    log.warn("XMTP_API_URL is not set: signatures are checked by inbox derivation only, not against the XMTP network");
    return new DerivedInboxResolver();
  }
  // Loaded only here: the SDK's native binding is large and the offline check does not need it.
  const { XmtpInboxResolver } = await import("./identity.js");
  return XmtpInboxResolver.connect({ apiUrl });
}
