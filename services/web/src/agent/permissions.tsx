// "Who may ask" on an agent's page: what another member of its conversation
// may have it do with each tool, whether it answers a text from outside, and
// where it asks its owner's approval. The owner signs SetPermissions over all
// five; the agent checks it and enforces them itself (docs/trust.md, "Who may
// ask"). Signed in with Convos alone, the owner confirms them in Convos
// instead of signing (confirm-in-convos.tsx).
import { useMutation } from "@connectrpc/connect-query";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  APPROVAL_PLACE_NAMES,
  DEFAULT_PERMISSION_VALUES,
  GRANT_NAMES,
  OUTSIDER_REPLY_NAMES,
  approvalPlaceName,
  grantName,
  outsiderReplyName,
  parseApprovalPlace,
  parseGrant,
  parseOutsiderReply,
  resolvePermissions,
  type ApprovalPlaceName,
  type GrantName,
  type OutsiderReplyName,
  type ResolvedPermissions,
} from "@convos-pool/kit/browser";
import { useState } from "react";
import { useSession } from "../sign-in/session";
import { ErrorBox, Notice, Select } from "../ui/ui";
import { useAction } from "../ui/use-action";
import { ConfirmInConvos, useConvosConfirm } from "./confirm-in-convos";

const GRANT_WORDS: Record<GrantName, string> = { allow: "Allow", ask: "Ask me first", refuse: "Refuse" };
const REPLY_WORDS: Record<OutsiderReplyName, string> = {
  none: "Don't answer",
  ask: "Ask me first",
  answer: "Answer",
};
const PLACE_WORDS: Record<ApprovalPlaceName, string> = {
  conversation: "Here in the conversation (everyone sees the details)",
  direct: "In a direct conversation with me (the group is told only that I was asked)",
};

/** A member's grant per tool: its field, the server's name of it (where its error is), and the question. */
const MEMBER_ASKS = [
  ["memberSms", "permissions.member_sms", "A member asks it to send a text"],
  ["memberEmail", "permissions.member_email", "A member asks it to read or send mail"],
  ["memberCrypto", "permissions.member_crypto", "A member asks it to move money"],
] as const;
const OUTSIDER_FIELD = "permissions.outsider_reply";
const PLACE_FIELD = "permissions.approvals";

export function PermissionsForm({ agent: i }: { agent: Instance }) {
  const { sign, canSign } = useSession();
  const act = useAction();
  const { confirm, waiting } = useConvosConfirm();
  const save = useMutation(ClaimService.method.setPermissions);
  // What the agent holds (the defaults until its owner sets them), with the owner's unsaved choices over it.
  const [picked, setPicked] = useState<Partial<ResolvedPermissions>>({});
  const chosen: ResolvedPermissions = { ...(i.permissions ?? DEFAULT_PERMISSION_VALUES), ...picked };
  const fields = [...MEMBER_ASKS.map(([, name]) => name), OUTSIDER_FIELD, PLACE_FIELD];

  return (
    <form
      className="card"
      aria-labelledby="permissions-heading"
      onSubmit={(e) => {
        e.preventDefault();
        void act.run("permissions", "Saved: it acts on these from now on.", async () => {
          // Signed filled in, as the agent checks it: an unset field is its default.
          const permissions = resolvePermissions(chosen);
          if (!canSign) {
            await confirm(
              i.id,
              { kind: "set_permissions", permissions },
              "set whose requests it acts on as shown here",
            );
            return;
          }
          const ownerSignature = await sign("SetPermissions", { instanceId: i.id, ...permissions });
          await save.mutateAsync({ instanceId: i.id, permissions, ownerSignature });
        });
      }}
    >
      <h2 id="permissions-heading">Who may ask</h2>
      <p>
        Your own requests act as its trust level allows. When someone else in its conversation asks it to use a tool:
      </p>
      {MEMBER_ASKS.map(([key, name, label]) => (
        <Select
          key={key}
          label={label}
          name={name}
          error={act.errorOf("permissions")}
          value={grantName(chosen[key]) || "ask"}
          onChange={(e) => {
            const grant = parseGrant(e.target.value);
            if (grant !== undefined) setPicked({ ...picked, [key]: grant });
          }}
        >
          {GRANT_NAMES.map((n) => (
            <option key={n} value={n}>
              {GRANT_WORDS[n]}
            </option>
          ))}
        </Select>
      ))}
      <Select
        label="Someone outside the conversation texts it"
        name={OUTSIDER_FIELD}
        error={act.errorOf("permissions")}
        value={outsiderReplyName(chosen.outsiderReply) || "none"}
        onChange={(e) => {
          const outsiderReply = parseOutsiderReply(e.target.value);
          if (outsiderReply !== undefined) setPicked({ ...picked, outsiderReply });
        }}
        hint="Either way the text is passed on into the conversation; an outsider never has it use any other tool."
      >
        {OUTSIDER_REPLY_NAMES.map((n) => (
          <option key={n} value={n}>
            {REPLY_WORDS[n]}
          </option>
        ))}
      </Select>
      <Select
        label="Where I'm asked to approve"
        name={PLACE_FIELD}
        error={act.errorOf("permissions")}
        value={approvalPlaceName(chosen.approvals) || "conversation"}
        onChange={(e) => {
          const approvals = parseApprovalPlace(e.target.value);
          if (approvals !== undefined) setPicked({ ...picked, approvals });
        }}
        hint="Either way, only your answer approves."
      >
        {APPROVAL_PLACE_NAMES.map((n) => (
          <option key={n} value={n}>
            {PLACE_WORDS[n]}
          </option>
        ))}
      </Select>
      <ErrorBox error={act.errorOf("permissions")} fieldsShown={fields} />
      {act.done && <Notice>{act.done}</Notice>}
      <ConfirmInConvos waiting={waiting} />
      <button type="submit" disabled={!!act.busy}>
        {act.busy
          ? canSign
            ? "Saving…"
            : "Waiting for Convos…"
          : canSign
            ? "Sign and save who may ask"
            : "Confirm who may ask in Convos"}
      </button>
    </form>
  );
}
