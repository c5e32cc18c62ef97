/**
 * The handlers of `xmtp.identity.api.v1.IdentityApi`: publishing identity
 * updates, reading them back byte for byte, the address map, and smart
 * contract wallet signatures (which a node without a chain cannot verify).
 */
import type { NodeContext } from "./context.js";
import { isEthereumKind, normalizeAddress, parsePublishIdentityUpdateRequest } from "./identity.js";
import { EMPTY, encode, identityApi, toBigInt, type GetInboxIdsResponse } from "./proto.js";
import { decode } from "./request.js";
import type { IdentityUpdateRow } from "./store.js";
import { WireWriter } from "./wire.js";

/**
 * GetIdentityUpdatesResponse, encoded by hand so that each IdentityUpdate
 * goes out as the exact bytes that were published, for each request in
 * order, the updates of its inbox after its sequence id:
 *   responses (1): { inbox_id (1), updates (2): { sequence_id (1), server_timestamp_ns (2), update (3) } }
 */
export function identityUpdatesResponse(
  wanted: readonly { inboxId: string; after: bigint }[],
  rows: readonly IdentityUpdateRow[],
): Uint8Array {
  const out = new WireWriter();
  for (const w of wanted) {
    const response = new WireWriter().string(1, w.inboxId);
    for (const row of rows) {
      if (row.inboxId !== w.inboxId || row.sequenceId <= w.after) continue;
      const log = new WireWriter()
        .uint64(1, row.sequenceId)
        .uint64(2, row.serverTimestampNs)
        .bytes(3, row.updateBytes)
        .finish();
      response.bytes(2, log);
    }
    out.bytes(1, response.finish());
  }
  return out.finish();
}

export class IdentityApi {
  constructor(private readonly node: NodeContext) {}

  async publishIdentityUpdate(request: Buffer): Promise<Uint8Array> {
    const { store, clock, writes, metrics, log } = this.node;
    const parsed = parsePublishIdentityUpdateRequest(request);
    const sequenceId = await writes.run(`inbox:${parsed.inboxId}`, () =>
      store.appendIdentityUpdate(parsed.inboxId, parsed.raw, parsed.createsInbox, parsed.addressChanges, clock.nowNs()),
    );
    metrics.identityUpdateStored();
    log.debug("identity update stored", { inboxId: parsed.inboxId, sequenceId: sequenceId.toString() });
    return EMPTY;
  }

  async getIdentityUpdates(request: Buffer): Promise<Uint8Array> {
    const req = decode(identityApi.GetIdentityUpdatesRequest, request, "GetIdentityUpdatesRequest");
    const wanted = req.requests.map((r) => ({ inboxId: r.inboxId, after: toBigInt(r.sequenceId) }));
    const inboxIds = [...new Set(wanted.map((w) => w.inboxId))];
    // biome-ignore lint/complexity/useMathMinMax: sequence ids are bigints, which Math.min does not take
    const minAfter = wanted.reduce((m, w) => (w.after < m ? w.after : m), wanted[0]?.after ?? 0n);
    const rows = await this.node.store.identityUpdatesSince(inboxIds, minAfter);
    return identityUpdatesResponse(wanted, rows);
  }

  async getInboxIds(request: Buffer): Promise<Uint8Array> {
    const req = decode(identityApi.GetInboxIdsRequest, request, "GetInboxIdsRequest");
    // Only Ethereum addresses are in the address map, as on the production node.
    const addresses = req.requests
      .filter((r) => isEthereumKind(r.identifierKind))
      .map((r) => normalizeAddress(r.identifier));
    const found = await this.node.store.inboxIdsOf([...new Set(addresses)]);
    const response: GetInboxIdsResponse = {
      responses: req.requests.map((r) => {
        const inboxId = isEthereumKind(r.identifierKind) ? found.get(normalizeAddress(r.identifier)) : undefined;
        return { identifier: r.identifier, identifierKind: r.identifierKind, ...(inboxId ? { inboxId } : {}) };
      }),
    };
    return encode(identityApi.GetInboxIdsResponse, response);
  }

  async verifySmartContractWalletSignatures(request: Buffer): Promise<Uint8Array> {
    const req = decode(
      identityApi.VerifySmartContractWalletSignaturesRequest,
      request,
      "VerifySmartContractWalletSignaturesRequest",
    );
    // There is no chain here to ask: every smart-contract wallet signature is reported as not verified.
    return encode(identityApi.VerifySmartContractWalletSignaturesResponse, {
      responses: req.signatures.map(() => ({
        isValid: false,
        error: "the local devnode has no blockchain: smart-contract wallet signatures cannot be verified",
      })),
    });
  }
}
