// The agent page's trust level: what it allows, and another up to the highest
// its template allows, with the daily spending limit the pool's payment signer
// holds it to: required at L4, optional at L2 and L3 (docs/web.md, "Trust level").
// Signed in with Convos alone, the owner confirms it in Convos instead of signing
// (confirm-in-convos.tsx), and a daily limit so confirmed is at most the cap
// (0.05 ETH a day; docs/security.md, "Agents' money"): a wallet signs more.
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { SpendLimitKind, type Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  TRUST_LEVEL_NAMES,
  TRUST_LEVEL_SUMMARIES,
  effectiveMaxTrustLevel,
  parseTrustLevel,
  trustLevelName,
  type TrustLevelName,
} from "@convos-pool/kit/browser";
import { useState } from "react";
import { parseEther } from "viem";
import { FieldError } from "../ui/errors";
import { eth, trustName } from "../words/format";
import { useSession } from "../sign-in/session";
import { ErrorBox, Notice, Select, TextField } from "../ui/ui";
import { useAction } from "../ui/use-action";
import { ConfirmInConvos, useConvosConfirm } from "./confirm-in-convos";
import { CONFIRMED_LIMIT_CAP_ETH, confirmedLimitProblem } from "./confirm-words";

/** "0.05" ETH in wei: above 0, at most 18 decimals; empty is none (0) where a level may have none. */
function dailyLimitWei(text: string, required: boolean): bigint {
  if (!required && text.trim() === "") return 0n;
  const wei = /^\d+(\.\d{1,18})?$/.test(text.trim()) ? parseEther(text.trim()) : 0n;
  if (wei <= 0n) throw new FieldError("daily_spend_limit_wei", "an amount of ETH above 0, such as 0.05");
  return wei;
}

/** Levels that move money, and so may have a limit: L4 must, L2 and L3 may (without one they pay nothing). */
const SPENDS: readonly TrustLevelName[] = ["L2", "L3", "L4"];

/**
 * Its trust level and what that allows, and a choice of another up to the
 * highest its template allows (L2 when the template names none), with the
 * daily spending limit in ETH at L2 to L4 (required at L4). The owner signs
 * SetTrustLevel; the agent checks it and enforces the level itself.
 */
export function TrustForm({ agent: i }: { agent: Instance }) {
  const { sign, canSign } = useSession();
  const act = useAction();
  const { confirm, waiting } = useConvosConfirm();
  const template = useQuery(TemplateService.method.getTemplate, { templateId: i.templateId });
  const save = useMutation(ClaimService.method.setTrustLevel);
  const content = template.data?.template?.content;
  // A template the owner cannot read (someone else's, made private since): every level; the agent refuses one above its highest.
  const max = content ? effectiveMaxTrustLevel(content.maxTrustLevel) : TrustLevel.AUTONOMOUS;
  const levels = TRUST_LEVEL_NAMES.filter((n) => {
    const level = parseTrustLevel(n);
    return level !== undefined && level <= max;
  });
  const current = trustLevelName(i.trustLevel);
  const [picked, setPicked] = useState<TrustLevelName>();
  // The highest it may have; L1 is always among them.
  const fallback = current && levels.includes(current) ? current : (levels.at(-1) ?? "L1");
  const chosen = picked && levels.includes(picked) ? picked : fallback;
  const limitWei = i.dailySpendLimitWei && i.dailySpendLimitWei !== "0" ? i.dailySpendLimitWei : "";
  const [limit, setLimit] = useState(limitWei ? eth(limitWei) : "");
  const spends = SPENDS.includes(chosen);

  return (
    <form
      className="card"
      aria-labelledby="trust-heading"
      onSubmit={(e) => {
        e.preventDefault();
        void act.run("trust", `Its trust level is now ${chosen}.`, async () => {
          const trustLevel = parseTrustLevel(chosen);
          if (trustLevel === undefined) throw new Error(`no trust level is called "${chosen}"`);
          const wei = spends ? dailyLimitWei(limit, chosen === "L4") : 0n;
          if (!canSign) {
            const over = confirmedLimitProblem(wei, BigInt(limitWei || "0"));
            if (over) throw new FieldError("daily_spend_limit_wei", over);
            // As the agent will apply it, so that the page's code is the one Convos shows: no limit is "0".
            const step = { kind: "set_trust_level", trustLevel, dailySpendLimitWei: wei.toString() } as const;
            const limitWords = wei > 0n ? `, up to ${eth(wei.toString())} ETH a day` : ", no spending";
            await confirm(i.id, step, `set its trust level to ${chosen}${limitWords}`);
            return;
          }
          const ownerSignature = await sign("SetTrustLevel", { instanceId: i.id, trustLevel, dailySpendLimitWei: wei });
          await save.mutateAsync({
            instanceId: i.id,
            trustLevel,
            dailySpendLimitWei: wei > 0n ? wei.toString() : "",
            ownerSignature,
          });
        });
      }}
    >
      <h2 id="trust-heading">Trust level</h2>
      <p data-testid="agent-trust">
        {current ? (
          <>
            <strong>{current}</strong>: {TRUST_LEVEL_SUMMARIES[current]}
            {i.trustLevel >= TrustLevel.ADVISOR && limitWei && `, up to ${eth(limitWei)} ETH a day`}
            {i.trustLevel >= TrustLevel.ADVISOR &&
              limitWei &&
              i.dailySpendLimitKind === SpendLimitKind.CONFIRMED_IN_CONVOS &&
              ", confirmed in Convos"}
            .
          </>
        ) : (
          "Not set: it was added before trust levels."
        )}
      </p>
      <Select
        label="Level"
        name="trust_level"
        error={act.errorOf("trust")}
        value={chosen}
        onChange={(e) => setPicked(e.target.value as TrustLevelName)}
        hint={
          content
            ? `Its template allows up to ${trustName(max)}.`
            : template.error
              ? "Its template could not be read: the agent refuses a level above the highest it allows."
              : undefined
        }
      >
        {levels.map((n) => (
          <option key={n} value={n}>
            {n}: {TRUST_LEVEL_SUMMARIES[n]}
          </option>
        ))}
      </Select>
      {spends && (
        <TextField
          label="Daily spending limit (ETH)"
          name="daily_spend_limit_wei"
          error={act.errorOf("trust")}
          required={chosen === "L4"}
          inputMode="decimal"
          value={limit}
          onChange={(e) => setLimit(e.target.value)}
          placeholder="0.05"
          hint={[
            chosen === "L4"
              ? "The most it may spend in a day without asking you."
              : "The most its wallet may pay in a day, each payment with your yes. Empty: it pays nothing.",
            canSign
              ? ""
              : ` Confirmed in Convos, at most ${CONFIRMED_LIMIT_CAP_ETH} ETH a day; a wallet of yours can sign a higher limit.`,
          ].join("")}
          autoComplete="off"
        />
      )}
      <ErrorBox error={act.errorOf("trust")} fieldsShown={["trust_level", "daily_spend_limit_wei"]} />
      {act.done && <Notice>{act.done}</Notice>}
      <ConfirmInConvos waiting={waiting} />
      <button type="submit" disabled={!!act.busy}>
        {act.busy ? (canSign ? "Saving…" : "Waiting for Convos…") : canSign ? "Sign and save" : "Confirm in Convos"}
      </button>
    </form>
  );
}
