// `pool rollout …` as plain calls of the command line (main.ts run) against a
// stand-in gateway (a fetch that answers as the REST paths of docs/rest.md
// do): its arguments, the requests it sends, and the signatures it makes,
// each checked with the kit's verifier as the templates service checks it.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RolloutAction } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { jsonHash } from "@convos-pool/kit/content";
import {
  DerivedInboxResolver,
  LOCAL_POOL_ID,
  SignatureVerifier,
  rolloutBoundsHash,
  rolloutBoundsJson,
  signatureDomain,
  type SignedOperation,
} from "@convos-pool/kit/signing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCommandLine } from "../../command-line/parse.js";
import { fillContent } from "../../core/content.js";
import { run, type Io } from "../../main.js";
import { formatRollout, type RolloutJson } from "./commands.js";

const T = "tmpl_4Qb1x9ZkT2mW7cPa";
const R = "ro_0123456789abcdef";
const CURRENT = { agent_name: "Trip Planner", instructions: "Plan trips." };
const NEW = { agent_name: "Trip Planner", instructions: "Plan trips; ask the budget first." };

let dir: string;
let out: string;
let err: string;
let calls: { method: string; path: string; body: unknown }[];
/** Answers by "METHOD path" (sign-ins and the signing domain are answered by themselves). */
let answers: Map<string, () => Response>;

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

function io(): Io {
  return {
    env: { POOL_URL: "http://gw.test:9999" },
    cwd: dir,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      const method = init?.method ?? "GET";
      if (url.pathname === "/api/pool/signing-domain")
        return json(200, { pool_id: LOCAL_POOL_ID, ...signatureDomain(LOCAL_POOL_ID) })();
      if (url.pathname === "/api/pool/sessions")
        return json(200, { token: "t0k", expires_at: new Date(Date.now() + 3_600_000).toISOString() })();
      calls.push({
        method,
        path: url.pathname,
        body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      });
      const answer = answers.get(`${method} ${url.pathname}`);
      if (!answer) throw new Error(`unexpected request ${method} ${url.pathname}`);
      return answer();
    },
  };
}

async function pool(...argv: string[]): Promise<number> {
  out = "";
  err = "";
  // As scripts run it (`--json`): these tests read the JSON it prints.
  return run(["--json", ...argv], io());
}

async function keygen(): Promise<string> {
  expect(await pool("keygen")).toBe(0);
  return (JSON.parse(out) as { inbox_id: string }).inbox_id;
}

const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });

/** The signer's address when `signature` (REST form) is `op` over `fields`; throws otherwise. */
async function verify(op: SignedOperation, fields: Record<string, unknown>, signature: unknown): Promise<string> {
  const s = signature as { signature: string; issued_at: number; nonce: string };
  const v = await verifier.verify(
    op,
    fields as never,
    { signature: s.signature, issuedAt: BigInt(s.issued_at), nonce: s.nonce } as never,
  );
  return v.address;
}

const BOUNDS = rolloutBoundsJson({ thumbsDown: 0.3 });

