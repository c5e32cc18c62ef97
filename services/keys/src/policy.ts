/**
 * Who is given an agent's key, pure (docs/security.md, "Agents' keys"): the
 * host the claims service places the agent on, under that host's own
 * credential, or the host a move is restoring it on while its own is marked
 * lost; never a caller that names a host, never the hosts' shared credential.
 * It does not look the placement up (service.ts) and never sees a key.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { INSTANCE_ID_PATTERN, invalidArgument, mayActFor, type Placement } from "@convos-pool/kit/content";

export type { Placement };
import { MAX_WALLET_INDEX } from "@convos-pool/kit/signing";

/** A malformed request, before anyone is asked anything: INVALID_ARGUMENT naming the field. */
export function argumentRefusal(req: { instanceId?: string; walletIndex: number }): ConnectError | undefined {
  if (req.instanceId !== undefined && !INSTANCE_ID_PATTERN.test(req.instanceId))
    return invalidArgument("instance_id", 'must be an instance id such as "inst_" followed by 16 letters or digits');
  if (!Number.isInteger(req.walletIndex) || req.walletIndex < 0 || req.walletIndex > MAX_WALLET_INDEX)
    return invalidArgument("wallet_index", `must be from 0 to ${MAX_WALLET_INDEX}`);
  return undefined;
}

/** A caller without a host's own credential (`callerHost` undefined: the hosts' shared one) is given no key. */
export function credentialRefusal(callerHost: string | undefined): ConnectError | undefined {
  return callerHost === undefined ? sharedCredentialRefusal() : undefined;
}

const sharedCredentialRefusal = () =>
  new ConnectError(
    "an agent's key goes only to the host that runs it, under that host's own credential (instance-host@<its address> in POOL_SERVICE_DIGESTS), not the hosts' shared one",
    Code.PermissionDenied,
  );

/**
 * Why `callerHost` may not have the key of the agent placed at `placement`,
 * asking for it at `walletIndex`; undefined when it may. The host is checked
 * before the index, so that a host the agent is not placed on learns nothing
 * about it but that it is not its own. The refusal never names the other host.
 */
export function releaseRefusal(
  placement: Placement,
  callerHost: string | undefined,
  walletIndex: number,
): ConnectError | undefined {
  if (callerHost === undefined) return sharedCredentialRefusal();
  if (!mayActFor(placement, callerHost))
    return new ConnectError(
      `instance_id: ${placement.instanceId} runs on another host; its key goes to that host alone`,
      Code.PermissionDenied,
    );
  if (walletIndex !== placement.walletIndex)
    return new ConnectError(
      `wallet_index: ${walletIndex} is not the index of ${placement.instanceId}; the pool runs it at ${placement.walletIndex}`,
      Code.FailedPrecondition,
    );
  return undefined;
}
