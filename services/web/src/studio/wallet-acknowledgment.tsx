// A version that takes the pool's wallet away from agents, saved or rolled
// back to, is refused until its creator acknowledges it (docs/templates.md,
// "A version without the wallet"): the refusal names the acknowledgment's
// field (templates service, wallet-removal.ts), the page then shows this
// checkbox, and the next try signs what it says. The editor and the history
// ask it the same way; only the words of what is acknowledged differ.
import { Code } from "@connectrpc/connect";
import type { ReactNode } from "react";
import type { ShownError } from "../ui/errors";

/** The field of a refusal that an acknowledgment lifts. */
const ACKNOWLEDGE_WALLET = "acknowledge_wallet_removal";

/** Whether a refusal asks for the acknowledgment. */
export function asksWalletAcknowledgment(e: ShownError): boolean {
  return e.code === Code.FailedPrecondition && ACKNOWLEDGE_WALLET in e.fields;
}

export function WalletAcknowledgment({
  checked,
  onChange,
  children,
}: {
  checked: boolean;
  onChange: (checked: boolean) => void;
  /** What the creator acknowledges, in words. */
  children: ReactNode;
}) {
  return (
    <div className="check" data-testid="acknowledge-wallet-removal">
      <input
        id="acknowledge-wallet-removal"
        type="checkbox"
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
      />
      <label htmlFor="acknowledge-wallet-removal">{children}</label>
    </div>
  );
}
