import { Migration } from "@mikro-orm/migrations";

/**
 * Each conversation's own statement (badge/statement.ts, docs/statement.md,
 * "In several conversations"): the last one the claims service signed for an
 * agent's conversation other than its home, the compact JWS whose hash the
 * next one there names. The home's stays in `instances.statement`. A row
 * left keeps its last; an add of the same conversation again is a new row,
 * whose chain starts again at 1.
 */
export class ConversationStatements extends Migration {
  override up(): void {
    this.addSql(`alter table agent_conversations add column statement text`);
  }
}
