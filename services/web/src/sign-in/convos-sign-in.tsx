// Sign in with Convos (docs/signatures.md): the page asks the pool for a
// code, shows it with the pool's sign-in inbox and a link (and its QR code)
// that Convos opens, and asks every two seconds whether the code was sent.
// The secret that collects the session stays in this component's memory.
import QRCode from "qrcode";
import { useEffect, useState } from "react";
import { shownError, type ShownError } from "../ui/errors";
import { useSession, type ConvosCode } from "./session";
import { ErrorBox } from "../ui/ui";

const POLL_MS = 2_000;

/** XXXXX-XXXXX, as people read it. */
const shown = (code: string) => `${code.slice(0, 5)}-${code.slice(5)}`;

export function ConvosSignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const { startConvos, collectConvos } = useSession();
  const [code, setCode] = useState<ConvosCode>();
  const [qr, setQr] = useState<string>();
  const [error, setError] = useState<ShownError>();
  const [busy, setBusy] = useState(false);

  async function start() {
    setBusy(true);
    setError(undefined);
    try {
      const c = await startConvos();
      setCode(c);
      const svg = await QRCode.toString(c.inviteUrl, { type: "svg", margin: 1 });
      setQr(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
    } catch (err) {
      setError(shownError(err));
    } finally {
      setBusy(false);
    }
  }

  // Asks until the code was sent, it expires, or the page leaves.
  useEffect(() => {
    if (!code) return;
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      try {
        const inbox = await collectConvos(code);
        if (stopped) return;
        if (inbox) return onSignedIn();
        if (Date.now() > code.expiresAt) {
          setCode(undefined);
          setError(shownError(new Error("the code expired before it was sent: get a new one")));
          return;
        }
        timer = setTimeout(() => void tick(), POLL_MS);
      } catch (err) {
        if (!stopped) {
          setCode(undefined);
          setError(shownError(err));
        }
      }
    };
    let timer = setTimeout(() => void tick(), POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [code, collectConvos, onSignedIn]);

  return (
    <section className="card" aria-labelledby="convos-sign-in">
      <h2 id="convos-sign-in">Sign in with Convos</h2>
      {!code ? (
        <>
          <p>You sign in as yourself in Convos: the page shows a code, and you send it from your Convos app.</p>
          <button type="button" disabled={busy} onClick={() => void start()}>
            {busy ? "Asking for a code…" : "Sign in with Convos"}
          </button>
        </>
      ) : (
        <>
          <p>
            Scan this with Convos, or open the link on the phone that has Convos. You can also send the code in a
            message to the pool's sign-in inbox.
          </p>
          <p className="sign-in-code" data-testid="convos-code">
            {shown(code.code)}
          </p>
          {qr && <img className="sign-in-qr" src={qr} alt="QR code of the link below: scan it with Convos" />}
          <p>
            <a href={code.inviteUrl} data-testid="convos-link">
              Open in Convos
            </a>
          </p>
          <dl className="facts">
            <dt>Sign-in inbox</dt>
            <dd>
              <code data-testid="sign-in-inbox">{code.signInInboxId}</code>
            </dd>
            <dt>Expires</dt>
            <dd>{new Date(code.expiresAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}</dd>
          </dl>
          <p className="hint" role="status">
            Waiting for the code… Convos will answer with the site you are signing in to: it should be{" "}
            {window.location.origin}.
          </p>
          <button type="button" onClick={() => setCode(undefined)}>
            Cancel
          </button>
        </>
      )}
      <ErrorBox error={error} />
    </section>
  );
}
