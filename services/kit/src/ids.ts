import { randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * `<prefix>_` and 16 random letters or digits: about 95 bits, unguessable
 * (a private template's id is itself a secret of its creator). Bytes of 248
 * and above are skipped so that every letter is equally likely.
 */
export function randomId(prefix: string): string {
  let id = "";
  while (id.length < 16) {
    for (const b of randomBytes(24)) {
      if (b < 248 && id.length < 16) id += ALPHABET[b % 62];
    }
  }
  return `${prefix}_${id}`;
}
