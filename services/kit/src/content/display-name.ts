// A person's display name is their own choice, and it is shown to a model
// and in the agent's own messages (an approval question names the owner).
// One cleaning for every place it is shown (docs/trust.md, "Profiles and
// names"): compatibility forms folded (NFKC: "𝐒𝐚𝐮𝐥" is "Saul"); format
// characters (zero-width and bidi marks), private use and lone surrogates
// dropped; control characters, line breaks, brackets, angle brackets and
// colons made spaces, so a name cannot add a line or dress up as the role
// label before it ("[owner] Saul:"); whitespace collapsed to single spaces;
// at most MAX_DISPLAY_NAME characters. What looks alike is compared by the confusable skeleton
// (confusables.ts), never shown as it.
import { confusableSkeleton } from "./confusables.js";

/** The longest display name shown, in characters (code points). */
export const MAX_DISPLAY_NAME = 40;

/** Shown as nothing: format characters (zero-width, bidi), private use, lone surrogates. */
const INVISIBLE = /[\p{Cf}\p{Co}\p{Cs}]+/gu;
/** Shown as a space: controls, line and paragraph separators, the marks of a role label. */
const BREAKS = /[\p{Cc}\p{Zl}\p{Zp}[\]<>:]+/gu;

/** A display name as it may be shown: one line, no role-like marks, at most MAX_DISPLAY_NAME characters; "" when nothing is left. */
export function cleanDisplayName(raw: string): string {
  const flat = raw.normalize("NFKC").replace(INVISIBLE, "").replace(BREAKS, " ").replace(/\s+/gu, " ").trim();
  return Array.from(flat).slice(0, MAX_DISPLAY_NAME).join("").trim();
}

/** Whether two display names look alike once cleaned (case and confusable letters aside: "Saul", "SAUL", "Ѕаul"). */
export function namesLookAlike(a: string, b: string): boolean {
  const key = (n: string) => confusableSkeleton(cleanDisplayName(n).toLowerCase()).toLowerCase();
  const ka = key(a);
  return ka !== "" && ka === key(b);
}
