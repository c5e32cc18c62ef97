import { Migration } from "@mikro-orm/migrations";

/**
 * A daily limit confirmed in Convos (docs/security.md, "Agents' money";
 * confirmations/, signer/confirmed.ts). `instances.daily_spend_limit_confirmation`
 * names the confirmation that set the agent's limit; null when its owner
 * signed it (or it has none). `confirmation_asks` is the first of the two
 * words: each set_trust_level step a signed-in owner's session asked of the
 * agent, with its values and the agent's digest, under the agent's nonce;
 * `recorded_at` spends the nonce once its limit is recorded.
 */
export class ConfirmedLimits extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column daily_spend_limit_confirmation text`);
    this.addSql(`create table confirmation_asks (
      id text primary key,
      instance_id text not null references instances (id),
      asked_by text not null,
      trust_level integer not null,
      daily_spend_limit_wei text not null,
      digest text not null,
      asked_at timestamptz(3) not null default now(),
      recorded_at timestamptz(3)
    )`);
    this.addSql(`create index confirmation_asks_asked_at on confirmation_asks (asked_at)`);
  }
}
