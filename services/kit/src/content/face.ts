// How a template presents itself in the store (docs/templates.md, "Avatar
// and conversation starters"): its avatar and the conversation starters the
// store offers. Pure checks, run by the web app where they are typed and by
// the templates service again; errors name the field.
import { invalidArgument } from "./errors.js";

export const FACE_LIMITS = {
  /** An https avatar URL, in characters. */
  avatarUrl: 2048,
  /** Code points of one emoji (a family or a flag with modifiers fits). */
  avatarEmoji: 16,
  starters: 4,
  starter: 80,
} as const;

const AVATAR_HINT = "must be one emoji or an https image URL";

/**
 * One emoji (a single grapheme of at most 16 code points) or an https URL.
 * No data: URLs: the avatar is signed content copied into every version,
 * every agent's configuration and its Convos profile, which takes a URL.
 */
export function checkAvatar(field: string, avatar: string): void {
  if (avatar === "") return;
  if (avatar.startsWith("https://")) {
    if (avatar.length > FACE_LIMITS.avatarUrl)
      throw invalidArgument(field, `must be at most ${FACE_LIMITS.avatarUrl} characters`);
    let url: URL;
    try {
      url = new URL(avatar);
    } catch {
      throw invalidArgument(field, AVATAR_HINT);
    }
    // A URL with credentials in it would publish them in the store.
    if (url.username || url.password || /\s/.test(avatar)) throw invalidArgument(field, AVATAR_HINT);
    return;
  }
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(avatar)];
  if (
    graphemes.length !== 1 ||
    [...avatar].length > FACE_LIMITS.avatarEmoji ||
    !/\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(avatar)
  ) {
    throw invalidArgument(field, AVATAR_HINT);
  }
}

/** Whether an avatar is an image URL (else an emoji), for whoever shows it. */
export const isAvatarUrl = (avatar: string): boolean => avatar.startsWith("https://");

/** At most 4 starters, each one line of 1 to 80 characters, no two alike. */
export function checkConversationStarters(field: string, starters: readonly string[]): void {
  if (starters.length > FACE_LIMITS.starters)
    throw invalidArgument(field, `at most ${FACE_LIMITS.starters} conversation starters`);
  const seen = new Set<string>();
  starters.forEach((s, i) => {
    const f = `${field}[${i}]`;
    if (s.trim() === "") throw invalidArgument(f, "must not be empty");
    if (s !== s.trim()) throw invalidArgument(f, "must not start or end with spaces");
    if (/[\p{Cc}\u2028\u2029]/u.test(s)) throw invalidArgument(f, "must be one line");
    if ([...s].length > FACE_LIMITS.starter)
      throw invalidArgument(f, `must be at most ${FACE_LIMITS.starter} characters`);
    const key = s.toLowerCase();
    if (seen.has(key)) throw invalidArgument(f, `duplicate conversation starter "${s}"`);
    seen.add(key);
  });
}
