import { randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `inst_` and 16 random letters or digits (about 95 bits), like template ids. */
export function newInstanceId(): string {
  let id = "";
  while (id.length < 16) {
    for (const b of randomBytes(24)) {
      if (b < 248 && id.length < 16) id += ALPHABET[b % 62];
    }
  }
  return `inst_${id}`;
}
