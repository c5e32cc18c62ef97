// How the harness stops the Convos CLI (convos-cli.ts ConvosCli.stop), on the
// real CLI (`convos agent serve`, @xmtp/convos-cli). No XMTP node: what is
// checked happens before the CLI reaches one.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvosCli } from "./convos-cli.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "convos-cli-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("ConvosCli.stop", () => {
  it("ends a CLI that has not said ready by a signal, since a stop line written then would be read as its conversation's id", {
    timeout: 60_000,
  }, async () => {
    // `agent serve` without a conversation's id reads stdin for one while it parses its arguments: in CI a
    // stack's close() stopped its CLI that early, and the CLI failed with "Conversation not found: {"type":"stop"}".
    const cli = await ConvosCli.start(["agent", "serve", "--name", "Trip", "--profile-name", "Saul"], dir);
    const outcome = cli.ready().then(
      () => "ready",
      (e: Error) => e.message,
    );
    await cli.stop();
    const said = await outcome;
    expect(said).toContain("killed by SIGTERM");
    expect(said).not.toContain("Conversation not found");
  });
});