const rollout = (over: Partial<RolloutJson> = {}): RolloutJson => ({
  rollout_id: R,
  template_id: T,
  baseline_version: 3,
  candidate_version: 4,
  fallback_version: 5,
  state: "running",
  share_basis_points: 1_000,
  share_percent: 10,
  bounds: BOUNDS,
  steps: [{ action: "start", share_basis_points: 1_000, at: "2026-11-28T10:00:00.000Z" }],
  watch: null,
  ...over,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-cli-rollout-"));
  calls = [];
  answers = new Map();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("pool rollout's arguments", () => {
  it("read the share as a percent into hundredths of one, and each bound by its signal's name", () => {
    const p = parseCommandLine([
      "rollout",
      "start",
      T,
      "new.json",
      "--share",
      "12.5",
      "--bound",
      "thumbs_down=0.3",
      "--bound",
      "tool-calls-failed=2",
      "--false-alarm",
      "0.01",
      "--notes",
      "Budget first.",
    ]);
    expect(p.command).toBe("rollout start");
    expect(p.args).toEqual({ TEMPLATE_ID: T, FILE: "new.json" });
    expect(p.share).toBe(1_250);
    expect(p.rolloutBounds).toEqual({ thumbsDown: 0.3, toolCallsFailed: 2, falseAlarm: 0.01 });
    expect(p.notes).toBe("Budget first.");
    expect(parseCommandLine(["rollout", "widen", T, R, "--share", "50"]).share).toBe(5_000);
    expect(parseCommandLine(["rollout", "widen", T, R, "--share", "0.01"]).share).toBe(1);
    expect(parseCommandLine(["rollout", "roll-back", T, R]).command).toBe("rollout roll-back");
    expect(parseCommandLine(["rollout", "list", T, "--limit", "5"]).limit).toBe(5);
  });

  const cases: [string[], RegExp][] = [
    [["rollout"], /rollout takes one of start, widen, pause, resume, promote, roll-back, list, show/],
    [["rollout", "frob", T], /rollout takes one of .* \(got "frob"\)/],
    [["rollout", "start", T, "new.json"], /rollout start needs --share PERCENT/],
    [["rollout", "widen", T, R], /rollout widen needs --share PERCENT/],
    [["rollout", "start", T, "new.json", "--share", "100"], /--share takes a percent from 0.01 to 99.99/],
    [["rollout", "start", T, "new.json", "--share", "0"], /--share takes a percent/],
    [["rollout", "start", T, "new.json", "--share", "10.005"], /--share takes a percent/],
    [["rollout", "start", T, "new.json", "--share", "ten"], /--share takes a percent/],
    [["rollout", "start", T, "new.json", "--share", "10", "--bound", "mood=1"], /--bound takes SIGNAL=BOUND/],
    [
      ["rollout", "start", T, "new.json", "--share", "10", "--bound", "thumbs_down=x"],
      /--bound thumbs_down takes a number above 0/,
    ],
    [
      ["rollout", "start", T, "new.json", "--share", "10", "--bound", "thumbs_down=1", "--bound", "thumbs_down=2"],
      /--bound thumbs_down is given twice/,
    ],
    [["rollout", "start", T, "new.json", "--share", "10", "--false-alarm", "1.5"], /--false-alarm takes a chance/],
    [["rollout", "pause", T, R, "--share", "5"], /rollout pause takes no --share/],
    [["rollout", "show", T], /rollout show takes 2 arguments \(TEMPLATE_ID ROLLOUT_ID\), got 1/],
  ];
  for (const [argv, message] of cases) {
    it(`refuse ${argv.join(" ")} with exit 2 and the usage`, async () => {
      expect(await pool(...argv)).toBe(2);
      expect(err).toMatch(message);
      expect(err).toMatch(/usage: pool/);
      expect(calls).toEqual([]);
    });
  }
});

describe("pool rollout start", () => {
  it("reads the current version and content, and signs the update, the fallback back to it and the start over the share and bounds", async () => {
    const inbox = await keygen();
    await pool("whoami");
    const address = (JSON.parse(out) as { address: string }).address;
    await writeFile(join(dir, "new.json"), JSON.stringify(NEW));
    answers.set(
      `GET /api/pool/templates/${T}`,
      json(200, { id: T, creator_id: inbox, ...CURRENT, version: 3 }, { etag: '"3"' }),
    );
    answers.set(
      `POST /api/pool/templates/${T}/rollouts`,
      json(201, { rollout: rollout(), template: { id: T, version: 4 } }),
    );

    const code = await pool(
      "rollout",
      "start",
      T,
      "new.json",
      "--share",
      "10",
      "--bound",
      "thumbs_down=0.3",
      "--notes",
      "Budget first.",
    );
    expect(code, err).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ rollout: { rollout_id: R }, template: { version: 4 } });
    const sent = calls.find((c) => c.method === "POST")?.body as Record<string, unknown>;
    expect(sent).toMatchObject({
      expected_version: 3,
      content: fillContent(NEW),
      release_notes: "Budget first.",
      share_basis_points: 1_000,
      bounds: { thumbs_down: 0.3 },
    });
    expect(sent.acknowledge_wallet_removal).toBeUndefined();
    const common = { inboxId: inbox, templateId: T };
    expect(
      await verify(
        "UpdateTemplate",
        { ...common, version: 3n, contentHash: jsonHash(fillContent(NEW)) },
        sent.signature,
      ),
    ).toBe(address);
    expect(
      await verify(
        "RollbackTemplate",
        { ...common, version: 4n, targetVersion: 3n, contentHash: jsonHash(fillContent(CURRENT)) },
        sent.fallback_signature,
      ),
    ).toBe(address);
    expect(
      await verify(
        "RolloutStep",
        {
          ...common,
          version: 4n,
          action: RolloutAction.START,
          shareBasisPoints: 1_000,
          boundsHash: rolloutBoundsHash(rolloutBoundsJson({ thumbsDown: 0.3 })),
        },
        sent.step_signature,
      ),
    ).toBe(address);
  });

  it("signs the wallet's removal into the update and the fallback alike when acknowledged", async () => {
    const inbox = await keygen();
    await writeFile(join(dir, "new.json"), JSON.stringify(NEW));
    answers.set(`GET /api/pool/templates/${T}`, json(200, { id: T, ...CURRENT, version: 3 }, { etag: '"3"' }));
    answers.set(`POST /api/pool/templates/${T}/rollouts`, json(201, { rollout: rollout() }));
    expect(await pool("rollout", "start", T, "new.json", "--share", "10", "--acknowledge-wallet-removal"), err).toBe(0);
    const sent = calls.find((c) => c.method === "POST")?.body as Record<string, unknown>;
    expect(sent.acknowledge_wallet_removal).toBe(true);
    const common = { inboxId: inbox, templateId: T, acknowledgeWalletRemoval: true };
    await verify("UpdateTemplate", { ...common, version: 3n, contentHash: jsonHash(fillContent(NEW)) }, sent.signature);
    await verify(
      "RollbackTemplate",
      { ...common, version: 4n, targetVersion: 3n, contentHash: jsonHash(fillContent(CURRENT)) },
      sent.fallback_signature,
    );
  });

  it("exits 1 with the gateway's error when the service refuses", async () => {
    await keygen();
    await writeFile(join(dir, "new.json"), JSON.stringify(NEW));
    answers.set(`GET /api/pool/templates/${T}`, json(200, { id: T, ...CURRENT, version: 3 }, { etag: '"3"' }));
    const refusal = {
      error: { type: "unprocessable_entity", code: "failed_precondition", message: "a rollout is live" },
    };
    answers.set(`POST /api/pool/templates/${T}/rollouts`, json(422, refusal));
    expect(await pool("rollout", "start", T, "new.json", "--share", "10")).toBe(1);
    expect(JSON.parse(err)).toEqual(refusal);
  });
});

