// Browser-safe (Web Crypto and viem): the web app reads template content, whose checks use these patterns.
import { sha256, stringToBytes } from "viem";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * `<prefix>_` and 16 random letters or digits: about 95 bits, unguessable
 * (a private template's id is itself a secret of its creator). Bytes of 248
 * and above are skipped so that every letter is equally likely.
 */
export function randomId(prefix: string): string {
  let id = "";
  while (id.length < 16) {
    for (const b of crypto.getRandomValues(new Uint8Array(24))) {
      if (b < 248 && id.length < 16) id += ALPHABET[b % 62];
    }
  }
  return `${prefix}_${id}`;
}

/**
 * A template's id, derived from its creator and the nonce of its signed
 * create. The create's signature covers neither the id (the service picks
 * it) nor anything else that names it, so the id is made of what that
 * signature does cover: whoever holds version 1 of a template can check
 * that its creator signed it for this id (template-release.ts). 96 bits of
 * SHA-256 over a random nonce: as unguessable as randomId.
 */
export function templateIdFor(creatorId: string, nonce: string): string {
  let n = BigInt(sha256(stringToBytes(`convos-pool/template/${creatorId}/${nonce.toLowerCase()}`)).slice(0, 26));
  let id = "";
  for (let i = 0; i < 16; i++) {
    id += ALPHABET[Number(n % 62n)];
    n /= 62n;
  }
  return `tmpl_${id}`;
}
