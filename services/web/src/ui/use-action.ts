// One owner action of the agent page at a time (pin, remove, trust,
// permissions, participation, transfer, accept): busy while it runs, its notice when done,
// its error kept beside the form it came from; every query read again after.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { shownError, type ShownError } from "./errors";

export function useAction() {
  const queryClient = useQueryClient();
  const [error, setError] = useState<ShownError>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState<string>();
  // Which action failed: its error is shown where that action is.
  const [failed, setFailed] = useState<string>();
  async function run(what: string, message: string, action: () => Promise<void>) {
    setBusy(what);
    setError(undefined);
    setFailed(undefined);
    setDone(undefined);
    try {
      await action();
      setDone(message);
      await queryClient.invalidateQueries();
    } catch (err) {
      setError(shownError(err));
      setFailed(what);
    } finally {
      setBusy(undefined);
    }
  }
  const errorOf = (what: string) => (failed === what ? error : undefined);
  const errorOfOthers = (what: string) => (failed !== what ? error : undefined);
  return { error, done, busy, run, errorOf, errorOfOthers };
}
