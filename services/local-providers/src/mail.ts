// The local mail server: SMTP (the `smtp-server` library) for the agents'
// mailboxes (maildirs.ts). Anyone may send to an agent's mailbox that exists,
// as to any domain's mail server; an agent (or a person whose mailbox here
// has a password) signs in to send, only as itself. Nothing leaves the
// machine: what a signed-in sender sends to another domain is kept here, in
// that person's mailbox, for their mail client to read over POP3 (pop3.ts),
// as Mailpit and MailHog do. Without signing in, mail for other domains is
// refused (no open relay).
import { SMTPServer, type SMTPServerAddress, type SMTPServerAuthentication, type SMTPServerSession } from "smtp-server";
import { freePort, type Logger } from "@convos-pool/kit/server";
import type { Maildirs } from "./maildirs.js";

export interface LocalMailOptions {
  mailboxes: Maildirs;
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** The largest message accepted; default 10 MiB. */
  maxBytes?: number;
  log?: Logger;
}

export interface RunningMail {
  host: string;
  port: number;
  /** smtp://host:port, for a mail client. */
  url: string;
  close(): Promise<void>;
}

/** An SMTP reply with its code: the client sees both. */
function reply(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startLocalMail(opts: LocalMailOptions): Promise<RunningMail> {
  const { mailboxes } = opts;
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port || (await freePort(host));
  const maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
  const log = opts.log;

  const server = new SMTPServer({
    name: mailboxes.domain,
    banner: "Convos agent pool, local mail (nothing leaves this machine)",
    // Local only, over the loopback: no TLS, and passwords allowed in the clear.
    secure: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: true,
    authMethods: ["PLAIN", "LOGIN"],
    size: maxBytes,
    logger: false,
    onAuth(
      auth: SMTPServerAuthentication,
      _session: SMTPServerSession,
      done: (err: Error | null | undefined, response?: { user: string }) => void,
    ) {
      const address = (auth.username ?? "").toLowerCase();
      void mailboxes.checkPassword(address, auth.password ?? "").then(
        (ok) => (ok ? done(null, { user: address }) : done(reply(535, "the address or its password is wrong"))),
        (err: unknown) => done(err as Error),
      );
    },
    onMailFrom(from: SMTPServerAddress, session: SMTPServerSession, done: (err?: Error | null) => void) {
      // Signed in: only as oneself.
      if (session.user && from.address.toLowerCase() !== session.user)
        return done(reply(553, `signed in as ${session.user}: send as ${session.user}`));
      done();
    },
    onRcptTo(to: SMTPServerAddress, session: SMTPServerSession, done: (err?: Error | null) => void) {
      const address = to.address.toLowerCase();
      if (!address.endsWith(`@${mailboxes.domain}`)) {
        if (!session.user)
          return done(
            reply(
              550,
              `without signing in, this local server delivers only to @${mailboxes.domain} (nothing leaves this machine)`,
            ),
          );
        if (!mailboxes.isPersonAddress(address))
          return done(
            reply(
              553,
              `this local server keeps mail only for plain addresses (letters, digits, . _ + -): not ${address}`,
            ),
          );
        return done(); // kept in the person's mailbox here, never sent on
      }
      void mailboxes.exists(address).then(
        (yes) => (yes ? done() : done(reply(550, `no mailbox ${address}`))),
        (err: unknown) => done(err as Error),
      );
    },
    onData(stream, session: SMTPServerSession, done: (err?: Error | null) => void) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded)
          return done(reply(552, `the message is larger than ${maxBytes} bytes`));
        const message = Buffer.concat(chunks);
        const recipients = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        void Promise.all(recipients.map((r) => mailboxes.deliver(r, message))).then(
          () => {
            const kept = recipients.filter((r) => mailboxes.isPersonAddress(r)).length;
            log?.info("mail delivered", {
              recipients: recipients.length,
              keptForPeople: kept,
              bytes: message.length,
              signedIn: Boolean(session.user),
            });
            done();
          },
          (err: unknown) => done(err as Error),
        );
      });
    },
  });
  server.on("error", (err) => log?.warn("local mail server error", { err }));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  log?.info("local mail up", { host, port, domain: mailboxes.domain });
  return {
    host,
    port,
    url: `smtp://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
