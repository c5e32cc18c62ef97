// The agent page's Money: what its wallet holds, whose share is whose and
// what it spent today against its limit (GetAgentFunds, money-words.ts), read
// afresh each time the card opens and every few seconds while it is open,
// and "Withdraw to your wallet": the owner takes their share
// of the agent's wallet (everything above what the pool granted it, less the
// transfer's fee). The owner signs WithdrawFunds and the funds go to the
// wallet that signed it (docs/tools.md, "Whose money a wallet holds"); a
// person signed in with Convos alone is told so, not offered a button that fails.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState, type Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { useEffect, useState } from "react";
import { eth } from "../words/format";
import { useSession } from "../sign-in/session";
import { shownError } from "../ui/errors";
import { moneyWords } from "./money-words";
import { ErrorBox, Loading, Notice } from "../ui/ui";
import { useAction } from "../ui/use-action";

export function WithdrawFunds({ agent: i }: { agent: Instance }) {
  const { sign, canSign } = useSession();
  const act = useAction();
  const withdraw = useMutation(ClaimService.method.withdrawFunds);
  const [sent, setSent] = useState<{ amountWei: string; toAddress: string; transactionHash: string }>();
  const wallet = i.tools.find((t) => t.toolId === "crypto");
  if (!wallet) return null;

  return (
    <section className="card" aria-labelledby="withdraw-heading">
      <h2 id="withdraw-heading">Its wallet</h2>
      {(i.state === InstanceState.CLAIMED || i.state === InstanceState.DORMANT) && (
        <Figures agent={i} refresh={sent?.transactionHash} />
      )}
      <p>
        <code data-testid="wallet-address">{wallet.handle}</code> holds what you deposited and what the pool gave it.
        You can take your share, everything above the pool's, to the wallet you sign with.
      </p>
      <ErrorBox error={act.error} />
      {sent && (
        <Notice>
          <span data-testid="withdrawn">
            Sent {eth(sent.amountWei)} ETH to <code>{sent.toAddress}</code> (transaction{" "}
            <code>{sent.transactionHash}</code>).
          </span>
        </Notice>
      )}
      {canSign ? (
        <button
          type="button"
          disabled={!!act.busy}
          onClick={() =>
            void act.run("withdraw", "", async () => {
              setSent(undefined);
              const ownerSignature = await sign("WithdrawFunds", { instanceId: i.id });
              const res = await withdraw.mutateAsync({ instanceId: i.id, ownerSignature });
              setSent({ amountWei: res.amountWei, toAddress: res.toAddress, transactionHash: res.transactionHash });
            })
          }
        >
          {act.busy ? "Withdrawing…" : "Withdraw to your wallet"}
        </button>
      ) : (
        // Signed in with Convos alone: the signature WithdrawFunds takes has no Convos confirmation (the funds go to the signer).
        <p className="meta" data-testid="withdraw-needs-wallet">
          Withdrawing is signed by a wallet of this inbox, which this browser does not hold (you signed in with Convos);
          until then your share stays in its wallet.
        </p>
      )}
    </section>
  );
}

/**
 * What the wallet holds now, read by the agent from the chain: again on every opening (a deposit made
 * meanwhile), every few seconds (a payment it makes), and after a withdrawal; its limit as the pool records it.
 */
function Figures({ agent: i, refresh }: { agent: Instance; refresh: string | undefined }) {
  const funds = useQuery(
    ClaimService.method.getAgentFunds,
    { instanceId: i.id },
    { staleTime: 0, refetchOnMount: "always", refetchInterval: 5_000 },
  );
  const { refetch } = funds;
  useEffect(() => {
    if (refresh) void refetch();
  }, [refresh, refetch]);
  if (funds.isPending) return <Loading what="its wallet's balance" />;
  if (funds.error) return <ErrorBox error={shownError(funds.error)} />;
  const w = moneyWords(funds.data, i);
  return (
    <dl className="facts" data-testid="money-figures">
      <dt>Balance</dt>
      <dd data-testid="money-balance">{w.balance}</dd>
      <dt>Yours</dt>
      <dd data-testid="money-yours">{w.yours}</dd>
      {w.pool && (
        <>
          <dt>The pool's</dt>
          <dd data-testid="money-pool">{w.pool}</dd>
        </>
      )}
      <dt>Spent today</dt>
      <dd data-testid="money-spent">
        {w.spentToday}
        {w.left && <span className="meta"> · {w.left}</span>}
      </dd>
    </dl>
  );
}
