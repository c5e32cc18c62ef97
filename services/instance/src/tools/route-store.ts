// The agent's tool routes on disk (`tool-routes.json`, sealed with the
// workspace by the vault): routing.ts decides, this reads and writes. A
// record is best effort: a route lost to a failed write sends the answer to
// the home, never elsewhere.

import type { Logger } from "@convos-pool/kit/server";
import { FILES, type Workspace } from "../platform/workspace.js";
import { NO_ROUTES, parseRoutes, recordMail, recordText, type Sent, type ToolRoutes } from "./routing.js";

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
