// The agent page's check of its verified badge and birth certificate
// (docs/signatures.md, "Birth certificate"), in the browser: paste the
// agent's Convos profile (as `convos conversation profiles ID --json`
// prints it), and the page checks the attestation against the pool's JWKS
// and each signature of the certificate. Here an inbox's wallets are known by
// derivation only (its first wallet); `pool verify-agent` with
// XMTP_API_URL asks the XMTP network.
import {
  DerivedInboxResolver,
  JWKS_PATH,
  plainMetadata,
  SignatureVerifier,
  verifyAgentProfile,
  type AgentReport,
  type AttestationJwks,
  type Finding,
} from "@convos-pool/kit/browser";
import { useState } from "react";
import { short } from "../words/format";
import { poolId } from "../sign-in/session";
import { TextArea } from "../ui/ui";

function profileOf(inboxId: string, text: string) {
  const raw = JSON.parse(text) as { profiles?: { inboxId?: string }[] };
  const mine = Array.isArray(raw.profiles) ? raw.profiles.find((p) => p.inboxId === inboxId) : raw;
  if (!mine) throw new Error("that conversation's profiles have none of this agent");
  return plainMetadata(mine);
}

async function check(inboxId: string, text: string): Promise<AgentReport> {
  const res = await fetch(new URL(JWKS_PATH, window.location.origin));
  if (!res.ok) throw new Error(`the pool's keys (${JWKS_PATH}): HTTP ${res.status}`);
  const jwks = (await res.json()) as AttestationJwks;
  return verifyAgentProfile(inboxId, profileOf(inboxId, text), {
    jwks,
    verifier: new SignatureVerifier({ resolver: new DerivedInboxResolver(), poolId: await poolId() }),
  });
}

const proofLine = (what: string, f: Finding | undefined) =>
  f && (
    <li>
      {what}: {f.ok ? "✓" : "✗"} {f.by === "pool" ? "(the pool's word only) " : ""}
      {f.detail}
    </li>
  );

export function BadgeCheck({ inboxId }: { inboxId: string }) {
  const [text, setText] = useState("");
  const [report, setReport] = useState<AgentReport | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const c = report?.certificate;
  return (
    <form
      className="card"
      aria-labelledby="badge-heading"
      onSubmit={(e) => {
        e.preventDefault();
        setReport(undefined);
        setFailure(undefined);
        check(inboxId, text).then(setReport, (err: unknown) => setFailure(String(err)));
      }}
    >
      <h2 id="badge-heading">Verified badge</h2>
      <TextArea
        label="Its Convos profile"
        name="profile"
        hint="What `convos conversation profiles <conversation> --json` prints in its conversation"
        rows={4}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" disabled={!text.trim()}>
        Check
      </button>
      {failure && <p role="alert">{failure}</p>}
      {report && (
        <div role="status" data-testid="badge-report">
          <p>
            <strong>{report.valid ? "Verified" : "Not verified"}</strong>
            {report.attestation.valid ? ` · attested by the pool (key ${report.attestation.kid})` : ""}
          </p>
          {c && (
            <p>
              Template <code>{c.templateId}</code> version {c.version} by <code>{short(c.creatorId)}</code>, owned by{" "}
              <code>{short(c.ownerId)}</code>
              {c.parentInstanceId ? `, a clone of ${c.parentInstanceId}` : ""}
            </p>
          )}
          <ul>
            {proofLine("Template", c?.template)}
            {proofLine("Owner", c?.owner)}
            {proofLine("Parent", c?.parent)}
            {report.problems.map((p) => (
              <li key={p}>✗ {p}</li>
            ))}
          </ul>
        </div>
      )}
    </form>
  );
}
