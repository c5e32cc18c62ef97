// The store's categories: the ones the Studio suggests and the store filters
// by. A creator may still type another (lower-case letters, digits and
// hyphens); such templates are found by search (docs/web.md).
export const CATEGORIES = [
  "assistant",
  "productivity",
  "travel",
  "food",
  "fitness",
  "finance",
  "learning",
  "fun",
  "community",
  "dev-tools",
] as const;
