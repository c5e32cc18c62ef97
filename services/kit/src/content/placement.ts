/**
 * Where the claims service places an agent, and which host may act for it
 * (docs/security.md, "Agents' keys" and "Agents' money"): the keys service
 * releases an agent's key, and the payment signer signs its payments, only
 * for a host this says yes to.
 */

/** An agent's placement (InstancePlacementService's GetPlacementResponse, or the claims service's own row). */
export interface Placement {
  instanceId: string;
  /** The host its row names: where it runs, or ran last. */
  hostUrl: string;
  walletIndex: number;
  /** Whether that host is marked lost for good. */
  hostLost: boolean;
  /** The host a move is restoring it on; "" when none is under way. */
  movingTo: string;
}

/**
 * The host its row names (a host marked lost included: an agent that could
 * not be moved keeps running there), or the host a move is restoring it on,
 * only while its own is lost: `movingTo` alone, on a host that answers, gives
 * nothing.
 */
export function mayActFor(placement: Placement, host: string): boolean {
  if (host === placement.hostUrl) return true;
  return placement.hostLost && placement.movingTo !== "" && host === placement.movingTo;
}
