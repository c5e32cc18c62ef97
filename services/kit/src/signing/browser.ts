// What a browser runs of signing: signing and checking EIP-712 operations
// and sign-in, the fields each operation signs, sealed boxes, the verified
// badge and the birth certificate, a rollout's signed bounds. No Node module:
// `@convos-pool/kit/browser` takes it whole, and `@convos-pool/kit/signing`
// adds to it what needs Node (operator keys, the master seed, worker threads).
export {
  ATTESTATION_MAX_AGE_MS,
  ATTESTATION_REFRESH_MS,
  ATTESTATION_SKEW_MS,
  type AttestationCheck,
  attestationDigest,
  type AttestationJwk,
  type AttestationJwks,
  type AttestationParts,
  base64url,
  checkAttestation,
  checkAttestationWithKey,
  fromBase64url,
  JWKS_PATH,
  toJwks,
} from "./attestation.js";
export {
  agentProfileMetadata,
  type AgentReport,
  attestationIn,
  decodeCertificate,
  encodeCertificate,
  type Finding,
  plainMetadata,
  PROFILE_KEYS,
  type ProfileMetadata,
  releaseProofOf,
  verifyAgentProfile,
  verifyCertificate,
} from "./certificate.js";
export {
  addToConversationFields,
  canonicalCarry,
  claimFields,
  cloneConfigHash,
  cloneFields,
  type CloneToSign,
  type ConversationAdditionToSign,
  DEFAULT_CARRY,
  inviteHash,
  MEMORY_KINDS,
  type MemoryKind,
  type PersonSignalCounts,
  personsDigest,
  shareMemoryFields,
  signAddToConversation,
  signClaim,
  signClone,
  signedConversationTools,
  signVersionSignals,
  VERSION_SIGNAL_COUNTS,
  type VersionSignalCounts,
  versionSignalsFields,
  type VersionSignalsToSign,
} from "./fields.js";
export { DerivedInboxResolver, deriveInboxId, type InboxResolver } from "./inbox.js";
export {
  type OperationFields,
  OPTIONAL_SIGNED_FIELDS,
  SIGNED_TYPES,
  signedMessage,
  type SignedOperation,
  signedTypeOf,
} from "./operations.js";
export {
  type MemoryKeyFields,
  memoryKeyMessage,
  openSealed,
  recipientKey,
  SEALED_BOX_INFO,
  SEALED_NONCE_BYTES,
  type SealedBoxBytes,
  SealedBoxError,
  sealTo,
  verifyMemoryKey,
  X25519_KEY_BYTES,
  x25519KeyPair,
  x25519PublicKey,
} from "./sealed-box.js";
export {
  isPoolId,
  LOCAL_POOL_ID,
  signatureDomain,
  signOperation,
  type TypedDataSigner,
} from "./sign.js";
export {
  type MessageSigner,
  SIGN_IN_TTL_SECONDS,
  type SignIn,
  type SignInFields,
  signInMessage,
  type SignInPlace,
  signInJson,
  signInPlace,
  signInStatement,
  signSignIn,
} from "./sign-in.js";
export { rolloutBoundsFields, rolloutBoundsHash, rolloutBoundsJson, type RolloutBoundsJson } from "./rollout-step.js";
export { SignatureVerifier, type VerifiedSignature, type VerifierOptions } from "./signatures.js";
