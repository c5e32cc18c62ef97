// The agent's tool routes on disk (`tool-routes.json`, sealed with the
// workspace by the vault): policy.ts decides, this reads and writes. A
// record is best effort: a route lost to a failed write sends the answer to
// the home, never elsewhere.

import type { Logger } from "@convos-pool/kit/server";
import type { Where } from "../../walls/labels.js";
import { FILES, type Workspace } from "../../platform/workspace.js";
import {
  NO_ROUTES,
  parseRoutes,
  recordMail,
  recordText,
  routeMail,
  routeText,
  type IncomingMail,
  type Sent,
  type ToolRoutes,
} from "./policy.js";

export class RouteStore {
  /** Writes one after another, so that two sends in a row both stay. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ws: Workspace,
    private readonly log: Logger,
  ) {}

  async read(): Promise<ToolRoutes> {
    return parseRoutes((await this.ws.readJson<unknown>(FILES.toolRoutes)) ?? NO_ROUTES);
  }

  /**
   * Where a text from `fromNumber` goes (policy.ts routeText); the owner alone when the file cannot be read (it
   * may be the text of a number several conversations texted). Read after every record asked before, and
   * answered in the order asked: an answer that comes right after the send finds its route, and two texts of one
   * number keep their order.
   */
  textFrom(fromNumber: string, home: string, nowMs = Date.now()): Promise<Where> {
    return this.lookUp({ ownerOnly: true }, (routes) => routeText(routes, home, fromNumber, nowMs));
  }

  /** The conversation a mail goes to (policy.ts routeMail): that of the mail or thread it answers, else `home`. */
  mailFrom(mail: IncomingMail, home: string): Promise<string> {
    return this.lookUp(home, (routes) => routeMail(routes, home, mail));
  }

  private lookUp<T>(otherwise: T, route: (routes: ToolRoutes) => T): Promise<T> {
    const read = this.chain.then(async () => route(await this.read()));
    this.chain = read.catch(() => undefined);
    return read.catch((err: unknown) => {
      this.log.warn("could not read where a text or mail belongs", { err });
      return otherwise;
    });
  }

  /** Records `sent` with the conversation whose turn sent it. */
  record(sent: Sent, conversationId: string, atMs = Date.now()): Promise<void> {
    const write = this.chain.then(async () => {
      const routes = await this.read();
      const next =
        sent.kind === "text"
          ? recordText(routes, sent.number, conversationId, atMs)
          : recordMail(routes, sent, conversationId, atMs);
      await this.ws.writeJson(FILES.toolRoutes, next);
    });
    this.chain = write.catch(() => undefined);
    return write.catch((err: unknown) => this.log.warn("could not record where a text or mail came from", { err }));
  }
}
