// Sign-in: with Convos (a code sent from the person's Convos app,
// convos-sign-in.tsx) or with the browser's own wallet (one signed login).
// A key kept in this browser (created here or imported from the CLI's key
// file) is for developers: shown only in developer mode (?developer=1),
// since no product asks people to paste a private key.
import { useCallback, useState, type ChangeEvent } from "react";
import { shownError, type ShownError } from "../ui/errors";
import { exportKey, injectedProvider } from "./identity";
import { navigate, useLocation } from "../router";
import { useSession } from "./session";
import { ErrorBox, Page, TextArea } from "../ui/ui";
import { ConvosSignIn } from "./convos-sign-in";

export function SignInPage() {
  const session = useSession();
  const params = useLocation().searchParams;
  const next = params.get("next");
  const developer = params.has("developer");
  const [error, setError] = useState<ShownError>();
  // Which way of signing in failed: its error is shown where it is.
  const [failed, setFailed] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const [keyText, setKeyText] = useState("");

  async function run(what: string, action: () => Promise<void>) {
    setBusy(what);
    setError(undefined);
    setFailed(undefined);
    try {
      await action();
      goOn();
    } catch (err) {
      setError(shownError(err));
      setFailed(what);
    } finally {
      setBusy(undefined);
    }
  }

  const goOn = useCallback(() => {
    // Only a path of this app: never an address elsewhere.
    if (next?.startsWith("/") && !next.startsWith("//")) navigate(next);
  }, [next]);

  async function readFile(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    if (file) setKeyText(await file.text());
  }

  function download() {
    const text = exportKey();
    if (!text) return;
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    a.download = "key.json";
    a.click();
    URL.revokeObjectURL(a.href);
  }

  if (session.signedIn && session.kind === "convos") {
    return (
      <Page title="Signed in">
        <p>
          Signed in with Convos. If the inbox below is not yours in Convos, someone else sent your code: sign out now.
        </p>
        <dl className="facts">
          <dt>Inbox</dt>
          <dd>
            <code data-testid="inbox-id">{session.inboxId}</code>
          </dd>
        </dl>
        <div className="actions">
          <button type="button" onClick={() => void run("out", () => session.signOut(false))}>
            Sign out
          </button>
        </div>
        <p className="hint">
          You can add agents from the store and read your agents. Answering their questions, setting their trust and
          permissions and showing what they know, you confirm each in Convos: the agent asks you there. Letting an agent
          pay (a daily limit), removing an agent, giving it away or taking its funds needs a wallet of this inbox.
        </p>
        <ErrorBox error={error} />
      </Page>
    );
  }

  if (session.signedIn && session.wallet) {
    const w = session.wallet;
    return (
      <Page title="Signed in">
        <dl className="facts">
          <dt>Inbox</dt>
          <dd>
            <code data-testid="inbox-id">{w.inboxId}</code>
          </dd>
          <dt>Wallet</dt>
          <dd>
            <code>{w.address}</code> ({w.kind === "local" ? "a key kept in this browser" : "this browser's wallet"})
          </dd>
        </dl>
        <div className="actions">
          {w.kind === "local" && (
            <button type="button" onClick={download}>
              Download the key file
            </button>
          )}
          <button type="button" onClick={() => void run("out", () => session.signOut(false))}>
            Sign out
          </button>
          {w.kind === "local" && (
            <button type="button" className="danger" onClick={() => void run("out", () => session.signOut(true))}>
              Sign out and forget the key
            </button>
          )}
        </div>
        {w.kind === "local" && (
          <p className="hint">
            The key file works with the command line too: save it as .data/cli/key.json and `pool whoami` shows this
            inbox.
          </p>
        )}
        <ErrorBox error={error} />
      </Page>
    );
  }

  const stored = session.wallet;
  return (
    <Page title="Sign in">
      <p>
        {injectedProvider()
          ? "Sign in as yourself in Convos, or with your browser's wallet."
          : "Sign in as yourself in Convos: no wallet is needed."}
      </p>
      <ConvosSignIn onSignedIn={goOn} />
      {injectedProvider() && (
        <section className="card">
          <h2>This browser's wallet</h2>
          <button type="button" disabled={!!busy} onClick={() => void run("wallet", session.connectWallet)}>
            {busy === "wallet" ? "Waiting for the wallet…" : "Connect the wallet and sign in"}
          </button>
        </section>
      )}
      <ErrorBox error={failed === "import" ? undefined : error} />
      {(developer || stored) && <h2>Developer mode</h2>}
      {stored && (
        <section className="card">
          <h2>The key kept in this browser</h2>
          <p>
            <code>{stored.inboxId}</code>
          </p>
          <button
            type="button"
            disabled={!!busy}
            onClick={() =>
              void run("stored", async () => {
                const key = exportKey();
                if (!key) throw new Error("the key kept in this browser is gone: sign in another way");
                await session.importKeyFile(key);
              })
            }
          >
            {busy === "stored" ? "Signing in…" : "Sign in with it"}
          </button>
        </section>
      )}
      {developer && (
        <>
          <section className="card">
            <h2>A new key</h2>
            <p>Creates a key in this browser. Download it afterwards to keep it.</p>
            <button type="button" disabled={!!busy} onClick={() => void run("generate", session.generate)}>
              {busy === "generate" ? "Signing in…" : "Create a key and sign in"}
            </button>
          </section>
          <section className="card">
            <h2>The command line's key</h2>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void run("import", () => session.importKeyFile(keyText));
              }}
            >
              <div className="field">
                <label htmlFor="key-file">Key file (.data/cli/key.json)</label>
                <input id="key-file" type="file" accept=".json,application/json" onChange={(e) => void readFile(e)} />
              </div>
              <TextArea
                label="…or its contents"
                name="key"
                error={failed === "import" ? error : undefined}
                rows={4}
                value={keyText}
                onChange={(e) => setKeyText(e.target.value)}
                spellCheck={false}
                autoComplete="off"
              />
              <ErrorBox error={failed === "import" ? error : undefined} fieldsShown={["key"]} />
              <button type="submit" disabled={!!busy || !keyText.trim()}>
                {busy === "import" ? "Signing in…" : "Import and sign in"}
              </button>
            </form>
          </section>
        </>
      )}
    </Page>
  );
}
