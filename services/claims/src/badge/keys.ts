/**
 * Where the claims service's attestation keys come from (docs/signatures.md,
 * "The verified badge"): the operator's, configured (ATTESTATION_KEYS), or
 * for development a key generated once and kept in the data directory (mode
 * 0600), so that `npm start` keeps its badge across restarts. The key id of
 * the development key names it as such and derives from its public key.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { AttestationKeyRing, generateAttestationKeyPem } from "@convos-pool/kit/signing";
import type { Logger } from "@convos-pool/kit/server";

export const DEV_KEY_FILE = "attestation-key.pem";

export async function developmentKeys(dataDir: string, log: Logger): Promise<AttestationKeyRing> {
  const file = path.join(dataDir, DEV_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(file, "utf8");
  } catch {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    pem = generateAttestationKeyPem();
    // Whole or not at all: another process starting beside this one reads a complete key or none.
    const part = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    await writeFile(part, pem, { mode: 0o600 });
    await chmod(part, 0o600);
    await rename(part, file);
  }
  const probe = new AttestationKeyRing([{ kid: "probe", pem }]);
  const [key] = probe.publicKeys();
  if (!key) throw new Error("the development attestation key ring has no public key");
  const x = key.x;
  const kid = `dev-${createHash("sha256").update(x).digest("hex").slice(0, 12)}`;
  log.warn("attesting agents with a development key kept in the data directory; set ATTESTATION_KEYS in production", {
    kid,
    file,
  });
  return new AttestationKeyRing([{ kid, pem }]);
}
