// Nonces of signatures an agent acted on, kept in its workspace: a signed
// call is single use (docs/signatures.md).

import { FILES, type Workspace } from "./workspace.js";

/**
 * Nonces of owner signatures this instance acted on (clone, transfer), kept
 * in its workspace until the signature could no longer be accepted anyway.
 */
export class SpentNonces {
  private constructor(
    private readonly ws: Workspace,
    private readonly spent: Record<string, number>,
  ) {}

  static readonly FILE = FILES.nonces;

  static async open(ws: Workspace): Promise<SpentNonces> {
    return new SpentNonces(ws, (await ws.readJson<Record<string, number>>(SpentNonces.FILE)) ?? {});
  }

  /** False when already spent; otherwise records it (kept until `expiresAt`, unix seconds) before returning. */
  async spend(nonce: string, expiresAt: number): Promise<boolean> {
    const now = Date.now() / 1000;
    for (const [n, until] of Object.entries(this.spent)) if (until < now) delete this.spent[n];
    const key = nonce.toLowerCase();
    if (this.spent[key] !== undefined) return false;
    this.spent[key] = expiresAt;
    await this.ws.writeJson(SpentNonces.FILE, this.spent);
    return true;
  }
}
