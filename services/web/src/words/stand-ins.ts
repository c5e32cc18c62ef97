// Stand-in names for whom a page may not name: a template's creator sees the
// owners and conversations of its agents (dashboard/), whose names are
// theirs and stay theirs (docs/claims.md, "Conversation names"). Two words
// drawn from the id, the same each time, so that one owner's agents are
// seen to be one owner's; the id itself is on hover. Pure.

const KINDS = [
  "Amber",
  "Bright",
  "Calm",
  "Clever",
  "Copper",
  "Coral",
  "Dusky",
  "Eager",
  "Gentle",
  "Golden",
  "Hazel",
  "Ivory",
  "Jade",
  "Keen",
  "Lively",
  "Lucky",
  "Mellow",
  "Misty",
  "Noble",
  "Olive",
  "Pale",
  "Quick",
  "Quiet",
  "Rosy",
  "Rusty",
  "Silver",
  "Sandy",
  "Sunny",
  "Swift",
  "Tawny",
  "Velvet",
  "Witty",
];
const CREATURES = [
  "Badger",
  "Bear",
  "Crane",
  "Deer",
  "Dove",
  "Eagle",
  "Falcon",
  "Finch",
  "Fox",
  "Gecko",
  "Hare",
  "Heron",
  "Ibis",
  "Koala",
  "Lark",
  "Lynx",
  "Marten",
  "Moose",
  "Newt",
  "Otter",
  "Owl",
  "Panda",
  "Puffin",
  "Quail",
  "Raven",
  "Robin",
  "Seal",
  "Stork",
  "Swan",
  "Tiger",
  "Wolf",
  "Wren",
];
const PLACES = [
  "Arbor",
  "Bay",
  "Bluff",
  "Brook",
  "Cove",
  "Dale",
  "Dune",
  "Field",
  "Fjord",
  "Garden",
  "Glade",
  "Glen",
  "Grove",
  "Harbor",
  "Haven",
  "Hollow",
  "Island",
  "Lagoon",
  "Meadow",
  "Mesa",
  "Orchard",
  "Pass",
  "Peak",
  "Pier",
  "Prairie",
  "Reef",
  "Ridge",
  "Shore",
  "Summit",
  "Terrace",
  "Valley",
  "Wharf",
];

/** Two numbers below 32 from an id: FNV-1a over its text, so any id (hex or not) spreads evenly. */
function draw(id: string): [number, number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return [h & 31, (h >>> 5) & 31];
}

/** A person named by two words from their inbox id: "Amber Fox". */
export function personStandIn(inboxId: string): string {
  const [a, b] = draw(inboxId);
  return `${KINDS[a]} ${CREATURES[b]}`;
}

/** A conversation named by two words from its id, as a place, not a person: "the Quiet Harbor group". */
export function conversationStandIn(conversationId: string): string {
  const [a, b] = draw(conversationId);
  return `the ${KINDS[a]} ${PLACES[b]} group`;
}

/** An agent's owner as the reader may see them: "you" when it is the reader, else their stand-in. */
export function ownerWords(ownerId: string, viewer: string | undefined): string {
  return viewer !== undefined && ownerId === viewer ? "you" : personStandIn(ownerId);
}