describe("pool rollout's steps", () => {
  it("widen signs the new share over the rollout's candidate and bounds as the gateway showed them", async () => {
    const inbox = await keygen();
    answers.set(`GET /api/pool/templates/${T}/rollouts/${R}`, json(200, rollout()));
    answers.set(
      `POST /api/pool/templates/${T}/rollouts/${R}/steps`,
      json(200, rollout({ share_basis_points: 5_000, share_percent: 50 })),
    );
    expect(await pool("rollout", "widen", T, R, "--share", "50"), err).toBe(0);
    const sent = calls.at(-1)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({ action: "widen", share_basis_points: 5_000 });
    await verify(
      "RolloutStep",
      {
        inboxId: inbox,
        templateId: T,
        version: 4n,
        action: RolloutAction.WIDEN,
        shareBasisPoints: 5_000,
        boundsHash: rolloutBoundsHash(BOUNDS),
      },
      sent.signature,
    );
  });

  for (const [word, name, action] of [
    ["pause", "pause", RolloutAction.PAUSE],
    ["resume", "resume", RolloutAction.RESUME],
    ["promote", "promote", RolloutAction.PROMOTE],
    ["roll-back", "roll_back", RolloutAction.ROLL_BACK],
  ] as const) {
    it(`${word} signs its action over the current share, and sends none`, async () => {
      const inbox = await keygen();
      answers.set(`GET /api/pool/templates/${T}/rollouts/${R}`, json(200, rollout({ share_basis_points: 2_500 })));
      answers.set(`POST /api/pool/templates/${T}/rollouts/${R}/steps`, json(200, rollout()));
      expect(await pool("rollout", word, T, R), err).toBe(0);
      const sent = calls.at(-1)?.body as Record<string, unknown>;
      expect(Object.keys(sent).sort()).toEqual(["action", "signature"]);
      expect(sent.action).toBe(name);
      await verify(
        "RolloutStep",
        {
          inboxId: inbox,
          templateId: T,
          version: 4n,
          action,
          shareBasisPoints: 2_500,
          boundsHash: rolloutBoundsHash(BOUNDS),
        },
        sent.signature,
      );
    });
  }
});

describe("pool rollout show", () => {
  it("prints the state, share, versions, bounds, steps with their times, and the watch's figures", async () => {
    await keygen();
    answers.set(
      `GET /api/pool/templates/${T}/rollouts/${R}`,
      json(
        200,
        rollout({
          state: "halted",
          share_basis_points: 5_000,
          steps: [
            { action: "start", share_basis_points: 1_000, at: "2026-11-28T10:00:00.000Z" },
            { action: "widen", share_basis_points: 5_000, at: "2026-11-29T09:30:00.000Z" },
            { action: "halt", share_basis_points: 5_000, at: "2026-12-01T00:00:00.000Z" },
          ],
          watch: {
            days_counted: 3,
            threshold: 4.94,
            signals: [
              {
                signal: "thumbs_down",
                candidate_events: 30,
                candidate_exposure: 200,
                baseline_events: 10,
                baseline_exposure: 210,
                evidence: 5.1,
              },
            ],
            checked_at: "2026-12-01T00:00:00.000Z",
            halted_on: "👎 on its answers",
          },
        }),
      ),
    );
    expect(await pool("rollout", "show", T, R), err).toBe(0);
    expect(out).toContain(`Rollout ${R} of template ${T}: halted by the pool, and rolled back, share 50%`);
    expect(out).toContain("Versions: 3 (the one before), 4 (the new one); a roll back makes 5, with 3's content.");
    expect(out).toContain("👎 0.30");
    expect(out).toMatch(/2026-11-28 10:00:00 UTC\s+start\s+10%/);
    expect(out).toMatch(/2026-11-29 09:30:00 UTC\s+widen\s+50%/);
    expect(out).toContain("The watch: 3 days counted; it halts when a signal's evidence reaches 4.94");
    expect(out).toMatch(/👎\s+30 \/ 200\s+10 \/ 210\s+5.10/);
    expect(out).toContain("Halted on: 👎 on its answers");
  });

  it("says when the watch has no figures yet", () => {
    expect(formatRollout(rollout())).toContain("The watch: no figures yet.");
  });
});
