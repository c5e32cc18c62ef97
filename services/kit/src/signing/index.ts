// `@convos-pool/kit/signing`: the pool's signatures and proofs. EIP-712
// operations (what each signs, signing with any wallet, verification, signer
// recovery on worker threads), the inbox a wallet belongs to, signed template
// releases and their one check per host, sealed boxes, the verified badge
// and the birth certificate. Above content; the web app takes the part of it
// that runs in a browser through `@convos-pool/kit/browser`.
export * from "./browser.js";
export { type AttestationKeyConfig, AttestationKeyRing, generateAttestationKeyPem } from "./attestation-keys.js";
export { SignerRecoveryPool } from "./signature-workers.js";
export {
  additionViolations,
  checkConversationId,
  checkInstanceId,
  checkInvite,
  participationInViolations,
} from "./conversation-request.js";
export {
  checkCreator,
  newTemplateIdentity,
  releaseOperation,
  type ReleaseSignedFields,
  signedReleaseOperation,
  signUpdateRelease,
  verifyReleaseChain,
  verifyTemplateRelease,
} from "./template-release.js";
export {
  type ReleaseVerifier,
  VERIFIED_RELEASES_MAX_ENTRIES,
  VERIFIED_RELEASES_TTL_MS,
  VerifiedReleases,
  type VerifiedReleasesOptions,
} from "./verified-releases.js";
export { MasterSeed, MAX_WALLET_INDEX, type WalletKey } from "./master-seed.js";
export {
  checkStatement,
  checkStatementWithKey,
  followsStatement,
  STATEMENT_JWS_TYPE,
  type StatementCheck,
  type StatementExpect,
  statementHash,
  statementJws,
  statementSigningInput,
} from "./statement.js";
