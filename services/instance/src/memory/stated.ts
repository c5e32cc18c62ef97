// Whether the owner's message states a fact as the owner's own (docs/memory.md,
// "Provenance"): what makes a member's version of something the owner's by
// the owner's words (provenance.ts confirmSaid). Holding the fact's words is
// not stating it: "No, the door code is 1111 is wrong", "the door code is
// 1111?", "Bob told me the code is 1111" and a quote of it all hold it. So
// the whole message must read as the owner's plain statement: no question, no
// quotation, no negation or denial, no report of someone else's words, no
// condition or hedge, anywhere but inside the fact itself. Anything else
// confirms nothing by words, and the owner's reply or 👍 to the member's
// message still does (feedback.ts). Pure, and strict on purpose: a fact
// wrongly left the member's costs the owner a 👍; one wrongly made the
// owner's takes out the owner's own version and is read in every
// conversation and carried by every clone (memory/walls.ts).
//
// What it cannot tell: tone. "Sure, the code is 1111" said in sarcasm, or a
// forward written as "Bob: the code is 1111", reads as a statement.

import { readRequest, type RequestText } from "../tools/request/read.js";

/** Signs, anywhere in the message but the fact, that it asks, quotes or reports rather than states. */
const ASKS_OR_QUOTES = /[?"“”«»„]|^\s*>/mu;

/**
 * Words, anywhere in the message but the fact, that deny, report someone
 * else's word, or hedge: matched on the message as entries are compared
 * (lower case, words only: "isn't" is "isn t").
 */
const NOT_STATED = new RegExp(
  `(?:^| )(?:${[
    // negations and denials
    "no|not|never|nobody|nothing|none|neither|nor|without|cannot|nope|nah|\\w+n t",
    "wrong|wrongly|false|untrue|incorrect|inaccurate|mistaken|mistake|lie|lies|lying|nonsense|bogus|fake",
    "rubbish|outdated|obsolete|deny|denies|denied|disagree|doubt|doubtful|dispute|disputes|ignore",
    // someone else's word
    "say|says|said|saying|tell|tells|told|telling|wrote|writes|written|write|claim|claims|claimed|heard|hear|hears",
    "according|apparently|supposedly|allegedly|reportedly|rumor|rumors|rumour|rumours|quote|quoted|quoting",
    "forwarded|fwd|fw|texted|messaged|mailed|mentioned|mentions|insists|insisted|swears|swore|think|thinks|thought",
    "believe|believes|believed|reckon|reckons|asked|asks|suggests|suggested",
    // conditions and hedges
    "if|unless|whether|suppose|supposing|assuming|assume|imagine|pretend|hypothetically|maybe|perhaps|possibly",
    "probably|might|guess|wonder",
  ].join("|")})(?= |$)`,
);

/** The fact's words in the message as written: any case, any spacing or punctuation between, whole words. */
function occurrences(text: string, words: readonly string[]): [number, number][] {
  const at = new RegExp(`(?<![\\p{L}\\p{N}])${words.join("[^\\p{L}\\p{N}]+")}(?![\\p{L}\\p{N}])`, "giu");
  return [...text.matchAll(at)].map((m) => [m.index, m.index + m[0].length]);
}

/**
 * Whether a part the request reader marks (tools/request/read.ts) leaves the
 * fact stated: only a negation wholly inside one of its occurrences ("my diet
 * is not vegan", said as it is), punctuation aside. Any other part, anywhere
 * in the message (a question, a quote, a report, a negation around it), and
 * a link across it, do not.
 */
function leavesStated(part: RequestText["notAsked"][number], at: readonly [number, number][], text: string): boolean {
  if (part.kind === "link") return at.every(([s, e]) => part.end <= s || e <= part.start);
  if (part.kind !== "negation") return false;
  return at.some(
    ([s, e]) =>
      !/[\p{L}\p{N}]/u.test(text.slice(part.start, Math.max(part.start, s))) &&
      !/[\p{L}\p{N}]/u.test(text.slice(Math.min(part.end, e), part.end)),
  );
}

/**
 * The owner's message, read once, asked of each fact: whether it states that
 * fact (its text as an entry holds it) as the owner's own.
 */
export function statedIn(message: string): (fact: string) => boolean {
  const request = readRequest(message);
  return (fact) => {
    const words = fact.toLowerCase().match(/[\p{L}\p{N}]+/gu);
    if (!words) return false;
    const at = occurrences(message, words);
    if (at.length === 0) return false;
    if (!request.notAsked.every((p) => leavesStated(p, at, message))) return false;
    // The rest of the message, the fact's occurrences taken out, holds no sign it is anything but a statement.
    let rest = "";
    let from = 0;
    for (const [s, e] of at) {
      rest += `${message.slice(from, s)}\n`;
      from = e;
    }
    rest += message.slice(from);
    if (ASKS_OR_QUOTES.test(rest)) return false;
    return rest
      .toLowerCase()
      .split("\n")
      .every((piece) => !NOT_STATED.test(piece.replace(/[^\p{L}\p{N}]+/gu, " ").trim()));
  };
}
