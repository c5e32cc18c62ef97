// The contract's vocabulary in one place: the id formats, the header names,
// how long a signature lasts and what a replayed nonce is told. Browser-safe:
// the web app checks ids with the same patterns.
import { unauthenticated } from "./errors.js";

/** An XMTP inbox ID: 64 lower-case hex characters. */
export const INBOX_ID_PATTERN = /^[0-9a-f]{64}$/;
/** A template id: `tmpl_` and 16 letters or digits (templateIdFor). Every service checks ids with these. */
export const TEMPLATE_ID_PATTERN = /^tmpl_[A-Za-z0-9]{16}$/;
/** An agent instance's id as the claims service makes them: `inst_` and 16 letters or digits (randomId). */
export const INSTANCE_ID_PATTERN = /^inst_[A-Za-z0-9]{16}$/;
/**
 * A bare XMTP conversation (group) ID, hex of 32 to 64 digits, where an
 * invite is asked for: it names a conversation but lets nobody in, so an
 * agent given one where it joins is refused (INVITE_NOT_ID), not guessed at.
 */
export const BARE_CONVERSATION_ID = /^(0x)?[0-9a-f]{32,64}$/i;
/** What an invite that is a bare conversation ID is told. */
export const INVITE_NOT_ID =
  "is a conversation ID; an agent joins a conversation through its invite: send the Convos invite link (or slug)";

/** A service's credential on every internal call (auth.ts). */
export const SERVICE_TOKEN_HEADER = "x-pool-service-token";
/** The person a call is for, as the gateway proved them; believed only from the gateway (auth.ts). */
export const CALLER_HEADER = "x-pool-caller";
/** Which of a host's agents an InstanceService call is for. */
export const INSTANCE_HEADER = "x-pool-instance";
/** A delisting's `operator_id` when the pool itself held the template (a look-alike at publish), not an operator. */
export const POOL_CURATOR = "pool";

/** How old a signed request may be when it arrives (and how far in the future its clock may be). */
export const SIGNATURE_MAX_AGE_SECONDS = 300;
/** How long a spent nonce is kept: past this, the signature that carried it is refused as too old anyway. */
export const NONCE_KEEP_SECONDS = 2 * SIGNATURE_MAX_AGE_SECONDS;

/**
 * The REST API's one JSON casing (docs/rest.md): snake_case, `templateId` is
 * `template_id`. Connect's JSON is protobuf's own mapping, camelCase.
 */
export const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A signed request whose nonce was spent before: a replay. `field` names the nonce, e.g. `signature.nonce`. */
export function nonceUsed(field: string) {
  return unauthenticated(`${field}: already used; every signed request needs a fresh nonce`);
}

/**
 * The pool tools that cost the pool money per agent (a phone number, a
 * mailbox): provisioned only under an operator's grant (ToolGrant,
 * docs/limits.md). A wallet ("crypto") is free unless the grant funds it.
 */
export const GRANTED_TOOLS = ["sms", "email"] as const;
/** Wei as a decimal string: at most 78 digits (uint256), no leading zero. */
export const WEI_PATTERN = /^(0|[1-9][0-9]{0,77})$/;
