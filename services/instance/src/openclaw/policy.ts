// Which OpenClaw gateways run (pure; docs/openclaw.md, "Sleep and wake").
// Gateways cost about a gigabyte each and a minute to start, so the runtime
// decides three things from the gateways it has, and nothing else:
//   who rests to free a place the least recently used idle ones, when starting one more passes the cap
//   whether a spare starts   a warm gateway with no agent, started ahead so that a wake does not pay the start
//   who takes a spare        an agent whose gateway is not running, at its next start (a wake, a claim, a turn)
// It is not the dormancy decision (who sleeps is the agent's: agent/life/dormancy.ts);
// a dormant agent's gateway rests through the same path as one the cap stops.

/** A gateway as the policy sees it. */
export interface GatewayView {
  id: string;
  /** Started or starting. */
  active: boolean;
  /** Calls in progress: one in a turn is never stopped. */
  inUse: number;
  /** When a turn last asked for it (ms). */
  lastUsed: number;
}

/**
 * The agents' gateways to stop before `starting`'s starts, least recently
 * used first, so that the active gateways (spares included) stay within
 * `max`. None in a turn; none when there is no cap. It may free fewer than
 * needed (all busy): the start goes ahead anyway, a turn waits for no one.
 */
export function toRest(agents: GatewayView[], spares: number, starting: string, max: number | undefined): string[] {
  if (!max) return [];
  let running = agents.filter((g) => g.active && g.id !== starting).length + spares;
  const out: string[] = [];
  const idle = agents
    .filter((g) => g.id !== starting && g.active && g.inUse === 0)
    .sort((a, b) => a.lastUsed - b.lastUsed);
  for (const g of idle) {
    if (running < max) break;
    out.push(g.id);
    running--;
  }
  return out;
}

/**
 * How many spares to start now: up to `wanted`, and only into places that no
 * agent needs (a spare never makes an awake agent's gateway rest).
 */
export function sparesToStart(input: {
  wanted: number;
  /** Spares started or starting. */
  spares: number;
  /** Agents' gateways started or starting. */
  agents: number;
  max: number | undefined;
}): number {
  const want = Math.max(0, input.wanted - input.spares);
  if (!input.max) return want;
  return Math.max(0, Math.min(want, input.max - input.agents - input.spares));
}

/** Whether an agent whose gateway must start takes a spare: one that is ready, else it starts its own. */
export function takesSpare(own: { active: boolean }, readySpares: number): boolean {
  return !own.active && readySpares > 0;
}
