// The agent page's activity log (docs/web.md, "Activity"). Polled with the
// session alone, each tool call comes without whom it was for, how much, its
// detail and who asked (docs/security.md, "What a session can do"); the owner
// signs ReadAgentActivity to see the page they are on whole, once per read.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService, type ListAgentActivityResponse } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { useState } from "react";
import { shownError } from "../ui/errors";
import { activityWords } from "./activity-words";
import { eth, trustName } from "../words/format";
import { moment } from "../words/words";
import { useSession } from "../sign-in/session";
import { Empty, ErrorBox, Loading, Pager, usePages } from "../ui/ui";
import { useAction } from "../ui/use-action";

const PAGE_SIZE = 20;

/** Its activity log, newest first, in sentences (activity-words.ts): each tool call, who asked and how it ended, and each change of level or of who may ask. */
export function Activity({ id }: { id: string }) {
  const pages = usePages();
  const { inboxId, canSign, sign } = useSession();
  const act = useAction();
  const polled = useQuery(
    ClaimService.method.listAgentActivity,
    { instanceId: id, pageSize: PAGE_SIZE, pageToken: pages.token },
    { refetchInterval: 5_000 },
  );
  const readWhole = useMutation(ClaimService.method.listAgentActivity);
  // The page the owner signed for, as it stood then; another page reads as polled.
  const [signed, setSigned] = useState<{ token: string; page: ListAgentActivityResponse }>();
  const whole = signed?.token === pages.token ? signed.page : undefined;
  const log = whole ?? polled.data;

  const showWhole = async () => {
    const token = pages.token;
    const ownerSignature = await sign("ReadAgentActivity", { instanceId: id });
    const page = await readWhole.mutateAsync({ instanceId: id, pageSize: PAGE_SIZE, pageToken: token, ownerSignature });
    setSigned({ token, page });
  };

  // Not a region of its own: the page's "Activity" section is that region.
  return (
    <div>
      <h2 id="activity-heading">Activity</h2>
      {polled.isPending && <Loading what="its activity" />}
      {polled.error && <ErrorBox error={shownError(polled.error)} />}
      {log?.entries.length === 0 && (
        <Empty>Nothing yet: its tool calls and your changes to it show here, newest first.</Empty>
      )}
      {log && log.entries.length > 0 && canSign && (
        <div className="actions">
          {whole ? (
            <button type="button" onClick={() => setSigned(undefined)}>
              Hide details
            </button>
          ) : (
            <button type="button" disabled={!!act.busy} onClick={() => void act.run("details", "", showWhole)}>
              {act.busy === "details" ? "Signing…" : "Show recipients and amounts"}
            </button>
          )}
        </div>
      )}
      <ErrorBox error={act.errorOf("details")} />
      {log && log.entries.length > 0 && !canSign && (
        <p className="meta">
          Recipients, amounts and who asked show only to a request signed by a wallet of yours, which this browser does
          not hold (you signed in with Convos).
        </p>
      )}
      {whole && <p className="meta">Whole, as it stood when you signed; hide the details to follow it again.</p>}
      {log && log.entries.length > 0 && (
        <ol className="activity" aria-label="Activity, newest first">
          {log.entries.map((e) => {
            const words = activityWords(e, { inboxId });
            return (
              <li key={e.id} data-testid="activity-entry">
                <strong>{words.sentence}</strong>
                <p className="meta">
                  at {trustName(e.trustLevel)}
                  {e.target && (
                    <>
                      {" "}
                      · <code>{e.target}</code>
                    </>
                  )}
                </p>
                {words.why && <p>Why: {words.why}</p>}
                {words.result && <p className="meta">{words.result}</p>}
              </li>
            );
          })}
        </ol>
      )}
      {whole && whole.signedPayments.length > 0 && (
        <>
          <h3>Payments the pool signed for its wallet</h3>
          <p className="meta">
            Every payment the pool's signer signed for it, whichever host asked, within the daily limit you signed
            (newest first).
          </p>
          <ol className="activity" aria-label="Payments the pool signed, newest first">
            {whole.signedPayments.map((p) => (
              <li key={p.sequence.toString()} data-testid="signed-payment">
                <strong>
                  {eth(p.valueWei)} ETH to <code>{p.to}</code>
                </strong>
                <p className="meta">
                  {moment(p.signedAt)} · gas at most {eth(p.maxFeeWei)} ETH · <code>{p.transactionHash}</code>
                </p>
              </li>
            ))}
          </ol>
        </>
      )}
      <Pager pages={pages} nextToken={log?.nextPageToken} label="Activity pages" />
    </div>
  );
}
