// The seal on an agent-memory file (docs/memory.md, "The seal"): who taught
// an imported entry is only the file's word, so the agent keeps it only from
// a file that an agent of this same owner exported and sealed. At export the
// agent signs, with its own wallet (EIP-191), a digest of the entries and
// secrets' names, its owner, its inbox and its birth certificate. At import
// the seal holds when
//
//   1. it is there, and names this agent's owner;
//   2. its certificate reads, and names the sealing inbox and this owner;
//   3. the digest is the file's, as it is now (a changed entry breaks it);
//   4. the signature recovers a wallet of the sealing inbox (on the XMTP
//      network, as the owners' signatures are checked);
//   5. the certificate's own signatures check out (kit verifyCertificate).
//
// 1 to 3 are pure (`planSealCheck`); 4 and 5 ask the network (`checkSeal`).
// A file whose seal does not hold is imported as nobody's word.

import type { AgentCertificate } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import { canonicalJson } from "@convos-pool/kit/content";
import {
  decodeCertificate,
  encodeCertificate,
  verifyCertificate,
  type InboxResolver,
  type SignatureVerifier,
} from "@convos-pool/kit/signing";
import { recoverMessageAddress, sha256, stringToBytes, type Hex } from "viem";

/** The seal an agent adds to the file it exports. */
export interface MemorySeal {
  /** The sealing agent's inbox id. */
  inboxId: string;
  /** Its owner's inbox id when it sealed. */
  ownerId: string;
  /** Its birth certificate, base64url (kit encodeCertificate). */
  certificate: string;
  /** SHA-256 of what it seals (`sealDigest`). */
  digest: Hex;
  /** Its wallet's EIP-191 signature over `sealMessage`. */
  signature: Hex;
}

/** What of the file the seal covers: the entries and the names of the secrets, as written. */
export interface SealedContent {
  entries: readonly unknown[];
  secrets?: readonly unknown[] | undefined;
}

/** SHA-256 of the canonical JSON of the entries, the secrets' names and about, the owner, the agent and its certificate. */
export function sealDigest(content: SealedContent, ownerId: string, inboxId: string, certificate: string): Hex {
  return sha256(
    stringToBytes(
      canonicalJson({ entries: content.entries, secrets: content.secrets ?? [], ownerId, inboxId, certificate }),
    ),
  );
}

/** The text the agent's wallet signs: readable, so a wallet that shows it says what it signs. */
export function sealMessage(s: Pick<MemorySeal, "inboxId" | "ownerId" | "digest">): string {
  return `Convos Agent Pool memory export\nagent: ${s.inboxId}\nowner: ${s.ownerId}\ndigest: ${s.digest}`;
}

/** The seal to sign for `content`: everything but the signature, and the message to sign. */
export function planSeal(
  content: SealedContent,
  ownerId: string,
  inboxId: string,
  certificate: AgentCertificate,
): { unsigned: Omit<MemorySeal, "signature">; message: string } {
  const encoded = encodeCertificate(certificate);
  const unsigned = { inboxId, ownerId, certificate: encoded, digest: sealDigest(content, ownerId, inboxId, encoded) };
  return { unsigned, message: sealMessage(unsigned) };
}

/** The seal holds: whose agent sealed the file. */
export interface SealHeld {
  held: true;
  /** The sealing agent's inbox. */
  inboxId: string;
}
/** It does not: why, in words without ids (they go to the log). */
export interface SealRefused {
  held: false;
  reason: string;
}
export type SealCheck = SealHeld | SealRefused;

/** What is left to check on the network for a seal that passed the pure checks. */
export interface SealToVerify {
  seal: MemorySeal;
  certificate: AgentCertificate;
  message: string;
}

const HEX_SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const HEX_DIGEST = /^0x[0-9a-fA-F]{64}$/;

/** Checks 1 to 3, without the network: refused, or what to verify there. */
export function planSealCheck(file: SealedContent & { seal?: unknown }, ownerId: string): SealRefused | SealToVerify {
  const refused = (reason: string): SealRefused => ({ held: false, reason });
  const s = file.seal as Partial<MemorySeal> | undefined;
  if (s === undefined || s === null) return refused("the file has no seal");
  if (
    typeof s !== "object" ||
    typeof s.inboxId !== "string" ||
    typeof s.ownerId !== "string" ||
    typeof s.certificate !== "string" ||
    typeof s.digest !== "string" ||
    !HEX_DIGEST.test(s.digest) ||
    typeof s.signature !== "string" ||
    !HEX_SIGNATURE.test(s.signature)
  )
    return refused("the seal is malformed");
  const seal = s as MemorySeal;
  if (seal.ownerId !== ownerId) return refused("the seal names another owner");
  const certificate = decodeCertificate(seal.certificate);
  if (!certificate?.release) return refused("the seal's certificate does not read");
  if (certificate.inboxId !== seal.inboxId) return refused("the seal's certificate is another agent's");
  if (certificate.ownerId !== ownerId) return refused("the seal's certificate names another owner");
  if (sealDigest(file, seal.ownerId, seal.inboxId, seal.certificate) !== seal.digest.toLowerCase())
    return refused("the file changed after it was sealed");
  return { seal, certificate, message: sealMessage(seal) };
}

/** Whether the seal on `file` holds for an agent of `ownerId` (checks 1 to 5). */
export async function checkSeal(
  file: SealedContent & { seal?: unknown },
  ownerId: string,
  deps: { resolver: InboxResolver; verifier: SignatureVerifier },
): Promise<SealCheck> {
  const plan = planSealCheck(file, ownerId);
  if ("held" in plan) return plan;
  let signer: Hex;
  try {
    signer = await recoverMessageAddress({ message: plan.message, signature: plan.seal.signature });
  } catch {
    return { held: false, reason: "the seal's signature does not read" };
  }
  if (!(await deps.resolver.addressBelongsToInbox(signer, plan.seal.inboxId)))
    return { held: false, reason: "the seal is not signed by a wallet of the sealing agent" };
  const report = await verifyCertificate(plan.seal.inboxId, plan.certificate, deps);
  if (report.problems.length > 0) return { held: false, reason: "the seal's certificate does not check out" };
  return { held: true, inboxId: plan.seal.inboxId };
}
