import type { EntityManager } from "@mikro-orm/postgresql";
import { ProvisioningError, type ProvisionedResource, type ToolProvider } from "./types.js";

/** A range of phone numbers, E.164, both ends with the same number of digits. */
export interface NumberRange {
  first: string;
  last: string;
  size: number;
}

const MAX_RANGE = 1_000_000;

/** The default local range: +1 555 010 0000 to +1 555 010 9999 (fictional numbers). */
export const DEFAULT_SMS_RANGE = "+15550100000..+15550109999";

/** Parses "+15550100000..+15550109999" (or with "-" between the ends). */
export function parseNumberRange(spec: string): NumberRange {
  const [, first, last] = /^\s*\+([1-9]\d{6,14})\s*(?:\.\.|-)\s*\+([1-9]\d{6,14})\s*$/.exec(spec) ?? [];
  if (!first || !last || first.length !== last.length) {
    throw new Error(
      `SMS number range "${spec}": expected "+<digits>..+<digits>", both ends E.164 with the same number of digits`,
    );
  }
  const lo = BigInt(first);
  const hi = BigInt(last);
  if (hi < lo) throw new Error(`SMS number range "${spec}": the last number is below the first`);
  const size = Number(hi - lo + 1n);
  if (size > MAX_RANGE) throw new Error(`SMS number range "${spec}": at most ${MAX_RANGE} numbers`);
  return { first: `+${first}`, last: `+${last}`, size };
}

/**
 * The local SMS provider: numbers from a configured range, each allocated to
 * at most one instance in the claims database (table `sms_numbers`) with the
 * same skip-locked query as the instance claim, and freed on release.
 * A freed number goes to the back of the line (longest free first), as
 * carriers quarantine recycled numbers.
 */
export class LocalSmsProvider implements ToolProvider {
  readonly toolId = "sms";
  readonly name = "local-sms";

  private constructor(
    private readonly em: EntityManager,
    readonly range: NumberRange,
  ) {}

  /** Adds the range's numbers to the table (the ones already there keep their state). */
  static async open(em: EntityManager, rangeSpec: string = DEFAULT_SMS_RANGE): Promise<LocalSmsProvider> {
    const range = parseNumberRange(rangeSpec);
    await em.fork().execute(
      `insert into sms_numbers (number)
       select '+' || n::text from generate_series(?::bigint, ?::bigint) as n
       on conflict (number) do nothing`,
      [range.first.slice(1), range.last.slice(1)],
      "run",
    );
    return new LocalSmsProvider(em, range);
  }

  async provision(instanceId: string): Promise<ProvisionedResource> {
    let rows: { number: string }[];
    try {
      // Same length, so text order is numeric order: the range filter is a plain comparison.
      rows = await this.em.fork().execute<{ number: string }[]>(
        `update sms_numbers set instance_id = ?, allocated_at = now()
         where number = (
           select number from sms_numbers
           where instance_id is null and number between ? and ?
           order by released_at nulls first, number
           for update skip locked
           limit 1)
         and instance_id is null
         returning number`,
        [instanceId, this.range.first, this.range.last],
      );
    } catch (err) {
      throw new ProvisioningError(`local SMS provider unavailable: ${(err as Error).message}`, "unavailable", {
        cause: err,
      });
    }
    const number = rows[0]?.number;
    if (!number) {
      throw new ProvisioningError(`no free phone number in ${this.range.first}..${this.range.last}`, "exhausted");
    }
    // A local number has no credentials: the instance sends through the pool's SMS gateway by number.
    return { handle: number, secrets: {} };
  }

  async release(handle: string): Promise<void> {
    await this.em.fork().execute(
      `update sms_numbers set instance_id = null, allocated_at = null, released_at = now()
       where number = ? and instance_id is not null`,
      [handle],
      "run",
    );
  }

  async releaseAllOf(instanceId: string): Promise<number> {
    const res = await this.em
      .fork()
      .execute<{ affectedRows: number }>(
        `update sms_numbers set instance_id = null, allocated_at = null, released_at = now() where instance_id = ?`,
        [instanceId],
        "run",
      );
    return res.affectedRows;
  }
}
