// A conversation's time zone: an IANA name (`Europe/Paris`), checked and
// spelled as the time zone database spells it. Temporal reads the zone
// database the runtime carries, so a name it does not know is refused here
// rather than at a firing months later.

import { Temporal } from "temporal-polyfill";

/** The zone's canonical spelling (`europe/paris` is `Europe/Paris`), or undefined when no zone has that name. */
export function knownZone(name: string): string | undefined {
  const trimmed = name.trim();
  // An offset ("+02:00") is a zone to Temporal, but not one that follows a place across daylight-saving changes.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(trimmed)) return undefined;
  try {
    return Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(trimmed).timeZoneId;
  } catch {
    return undefined;
  }
}
