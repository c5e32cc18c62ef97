// `@convos-pool/kit/time`: time as people ask for it in a conversation, read
// and kept as RFC 5545 rules in the conversation's IANA zone, pure (the
// instant and the zone always given, never the machine's). docs/schedules-language.md.
export { whenProblem, zoneProblem } from "./checks.js";
export { clockWords, dayWords, describeWhen, howOften } from "./describe.js";
export { type ReadContext, type ReadWhen, readWhen } from "./read.js";
export { instantOf, MIN_MINUTES_BETWEEN, nextOccurrences, type When, wallClock } from "./rule.js";
export { readRecurrence } from "./words.js";
export { knownZone } from "./zone.js";
