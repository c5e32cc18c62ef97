// One agent's schedules as its conversations reach them: the schedules
// service (desk.ts; none: the agent keeps no time and the model answers as
// before), what it keeps itself (store.ts, opened on first use), its clock,
// and the requests that wait for their conversation's zone (in memory: a
// restart forgets them, and the person asks again).

import type { Clock } from "../../platform/clock.js";
import type { Workspace } from "../../platform/workspace.js";
import type { ScheduleDesk } from "./desk.js";
import { ScheduleStore } from "./store.js";

/** A request heard before its conversation had a zone. */
export interface Waiting {
  /** `sentAtNs`: when it was said, what its time is read from (a turn may come minutes later). */
  said: { id: string; senderInboxId: string; content: string; sentAtNs?: bigint | undefined };
  role: "owner" | "member";
}

export class Scheduling {
  private opened: Promise<ScheduleStore> | undefined;
  /** Per conversation, the last request that waits for its zone. */
  readonly waiting = new Map<string, Waiting>();
  /** The conversations whose owner was asked for the zone: asked once, then reminded in a line. */
  readonly zoneAsked = new Set<string>();
  /** Told once a conversation's zone is set (the agent keeps its template's routines there: template-routines.ts). */
  onZoneSet: ((conversationId: string) => void) | undefined;

  constructor(
    readonly instanceId: string,
    readonly desk: ScheduleDesk | undefined,
    private readonly ws: Workspace,
    private readonly clock: Pick<Clock, "now">,
  ) {}

  now(): number {
    return this.clock.now();
  }

  store(): Promise<ScheduleStore> {
    this.opened ??= ScheduleStore.open(this.ws).then((store) => {
      store.zoneSet = (id) => this.onZoneSet?.(id);
      return store;
    });
    return this.opened;
  }

  /**
   * A release: the claim's zones, acts' bound requests and waiting requests
   * forgotten, file and memory, so the next owner inherits none (the
   * schedules service pauses the items themselves: docs/schedules.md).
   */
  async release(): Promise<void> {
    this.waiting.clear();
    this.zoneAsked.clear();
    this.opened = undefined;
    await ScheduleStore.remove(this.ws);
  }
}
