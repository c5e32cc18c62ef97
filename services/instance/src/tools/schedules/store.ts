// What the agent keeps of its schedules itself (`schedules.json`): each
// conversation's time zone, set by its owner, each scheduled act's bound
// request and each routine's asker and words under its item's id. The schedules service keeps the items and
// their timers; a firing of an act does only what is kept here for its id,
// whatever the item's payload says (the control plane may lie: docs/schedules.md).
// Its writes go one after another, each with all that is kept, so two
// changes made at once both reach the file.

import { FILES, type Workspace } from "../../platform/workspace.js";
import type { KeptPayment } from "./payment-once.js";
import type { BoundScheduledAct } from "./policy.js";

const FILE = FILES.schedules;

interface Kept {
  zones: Record<string, string>;
  acts: Record<string, BoundScheduledAct & { conversationId: string }>;
  routines?: Record<string, KeptRoutine>;
  /** The template's routines kept in each conversation, by conversation and routine id (template-routines.ts). */
  templateRoutines?: Record<string, Record<string, KeptTemplateRoutine>>;
  /** The firing ids done, newest last, at most FIRINGS_KEPT (a retry comes within the day). */
  fired?: string[];
  /** Each scheduled payment's transaction, kept before it was sent, by firing id, until its firing is done (payment-once.ts). */
  paying?: Record<string, KeptPayment>;
}

/** A routine as it was asked in the conversation: its firing is a turn of `asker`'s on `instruction` (firing.ts). */
export interface KeptRoutine {
  conversationId: string;
  asker: string;
  instruction: string;
}

/** A template's routine as the agent keeps it in one conversation: as it was declared, and its item (template-routines.ts). */
export interface KeptTemplateRoutine {
  itemId: string;
  name: string;
  rrule: string;
  time: string;
  instruction: string;
}

/** Firing ids kept: far more than a day of retries of every item a conversation may hold (50, at most 96 a day each). */
export const FIRINGS_KEPT = 10_000;

export class ScheduleStore {
  /** The last write asked for: each waits for the one before (a slower earlier write never lands over a later one). */
  private writing: Promise<void> = Promise.resolve();
  /** Told once a conversation's zone is set (scheduling.ts: the template's routines are kept there then). */
  zoneSet: ((conversationId: string) => void) | undefined;

  private constructor(
    private readonly ws: Workspace,
    private kept: Kept,
  ) {}

  /** What is kept now, written after the writes before it: each writes everything kept when its turn comes. */
  private save(): Promise<void> {
    const next = this.writing.then(() => this.ws.writeJson(FILE, this.kept));
    // A failed write is its caller's to hear; the next one still runs, and writes everything.
    this.writing = next.catch(() => undefined);
    return next;
  }

  static async open(ws: Workspace): Promise<ScheduleStore> {
    const kept = await ws.readJson<Kept>(FILE);
    return new ScheduleStore(ws, {
      zones: kept?.zones ?? {},
      acts: kept?.acts ?? {},
      routines: kept?.routines ?? {},
      templateRoutines: kept?.templateRoutines ?? {},
      fired: kept?.fired ?? [],
      paying: kept?.paying ?? {},
    });
  }

  /** Everything kept, gone (a release). */
  static async remove(ws: Workspace): Promise<void> {
    await ws.remove(FILE);
  }

  /** The conversation's zone, set by its owner; undefined until then. */
  zoneOf(conversationId: string): string | undefined {
    return this.kept.zones[conversationId];
  }

  async setZone(conversationId: string, zone: string): Promise<void> {
    this.kept = { ...this.kept, zones: { ...this.kept.zones, [conversationId]: zone } };
    await this.save();
    this.zoneSet?.(conversationId);
  }

  /** The template's routines kept in the conversation, by routine id. */
  templateRoutinesIn(conversationId: string): Readonly<Record<string, KeptTemplateRoutine>> {
    return this.kept.templateRoutines?.[conversationId] ?? {};
  }

  /** The template's routines kept in the conversation now, all of them (template-routines.ts decides them). */
  async keepTemplateRoutines(conversationId: string, kept: Record<string, KeptTemplateRoutine>): Promise<void> {
    this.kept = { ...this.kept, templateRoutines: { ...this.kept.templateRoutines, [conversationId]: kept } };
    await this.save();
  }

  /** The bound request of the act item `id`, in the conversation it was asked in. */
  actOf(id: string): (BoundScheduledAct & { conversationId: string }) | undefined {
    return this.kept.acts[id];
  }

  async keepAct(id: string, conversationId: string, act: BoundScheduledAct): Promise<void> {
    this.kept = { ...this.kept, acts: { ...this.kept.acts, [id]: { ...act, conversationId } } };
    await this.save();
  }

  /** The routine item `id` as it was asked. */
  routineOf(id: string): KeptRoutine | undefined {
    return this.kept.routines?.[id];
  }

  async keepRoutine(id: string, routine: KeptRoutine): Promise<void> {
    this.kept = { ...this.kept, routines: { ...this.kept.routines, [id]: routine } };
    await this.save();
  }

  /** Whether the firing `id` was done (firing.ts: a retry does nothing again). */
  fired(id: string): boolean {
    return this.kept.fired?.includes(id) ?? false;
  }

  /** The firing `id` done: kept before its effects are reported, with the agent's durable state. */
  async markFired(id: string): Promise<void> {
    const fired = [...(this.kept.fired ?? []), id].slice(-FIRINGS_KEPT);
    const { [id]: _paid, ...paying } = this.kept.paying ?? {};
    this.kept = { ...this.kept, fired, paying };
    await this.save();
  }

  /** The transaction of firing `id`'s payment, kept before it was sent; undefined when none was signed. */
  paymentOf(id: string): KeptPayment | undefined {
    return this.kept.paying?.[id];
  }

  /** Firing `id`'s transaction, signed and not sent yet: kept first, so a retry after a crash finds it. */
  async keepPayment(id: string, tx: KeptPayment): Promise<void> {
    this.kept = { ...this.kept, paying: { ...this.kept.paying, [id]: tx } };
    await this.save();
  }

  /** What is kept for item `id` (an act's bound request, a routine's asker and words), gone: it was stopped. */
  async forget(id: string): Promise<void> {
    const { [id]: _act, ...acts } = this.kept.acts;
    const { [id]: _routine, ...routines } = this.kept.routines ?? {};
    this.kept = { ...this.kept, acts, routines };
    await this.save();
  }
}
