// The signed-in person: a gateway session, sent as a Bearer token on every
// call, bought with a signed login of their wallet (CreateSession) or with a
// code sent from their Convos app (Sign in with Convos, docs/signatures.md).
// Reads of private data use the session; a change the owner signs is signed
// again, by the wallet, over what it changes (signOperation: the CLI's
// EIP-712 types), so a Convos session without a wallet reads and cannot sign.
import { create } from "@bufbuild/protobuf";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  isPoolId,
  Retrier,
  retryInterceptor,
  signSignIn,
  signOperation,
  signatureDomain,
  type OperationFields,
  type SignedOperation,
} from "@convos-pool/kit/browser";
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import {
  connectInjected,
  forgetKey,
  generateKey,
  importKey,
  reconnectInjected,
  storedWallet,
  type Wallet,
} from "./identity";
import { onRetryEvent } from "../ui/busy";

interface StoredSession {
  inboxId: string;
  token: string;
  expiresAt: number;
  kind: Wallet["kind"] | "convos";
  /** A Convos session's: the name the person's Convos profile gave with their code (CollectConvosSignIn). */
  name?: string;
}

/** A started Sign in with Convos: what the page shows, and the secret it keeps to collect the session. */
export interface ConvosCode {
  code: string;
  secret: string;
  signInInboxId: string;
  inviteUrl: string;
  expiresAt: number;
}

const SESSION_ITEM = "convos-pool/session";
let token: string | undefined;

/** Adds the session's token to every call of the app. */
const bearer: Interceptor = (next) => (req) => {
  if (token) req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};

/**
 * Connect-Web to the gateway that served this page (same origin). A call the
 * pool refuses for now is sent again after the delay it named, under one
 * retry budget for the page, and the page says so meanwhile (ui/busy.tsx).
 */
export const transport = createConnectTransport({
  baseUrl: window.location.origin,
  useHttpGet: true,
  interceptors: [retryInterceptor(new Retrier({ onEvent: onRetryEvent })), bearer],
});
const sessions = createClient(SessionService, transport);

let asked: Promise<string> | undefined;

/**
 * The pool every signature here is made for (docs/signatures.md): what this
 * gateway names, asked once, and only if it is a domain this app builds itself.
 */
export function poolId(): Promise<string> {
  asked ??= sessions.getSigningDomain({}).then((d) => {
    const mine = isPoolId(d.poolId) ? signatureDomain(d.poolId) : undefined;
    if (!mine || d.name !== mine.name || d.version !== mine.version || d.salt !== mine.salt) {
      throw new Error(`the pool names a signing domain this app does not build (pool "${d.poolId}")`);
    }
    return d.poolId;
  });
  asked.catch(() => (asked = undefined));
  return asked;
}

function readStored(): StoredSession | undefined {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_ITEM) ?? "null") as StoredSession | null;
    return s && s.expiresAt > Date.now() ? s : undefined;
  } catch {
    return undefined;
  }
}

export interface SessionValue {
  wallet: Wallet | undefined;
  /** Signed in: a live session, of a wallet's inbox or of the Convos inbox that sent a code. */
  signedIn: boolean;
  inboxId: string | undefined;
  /** The name their Convos profile gave when they sent their code: their own word; none for a wallet's session. */
  name: string | undefined;
  /** How: "convos" for a session bought with a code sent from Convos (no wallet signs for it here). */
  kind: StoredSession["kind"] | undefined;
  /** A wallet of the signed-in inbox is here to sign its acts (not so for a session from Convos alone). */
  canSign: boolean;
  /** Sign in with Convos: a code for this page. */
  startConvos: () => Promise<ConvosCode>;
  /** Its session once the code was sent: the inbox that sent it; undefined while nobody has. */
  collectConvos: (c: ConvosCode) => Promise<string | undefined>;
  // Functions, not methods: pages take them out of the value (`const { sign } = useSession()`).
  generate: () => Promise<void>;
  importKeyFile: (text: string) => Promise<void>;
  connectWallet: () => Promise<void>;
  signOut: (forget: boolean) => Promise<void>;
  /** Signs `operation` as the signed-in inbox; `fields` are the operation's own, inboxId aside. */
  sign: (operation: SignedOperation, fields: OperationFields) => Promise<Signature>;
}

