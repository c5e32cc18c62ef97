// The database queries under a call stop with it (docs/server-kit.md,
// "Deadlines"): a transaction begun while serving a call with a deadline
// takes what is left of it as its `statement_timeout` (`set_config(…, true)`:
// this transaction only), so PostgreSQL itself cancels a query still
// running past the deadline (SQLSTATE 57014), and the connection goes back
// to the pool. One query more per such transaction; none for a call without
// a deadline. Not covered: queries outside a transaction (each waits at
// most for its own end), and a query begun late in a transaction may
// run past the deadline by up to what had gone of it when the transaction
// began (the timeout is set once, not per query).

import type { EventSubscriber, TransactionEventArgs } from "@mikro-orm/core";
import { remainingMs } from "../server/overload/deadline.js";

export class QueryDeadline implements EventSubscriber {
  async afterTransactionStart(args: TransactionEventArgs): Promise<void> {
    const left = remainingMs();
    // A savepoint is inside a transaction that has its timeout already.
    const savepoint = (args.transaction as { savepointName?: string } | undefined)?.savepointName;
    if (left === undefined || !args.transaction || savepoint) return;
    await args.em
      .getConnection()
      .execute(
        "select set_config('statement_timeout', ?, true)",
        [String(Math.max(1, Math.floor(left)))],
        "run",
        args.transaction,
      );
  }
}
