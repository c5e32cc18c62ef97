// "Reminders" on an agent's page (docs/web.md): the section's list
// (reminder-list.tsx) is loaded on its own when the section opens, since it
// reads time as the agent does (the kit's time: rrule, Temporal and the time
// parser, about a third again of the app's code), which no other page needs.
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { lazy, Suspense } from "react";
import { Loading } from "../ui/ui";

const ReminderList = lazy(() => import("./reminder-list").then((m) => ({ default: m.ReminderList })));

export function Reminders({ agent }: { agent: Instance }) {
  return (
    <Suspense fallback={<Loading what="its reminders" />}>
      <ReminderList agent={agent} />
    </Suspense>
  );
}