const SessionContext = createContext<SessionValue | undefined>(undefined);

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error("useSession outside SessionProvider");
  return v;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [wallet, setWallet] = useState<Wallet | undefined>(() => storedWallet());
  const [session, setSession] = useState<StoredSession | undefined>(() => {
    const s = readStored();
    const w = storedWallet();
    if (s?.kind === "convos") return s;
    return s && w && s.kind === "local" && s.inboxId === w.inboxId ? s : undefined;
  });
  token = session?.token;

  // A session of an injected wallet outlives the page: the wallet comes back
  // without a prompt when it still holds that account.
  useEffect(() => {
    const s = readStored();
    if (s?.kind !== "injected") return;
    void reconnectInjected().then((w) => {
      if (w?.inboxId !== s.inboxId) return;
      token = s.token;
      setWallet(w);
      setSession(s);
    });
  }, []);

  /** Keeps a session the gateway issued, and forgets what was read before it. */
  const keep = useCallback(
    (s: StoredSession) => {
      localStorage.setItem(SESSION_ITEM, JSON.stringify(s));
      token = s.token;
      setSession(s);
      // Everything read so far was read as someone else (or nobody).
      queryClient.clear();
    },
    [queryClient],
  );

  const begin = useCallback(
    async (w: Wallet) => {
      // Signed for this page's origin, which the gateway that served it checks is its own.
      const signIn = await signSignIn(w.signer, w.inboxId, window.location.origin, undefined, await poolId());
      const res = await sessions.createSession(signIn);
      setWallet(w);
      keep({
        inboxId: w.inboxId,
        token: res.token,
        expiresAt: res.expiresAt ? Number(res.expiresAt.seconds) * 1000 : Date.now() + 3_600_000,
        kind: w.kind,
      });
    },
    [keep],
  );

  // A key kept here renews its session before it ends, without asking.
  useEffect(() => {
    if (!session || !wallet || wallet.kind !== "local") return;
    const renewIn = Math.max(session.expiresAt - Date.now() - 5 * 60_000, 0);
    const timer = setTimeout(() => void begin(wallet).catch(() => setSession(undefined)), renewIn);
    return () => clearTimeout(timer);
  }, [session, wallet, begin]);

  const canSign = Boolean(session && wallet && wallet.inboxId === session.inboxId);
  const value = useMemo<SessionValue>(
    () => ({
      wallet,
      signedIn: Boolean(session && (session.kind === "convos" || wallet)),
      inboxId: session && (session.kind === "convos" || wallet) ? session.inboxId : undefined,
      name: session?.kind === "convos" ? session.name : undefined,
      kind: session?.kind,
      canSign,
      async startConvos() {
        const r = await sessions.startConvosSignIn({ origin: window.location.origin });
        return {
          code: r.code,
          secret: r.secret,
          signInInboxId: r.signInInboxId,
          inviteUrl: r.inviteUrl,
          expiresAt: r.expiresAt ? Number(r.expiresAt.seconds) * 1000 : Date.now() + 300_000,
        };
      },
      async collectConvos(c) {
        const r = await sessions.collectConvosSignIn({ code: c.code, secret: c.secret });
        if (r.waiting) return undefined;
        keep({
          inboxId: r.inboxId,
          token: r.token,
          expiresAt: r.expiresAt ? Number(r.expiresAt.seconds) * 1000 : Date.now() + 3_600_000,
          kind: "convos",
          ...(r.name ? { name: r.name } : {}),
        });
        return r.inboxId;
      },
      generate: () => begin(generateKey()),
      async importKeyFile(text) {
        await begin(importKey(text));
      },
      async connectWallet() {
        await begin(await connectInjected());
      },
      async signOut(forget) {
        await sessions.deleteSession({}).catch(() => {});
        localStorage.removeItem(SESSION_ITEM);
        if (forget) forgetKey();
        token = undefined;
        setSession(undefined);
        setWallet(forget ? undefined : storedWallet());
        queryClient.clear();
      },
      async sign(operation, fields) {
        if (!session) throw new Error("sign in first");
        // Only a wallet of the signed-in inbox signs: a key kept here for another inbox must not.
        if (!canSign || !wallet) {
          throw new Error(
            "this change is signed by your wallet, and this browser has none for the inbox you signed in with: connect a browser wallet of that inbox",
          );
        }
        const s = await signOperation(
          wallet.signer,
          operation,
          { ...fields, inboxId: wallet.inboxId },
          undefined,
          await poolId(),
        );
        return create(SignatureSchema, s);
      },
    }),
    [wallet, session, canSign, begin, keep, queryClient],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
