// `@convos-pool/kit/time`: time as people ask for it in a conversation, read
// and kept as RFC 5545 rules in the conversation's IANA zone, pure (the
// instant and the zone always given, never the machine's). docs/schedules-language.md.
export { knownZone } from "./zone.js";
