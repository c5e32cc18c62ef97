// What a request naming an agent must hold, for every feature of the service
// (lineage, patterns, signals): its instance id, refused with the field named.
import { INSTANCE_ID_PATTERN, invalidArgument } from "@convos-pool/kit/content";

export function checkInstanceId(instanceId: string): void {
  if (!INSTANCE_ID_PATTERN.test(instanceId))
    throw invalidArgument("instance_id", 'must be an instance id such as "inst_" followed by 16 letters or digits');
}
