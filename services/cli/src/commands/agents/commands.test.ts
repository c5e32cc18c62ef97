// The agent commands run as `pool` runs them (main.ts `run`) against a
// stand-in gateway (test/stand-in-gateway.ts): claim, clone, pin, remove,
// withdraw, trust, permissions, participation, activity, agents, and the
// signed session's end. Real: the CLI, its key, the requests it sends and
// the signatures it makes, each checked with the kit's verifier; stand-in:
// the gateway's answers.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { claimFields, cloneFields } from "@convos-pool/kit/signing";
import { describe, expect, it } from "vitest";
import { json, standInGateway, verify } from "../../../test/stand-in-gateway.js";
import { run as runCli } from "../../main.js";
import { POLL_MS, QUIET_MS } from "./claim-progress.js";

/** The CLI as scripts run it (`--json`): these tests read the JSON it prints. */
const run: typeof runCli = (argv, io) => runCli(["--json", ...argv], io);

const TEMPLATE_ID = "tmpl_4Qb1x9ZkT2mW7cPa";

const g = standInGateway();

describe("agents", () => {
  const INSTANCE_ID = "inst_Q2w3E4r5T6y7U8i9";
  const INVITE = "https://dev.convos.org/v2?i=abc";
  const noContent = () => new Response(null, { status: 204 });

  // The template as the gateway writes it: its content fields at the top (`tools`), not under `content`.
  const template = (tools: unknown[]) => json(200, { id: TEMPLATE_ID, tools });
  const EMAIL_TOOL = {
    id: "personal-email",
    name: "",
    provisioning: "user",
    description: "",
    prompt: "Mail?",
    required: true,
  };

  it("claim signs the claim as its requester (ClaimAgent) and sends no session", async () => {
    const id = await g.keygen();
    g.replies.push(template([EMAIL_TOOL]));
    g.replies.push(json(200, { instance_id: INSTANCE_ID }));
    expect(
      await run(
        [
          "claim",
          TEMPLATE_ID,
          INVITE,
          "--model",
          "gpt-oss-120b",
          "--config",
          "personal-email=saul@example.com",
          "--config",
          "note=a=b",
        ],
        g.io(),
      ),
    ).toBe(0);
    expect(JSON.parse(g.stdout())).toEqual({ instance_id: INSTANCE_ID });
    const [read, call] = g.calls;
    expect(read?.method).toBe("GET");
    expect(read?.url).toBe(`http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}`);
    expect(call?.method).toBe("POST");
    expect(call?.url).toBe("http://gw.test:9999/api/pool/claim");
    expect(call?.headers.authorization).toBeUndefined();
    const { signature, ...claim } = call!.body as {
      signature: { signature: string; issued_at: number; nonce: string };
    } & Record<string, unknown>;
    expect(claim).toEqual({
      requester: id.inbox_id,
      template_id: TEMPLATE_ID,
      conversation_invite: INVITE,
      model: "gpt-oss-120b",
      user_config: { "personal-email": "saul@example.com", note: "a=b" },
    });
    const fields = claimFields({
      requester: id.inbox_id,
      templateId: TEMPLATE_ID,
      conversationInvite: INVITE,
      model: "gpt-oss-120b",
      userConfig: { "personal-email": "saul@example.com", note: "a=b" },
    });
    expect(await verify("ClaimAgent", fields, signature)).toBe(id.address);
  });

  it("claim --second-agent sends confirm_second_agent and signs it (ClaimAgent's secondAgent)", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { instance_id: INSTANCE_ID }));
    expect(await run(["claim", TEMPLATE_ID, INVITE, "--second-agent"], g.io())).toBe(0);
    const { signature, ...body } = g.calls[0]!.body as { signature: unknown } & Record<string, unknown>;
    expect(body).toMatchObject({ confirm_second_agent: true });
    const fields = {
      requester: id.inbox_id,
      templateId: TEMPLATE_ID,
      conversationInvite: INVITE,
      model: "",
      userConfig: {},
    };
    expect(await verify("ClaimAgent", claimFields({ ...fields, confirmSecondAgent: true }), signature)).toBe(
      id.address,
    );
    // The same claim unconfirmed is another signature.
    await expect(verify("ClaimAgent", claimFields(fields), signature)).rejects.toThrow();
  });

  it("claim refuses a --config value not of its tool's kind before signing, naming the tool and never repeating the value", async () => {
    await g.keygen();
    const tools = [EMAIL_TOOL, { ...EMAIL_TOOL, id: "budget", kind: "number", required: false }];
    g.replies.push(template(tools));
    expect(await run(["claim", TEMPLATE_ID, INVITE, "--config", "personal-email=not-an-email"], g.io())).toBe(2);
    expect(g.stderr()).toMatch(/^pool: --config personal-email is not a mail address: write it as name@example.com\n/);
    expect(g.stderr()).not.toContain("not-an-email");
    expect(g.calls.map((c) => c.method)).toEqual(["GET"]);
    g.replies.push(template(tools));
    expect(
      await run(["claim", TEMPLATE_ID, INVITE, "--config", "personal-email=a@b.co", "--config", "budget=lots"], g.io()),
    ).toBe(2);
    expect(g.stderr()).toContain("pool: --config budget is not a number");
  });

  it("claim leaves the values of a template it cannot read to the claims service", async () => {
    await g.keygen();
    g.replies.push(json(404, { error: { type: "not_found", code: "not_found", message: "template not found" } }));
    g.replies.push(json(200, { instance_id: INSTANCE_ID }));
    expect(await run(["claim", TEMPLATE_ID, INVITE, "--config", "personal-email=not-an-email"], g.io())).toBe(0);
    expect(g.calls.map((c) => c.method)).toEqual(["GET", "POST"]);
  });

  it("claim says on stderr what a long claim waits on, and Ctrl-C cancels it by its key: the claim answers 409 cancelled, stdout stays empty", async () => {
    await g.keygen();
    let interrupt: (() => void) | undefined;
    let answer: ((r: Response) => void) | undefined;
    // The claim's POST waits, as for a creator who does not let the agent in, until it is cancelled.
    g.replies.push(() => new Promise<Response>((r) => (answer = r)));
    g.replies.push(json(200, { token: "v1.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(json(200, { stage: "joining", started_at: new Date().toISOString(), cancel_requested: false }));
    const cancelledBody = {
      error: { type: "cancelled", code: "canceled", message: "you cancelled the claim; nothing was claimed" },
    };
    g.replies.push(() => {
      answer?.(json(409, cancelledBody)());
      return json(200, { stage: "joining" })();
    });
    // The quiet wait and the first poll pass at once; the next waits on the claim's answer, as a person waits.
    let pauses = 0;
    const pause = () => (++pauses <= 2 ? Promise.resolve() : new Promise(() => undefined));
    const running = run(["claim", TEMPLATE_ID, INVITE], g.io({ onInterrupt: (c) => (interrupt = c), pause }));
    await expect
      .poll(g.stderr, { timeout: 8_000 })
      .toMatch(/^pool: Waiting for the conversation's creator to let the agent in .*… \(\d+ s\)\n$/);
    interrupt?.();
    expect(await running).toBe(1);
    const key = g.calls[0]?.headers["idempotency-key"];
    expect(g.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      "POST /api/pool/claim",
      "POST /api/pool/sessions",
      `GET /api/pool/claims/${key}`,
      `DELETE /api/pool/claims/${key}`,
    ]);
    expect(g.calls[3]?.headers.authorization).toBe("Bearer v1.tok");
    expect(g.stdout()).toBe("");
    expect(g.stderr()).toContain("pool: cancelling the claim…");
    expect(g.stderr()).toContain("you cancelled the claim; nothing was claimed");
  });

  it("claim sends an Idempotency-Key, and the same request with the same key again when the connection broke", async () => {
    await g.keygen();
    g.replies.push(() => {
      throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
    });
    g.replies.push(json(200, { instance_id: INSTANCE_ID }));
    const waited: number[] = [];
    // The retry's wait passes at once; the progress's quiet wait lasts until the claim answers.
    const pause = (ms: number) => {
      waited.push(ms);
      return ms === QUIET_MS - POLL_MS ? new Promise(() => undefined) : Promise.resolve();
    };
    expect(await run(["claim", TEMPLATE_ID, INVITE], g.io({ pause }))).toBe(0);
    expect(waited, "one wait before the second attempt").toContain(1_000);
    expect(JSON.parse(g.stdout())).toEqual({ instance_id: INSTANCE_ID });
    expect(g.calls).toHaveLength(2);
    const key = g.calls[0]?.headers["idempotency-key"];
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(g.calls[1]?.headers["idempotency-key"]).toBe(key);
    expect(g.calls[1]?.body).toEqual(g.calls[0]?.body);
  });

  it("clone signs the clone as the owner (CloneAgent over exactly what it sends, with its parent's template and creator) and refuses an unknown --carry before sending", async () => {
    const id = await g.keygen();
    const CREATOR = "c".repeat(64);
    g.replies.push(json(200, { token: "v1.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(json(200, { id: INSTANCE_ID, template_id: TEMPLATE_ID }));
    g.replies.push(json(200, { id: TEMPLATE_ID, creator_id: CREATOR }));
    g.replies.push(
      json(200, {
        instance_id: INSTANCE_ID,
        inheritance: { state: "INHERITANCE_STATE_SENT", carry: ["training"], error: "" },
      }),
    );
    const argv = [
      "clone",
      INSTANCE_ID,
      INVITE,
      "--directive",
      "not the Japan details",
      "--carry",
      "training",
      "--config",
      "personal-email=saul@example.com",
    ];
    expect(await run(argv, g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toMatchObject({ inheritance: { state: "INHERITANCE_STATE_SENT" } });
    expect(g.calls.map((c) => c.url)).toEqual([
      "http://gw.test:9999/api/pool/sessions",
      `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}`,
      `http://gw.test:9999/api/pool/templates/${TEMPLATE_ID}`,
      "http://gw.test:9999/api/pool/claim",
    ]);
    const { owner_signature: ownerSignature, ...body } = g.calls[3]!.body as {
      owner_signature: { signature: string; issued_at: number; nonce: string };
    } & Record<string, unknown>;
    expect(body).toEqual({
      requester: id.inbox_id,
      clone_from: INSTANCE_ID,
      template_id: TEMPLATE_ID,
      template_creator_id: CREATOR,
      conversation_invite: INVITE,
      context_prompt: "not the Japan details",
      carry: ["training"],
      model: "",
      user_config: { "personal-email": "saul@example.com" },
    });
    const fields = cloneFields({
      ownerId: id.inbox_id,
      parentInstanceId: INSTANCE_ID,
      templateId: TEMPLATE_ID,
      templateCreatorId: CREATOR,
      conversationInvite: INVITE,
      contextPrompt: "not the Japan details",
      carry: ["training"],
      model: "",
      userConfig: { "personal-email": "saul@example.com" },
    });
    expect(await verify("CloneAgent", fields, ownerSignature)).toBe(id.address);
    g.calls = [];
    g.err = [];
    expect(await run(["clone", INSTANCE_ID, INVITE, "--carry", "training,secrets"], g.io())).toBe(2);
    expect(g.stderr()).toMatch(/--carry takes kinds of memory/);
    expect(g.calls).toEqual([]);
  });

  it("claim refuses a --config that is not TOOL_ID=VALUE, or the same tool twice, before sending anything", async () => {
    await g.keygen();
    for (const [config, message] of [
      [["personal-email"], /--config takes TOOL_ID=VALUE/],
      [["=x"], /--config takes TOOL_ID=VALUE/],
      [["a=1", "a=2"], /--config a is given twice/],
    ] as const) {
      g.err = [];
      expect(await run(["claim", TEMPLATE_ID, INVITE, ...config.flatMap((c) => ["--config", c])], g.io())).toBe(2);
      expect(g.stderr()).toMatch(message);
    }
    expect(g.calls).toEqual([]);
  });

  it("pin, unpin and remove are signed by the key as the owner; remove prints what it removed", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { id: INSTANCE_ID, sync: { state: "SYNC_STATE_PINNED" } }));
    g.replies.push(json(200, { id: INSTANCE_ID, sync: { state: "SYNC_STATE_CURRENT" } }));
    g.replies.push(noContent);
    expect(await run(["pin", INSTANCE_ID], g.io())).toBe(0);
    expect(await run(["unpin", INSTANCE_ID], g.io())).toBe(0);
    g.out = [];
    expect(await run(["remove", INSTANCE_ID], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toEqual({ id: INSTANCE_ID, removed: true });
    const [pin, unpin, remove] = g.calls;
    expect([pin?.method, pin?.url]).toEqual(["PUT", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/pin`]);
    const pinBody = pin?.body as { pinned: boolean; owner_signature: never };
    expect(pinBody.pinned).toBe(true);
    expect(
      await verify(
        "SetInstancePin",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, pinned: true },
        pinBody.owner_signature,
      ),
    ).toBe(id.address);
    const unpinBody = unpin?.body as { pinned: boolean; owner_signature: never };
    expect(
      await verify(
        "SetInstancePin",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, pinned: false },
        unpinBody.owner_signature,
      ),
    ).toBe(id.address);
    expect([remove?.method, remove?.url]).toEqual(["DELETE", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}`]);
    const removeBody = remove?.body as { owner_signature: never };
    expect(
      await verify("RemoveAgent", { inboxId: id.inbox_id, instanceId: INSTANCE_ID }, removeBody.owner_signature),
    ).toBe(id.address);
  });

  it("withdraw signs WithdrawFunds as the owner and prints the amount, the destination and the transaction", async () => {
    const id = await g.keygen();
    const answer = {
      amount_wei: "499979000000000000",
      to_address: id.address,
      transaction_hash: `0x${"ab".repeat(32)}`,
    };
    g.replies.push(json(200, answer));
    expect(await run(["withdraw", INSTANCE_ID], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toEqual({ id: INSTANCE_ID, ...answer });
    const [call] = g.calls;
    expect([call?.method, call?.url]).toEqual(["POST", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/withdraw`]);
    const body = call?.body as { owner_signature: never };
    expect(await verify("WithdrawFunds", { inboxId: id.inbox_id, instanceId: INSTANCE_ID }, body.owner_signature)).toBe(
      id.address,
    );
  });

  it("trust signs SetTrustLevel as the owner, with the daily limit converted from ETH to wei at L4", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { id: INSTANCE_ID, trust_level: "L1" }));
    g.replies.push(json(200, { id: INSTANCE_ID, trust_level: "L4", daily_spend_limit_wei: "50000000000000000" }));
    expect(await run(["trust", INSTANCE_ID, "L1"], g.io())).toBe(0);
    g.out = [];
    expect(await run(["trust", INSTANCE_ID, "l4", "--daily-limit", "0.05"], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toMatchObject({ trust_level: "L4" });
    const [l1, l4] = g.calls;
    expect([l1?.method, l1?.url]).toEqual(["PUT", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/trust`]);
    const l1Body = l1?.body as { trust_level: string; owner_signature: never };
    expect(Object.keys(l1Body).sort()).toEqual(["owner_signature", "trust_level"]);
    expect(l1Body.trust_level).toBe("L1");
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 1, dailySpendLimitWei: 0n },
        l1Body.owner_signature,
      ),
    ).toBe(id.address);
    const l4Body = l4?.body as { trust_level: string; daily_spend_limit_wei: string; owner_signature: never };
    expect(l4Body).toMatchObject({ trust_level: "L4", daily_spend_limit_wei: "50000000000000000" });
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 4, dailySpendLimitWei: 50_000_000_000_000_000n },
        l4Body.owner_signature,
      ),
    ).toBe(id.address);
    // No session: the signature is the proof.
    expect(g.calls.every((c) => c.headers.authorization === undefined)).toBe(true);
  });

  it("trust signs a daily limit at L3 too, where each payment also waits for the owner's yes; at L2 it may be left out", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { id: INSTANCE_ID, trust_level: "L3", daily_spend_limit_wei: "20000000000000000" }));
    g.replies.push(json(200, { id: INSTANCE_ID, trust_level: "L2" }));
    expect(await run(["trust", INSTANCE_ID, "L3", "--daily-limit", "0.02"], g.io())).toBe(0);
    const body = g.calls[0]?.body as { trust_level: string; daily_spend_limit_wei: string; owner_signature: never };
    expect(body).toMatchObject({ trust_level: "L3", daily_spend_limit_wei: "20000000000000000" });
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 3, dailySpendLimitWei: 20_000_000_000_000_000n },
        body.owner_signature,
      ),
    ).toBe(id.address);
    // None: no field sent, 0 signed (the agent then pays nothing).
    expect(await run(["trust", INSTANCE_ID, "L2"], g.io())).toBe(0);
    const l2Body = g.calls[1]?.body as { trust_level: string; owner_signature: never };
    expect(Object.keys(l2Body).sort()).toEqual(["owner_signature", "trust_level"]);
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 2, dailySpendLimitWei: 0n },
        l2Body.owner_signature,
      ),
    ).toBe(id.address);
  });

  it("permissions reads the agent first (signed in) and signs SetPermissions as the owner over all five: those named, the rest as they were", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(
      json(200, {
        id: INSTANCE_ID,
        permissions: {
          member_sms: "allow",
          member_email: "refuse",
          member_crypto: "ask",
          outsider_reply: "ask",
          approvals: "direct",
        },
      }),
    );
    const after = {
      member_sms: "allow",
      member_email: "refuse",
      member_crypto: "refuse",
      outsider_reply: "answer",
      approvals: "direct",
    };
    g.replies.push(json(200, { id: INSTANCE_ID, permissions: after }));
    expect(
      await run(["permissions", INSTANCE_ID, "--member-crypto", "refuse", "--outsider-reply", "answer"], g.io()),
    ).toBe(0);
    expect(JSON.parse(g.stdout())).toMatchObject({ permissions: after });
    const [, read, put] = g.calls;
    expect(`${read?.method} ${read?.url} ${read?.headers.authorization}`).toBe(
      `GET http://gw.test:9999/api/pool/agents/${INSTANCE_ID} Bearer v2.tok`,
    );
    expect([put?.method, put?.url]).toEqual(["PUT", `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/permissions`]);
    // No session on the change: the signature is the proof.
    expect(put?.headers.authorization).toBeUndefined();
    const body = put?.body as Record<string, unknown> & { owner_signature: never };
    expect(Object.keys(body).sort()).toEqual([
      "approvals",
      "member_crypto",
      "member_email",
      "member_sms",
      "outsider_reply",
      "owner_signature",
    ]);
    expect(body).toMatchObject(after);
    const signed = { inboxId: id.inbox_id, instanceId: INSTANCE_ID, memberSms: 1, memberEmail: 3, memberCrypto: 3 };
    expect(await verify("SetPermissions", { ...signed, outsiderReply: 3, approvals: 2 }, body.owner_signature)).toBe(
      id.address,
    );
    // Signed over what the body says, not what the agent had: the old reply ("ask", 2) is not what it signed.
    await expect(
      verify("SetPermissions", { ...signed, outsiderReply: 2, approvals: 2 }, body.owner_signature),
    ).rejects.toThrow();
    // Where it asks me kept as it was ("direct", 2), not the default ("conversation", 1).
    await expect(
      verify("SetPermissions", { ...signed, outsiderReply: 3, approvals: 1 }, body.owner_signature),
    ).rejects.toThrow();
  });

  it("permissions with all five named reads nothing first, and an agent value it does not know is an error, not a change", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { id: INSTANCE_ID }));
    expect(
      await run(
        [
          "permissions",
          INSTANCE_ID,
          "--member-sms",
          "refuse",
          "--member-email",
          "allow",
          "--member-crypto",
          "ask",
          "--outsider-reply",
          "none",
          "--approvals",
          "direct",
        ],
        g.io(),
      ),
    ).toBe(0);
    expect(g.calls.map((c) => c.method)).toEqual(["PUT"]);
    const body = g.calls[0]?.body as { owner_signature: never };
    expect(body).toMatchObject({
      member_sms: "refuse",
      member_email: "allow",
      member_crypto: "ask",
      outsider_reply: "none",
      approvals: "direct",
    });
    expect(
      await verify(
        "SetPermissions",
        {
          inboxId: id.inbox_id,
          instanceId: INSTANCE_ID,
          memberSms: 3,
          memberEmail: 1,
          memberCrypto: 2,
          outsiderReply: 1,
          approvals: 2,
        },
        body.owner_signature,
      ),
    ).toBe(id.address);

    g.calls = [];
    g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(json(200, { id: INSTANCE_ID, permissions: { member_sms: "sometimes" } }));
    expect(await run(["permissions", INSTANCE_ID, "--member-email", "refuse"], g.io())).toBe(1);
    expect(g.stderr()).toMatch(
      /the agent's member_sms is "sometimes", which this CLI does not know: give --member-sms/,
    );
    expect(g.calls.map((c) => c.method)).toEqual(["POST", "GET"]);

    // An agent that does not say where it asks (a gateway from before the choice): the default, as the agent takes it.
    g.calls = [];
    g.replies.push(
      json(200, {
        id: INSTANCE_ID,
        permissions: { member_sms: "ask", member_email: "ask", member_crypto: "ask", outsider_reply: "none" },
      }),
    );
    g.replies.push(json(200, { id: INSTANCE_ID }));
    expect(await run(["permissions", INSTANCE_ID, "--member-sms", "allow"], g.io())).toBe(0);
    // Signed in still (the session kept from the read above).
    expect(g.calls.map((c) => c.method)).toEqual(["GET", "PUT"]);
    const kept = g.calls[1]?.body as { owner_signature: never };
    expect(kept).toMatchObject({ member_sms: "allow", approvals: "conversation" });
    expect(
      await verify(
        "SetPermissions",
        {
          inboxId: id.inbox_id,
          instanceId: INSTANCE_ID,
          memberSms: 1,
          memberEmail: 2,
          memberCrypto: 2,
          outsiderReply: 1,
          approvals: 1,
        },
        kept.owner_signature,
      ),
    ).toBe(id.address);
  });

  it("participation reads the agent first (signed in) and signs SetParticipation as the owner over the mode named and the cooldown as it was", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(json(200, { id: INSTANCE_ID, participation: { mode: "speak", cooldown_seconds: 45 } }));
    const after = { mode: "mention", cooldown_seconds: 45 };
    g.replies.push(json(200, { id: INSTANCE_ID, participation: after }));
    expect(await run(["participation", INSTANCE_ID, "--mode", "mention"], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toMatchObject({ participation: after });
    const [, read, put] = g.calls;
    expect(`${read?.method} ${read?.url} ${read?.headers.authorization}`).toBe(
      `GET http://gw.test:9999/api/pool/agents/${INSTANCE_ID} Bearer v2.tok`,
    );
    expect([put?.method, put?.url]).toEqual([
      "PUT",
      `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/participation`,
    ]);
    // No session on the change: the signature is the proof.
    expect(put?.headers.authorization).toBeUndefined();
    const body = put?.body as Record<string, unknown> & { owner_signature: never };
    expect(Object.keys(body).sort()).toEqual(["cooldown_seconds", "mode", "owner_signature"]);
    expect(body).toMatchObject(after);
    const signed = { inboxId: id.inbox_id, instanceId: INSTANCE_ID, mode: 2 };
    expect(await verify("SetParticipation", { ...signed, cooldownSeconds: 45 }, body.owner_signature)).toBe(id.address);
    await expect(verify("SetParticipation", { ...signed, cooldownSeconds: 0 }, body.owner_signature)).rejects.toThrow();
  });

  it("participation --conversation reads that conversation's, signs SetConversationParticipation over it, and sets it on the conversation's path", async () => {
    const id = await g.keygen();
    const group = "c0ffee".padEnd(32, "0");
    const home = "feed".padEnd(32, "0");
    g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(
      json(200, {
        id: INSTANCE_ID,
        participation: { mode: "speak", cooldown_seconds: 5 },
        conversations: [
          { id: home, home: true, participation: { mode: "speak", cooldown_seconds: 5 } },
          { id: group, home: false, participation: { mode: "mention", cooldown_seconds: 90 } },
        ],
      }),
    );
    g.replies.push(json(200, { id: INSTANCE_ID }));
    expect(await run(["participation", INSTANCE_ID, "--conversation", group, "--mode", "paused"], g.io())).toBe(0);
    const put = g.calls[2];
    expect([put?.method, put?.url, put?.headers.authorization]).toEqual([
      "PUT",
      `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/conversations/${group}/participation`,
      undefined,
    ]);
    const body = put?.body as Record<string, unknown> & { owner_signature: never };
    // The cooldown kept is that conversation's, not the home's.
    expect(body).toMatchObject({ mode: "paused", cooldown_seconds: 90 });
    const signed = { inboxId: id.inbox_id, instanceId: INSTANCE_ID, mode: 3, cooldownSeconds: 90 };
    expect(
      await verify("SetConversationParticipation", { ...signed, conversationId: group }, body.owner_signature),
    ).toBe(id.address);
    // Good for that conversation only: not the home's, nor another's.
    await expect(
      verify("SetConversationParticipation", { ...signed, conversationId: home }, body.owner_signature),
    ).rejects.toThrow();
    await expect(verify("SetParticipation", signed, body.owner_signature)).rejects.toThrow();

    // A conversation the agent is not in: said before anything is signed or sent.
    g.calls = [];
    g.replies.push(json(200, { id: INSTANCE_ID, conversations: [{ id: home, home: true }] }));
    expect(await run(["participation", INSTANCE_ID, "--conversation", group, "--cooldown", "10"], g.io())).toBe(1);
    expect(g.stderr()).toMatch(/the agent is not in conversation c0ffee0+ \(`pool conversations/);
    // Signed in already: the one read, nothing put.
    expect(g.calls.map((c) => c.method)).toEqual(["GET"]);
  });

  it("participation with both named reads nothing first, and a mode of the agent it does not know is an error, not a change", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { id: INSTANCE_ID }));
    expect(await run(["participation", INSTANCE_ID, "--mode", "auto", "--cooldown", "0"], g.io())).toBe(0);
    expect(g.calls.map((c) => c.method)).toEqual(["PUT"]);
    const body = g.calls[0]?.body as { owner_signature: never };
    expect(body).toMatchObject({ mode: "auto", cooldown_seconds: 0 });
    expect(
      await verify(
        "SetParticipation",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, mode: 0, cooldownSeconds: 0 },
        body.owner_signature,
      ),
    ).toBe(id.address);

    g.calls = [];
    g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(json(200, { id: INSTANCE_ID, participation: { mode: "whisper", cooldown_seconds: 0 } }));
    expect(await run(["participation", INSTANCE_ID, "--cooldown", "60"], g.io())).toBe(1);
    expect(g.stderr()).toMatch(/the agent's mode is "whisper", which this CLI does not know: give --mode/);
    expect(g.calls.map((c) => c.method)).toEqual(["POST", "GET"]);
  });

  it("activity reads the log whole, signed in and signing ReadAgentActivity as the owner, and prints it as a table: time, tool, action, target, amount in ETH, outcome in words, detail, level, approved", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(
      json(200, {
        entries: [
          {
            id: "a2",
            at: "2026-11-23T09:31:05.123Z",
            tool_id: "crypto",
            action: "send_payment",
            target: "0x00000000000000000000000000000000000000aa",
            amount_wei: "10000000000000000",
            outcome: "denied",
            detail: "the owner said no",
            trust_level: "L3",
            approved: false,
          },
          {
            id: "a1",
            at: "2026-11-23T09:30:00.000Z",
            tool_id: "trust",
            action: "set_trust_level",
            target: "",
            amount_wei: "",
            outcome: "done",
            detail: "L2 → L3,\nset by the owner",
            trust_level: "L3",
            approved: false,
          },
          {
            id: "a0",
            at: "2026-11-23T09:29:00.000Z",
            tool_id: "sms",
            action: "send_sms",
            target: "+15550100042",
            amount_wei: "",
            outcome: "timed_out",
            detail: "",
            trust_level: "L2",
            approved: true,
          },
        ],
        next_cursor: "next-page",
        detailed: true,
      }),
    );
    expect(await run(["activity", INSTANCE_ID, "--limit", "3"], g.io())).toBe(0);
    expect(g.calls[1]).toMatchObject({
      method: "POST",
      url: `http://gw.test:9999/api/pool/agents/${INSTANCE_ID}/activity/list?limit=3`,
      headers: { authorization: "Bearer v2.tok" },
    });
    const body = g.calls[1]?.body as { owner_signature: never };
    expect(Object.keys(body)).toEqual(["owner_signature"]);
    expect(
      await verify("ReadAgentActivity", { inboxId: id.inbox_id, instanceId: INSTANCE_ID }, body.owner_signature),
    ).toBe(id.address);
    const lines = g.stdout().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+TOOL\s+ACTION\s+TARGET\s+AMOUNT \(ETH\)\s+OUTCOME\s+DETAIL\s+LEVEL\s+APPROVED$/);
    expect(lines[1]).toMatch(
      /^2026-11-23 09:31:05Z\s+crypto\s+send_payment\s+0x0{38}aa\s+0\.01\s+denied by you\s+the owner said no\s+L3\s+no$/,
    );
    expect(lines[2]).toMatch(
      /^2026-11-23 09:30:00Z\s+trust\s+set_trust_level\s+done\s+L2 → L3, set by the owner\s+L3\s+no$/,
    );
    expect(lines[3]).toMatch(/^2026-11-23 09:29:00Z\s+sms\s+send_sms\s+\+15550100042\s+no answer in time\s+L2\s+yes$/);
    // Columns line up: every row's level sits where the heading's does.
    const at = lines[0]!.indexOf("LEVEL");
    for (const l of lines.slice(1, 4)) expect(l.slice(at, at + 2)).toMatch(/^L\d$/);
    expect(lines.at(-1)).toBe("More: --cursor next-page");

    g.replies.push(json(200, { entries: [], next_cursor: null, detailed: true }));
    g.out = [];
    expect(await run(["activity", INSTANCE_ID], g.io())).toBe(0);
    expect(g.stdout()).toBe("No activity yet.\n");
    // Each read is signed afresh: a signature is spent once.
    const again = g.calls[2]?.body as { owner_signature: { nonce: string } };
    expect(again.owner_signature.nonce).not.toBe((body.owner_signature as { nonce: string }).nonce);
  });

  it("activity prints, under the log, what the pool's payment signer signed for the agent's wallet", async () => {
    await g.keygen();
    g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(
      json(200, {
        entries: [],
        next_cursor: null,
        detailed: true,
        signed_payments: [
          {
            sequence: "12",
            chain_id: "31337",
            to: "0x00000000000000000000000000000000000000bb",
            value_wei: "15000000000000000",
            max_fee_wei: "42000000000000",
            nonce: "3",
            transaction_hash: `0x${"ab".repeat(32)}`,
            host_url: "http://host-a:7100",
            signed_at: "2026-11-23T09:40:00.000Z",
          },
        ],
      }),
    );
    expect(await run(["activity", INSTANCE_ID], g.io())).toBe(0);
    const lines = g.stdout().trimEnd().split("\n");
    expect(lines.slice(0, 3)).toEqual(["No activity yet.", "", "Payments the pool signed for its wallet:"]);
    expect(lines[3]).toMatch(/^SIGNED\s+TO\s+AMOUNT \(ETH\)\s+GAS AT MOST \(ETH\)\s+TRANSACTION$/);
    expect(lines[4]).toMatch(/^2026-11-23 09:40:00Z\s+0x0{38}bb\s+0\.015\s+0\.000042\s+0x(ab){32}$/);
  });

  it("agents and agent read as the signed-in owner", async () => {
    const id = await g.keygen();
    g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    g.replies.push(json(200, { agents: [], next_cursor: null }));
    g.replies.push(json(200, { id: INSTANCE_ID }));
    expect(await run(["agents", "--limit", "5"], g.io())).toBe(0);
    expect(await run(["agent", INSTANCE_ID], g.io())).toBe(0);
    expect(g.calls.slice(1).map((c) => `${c.method} ${c.url} ${c.headers.authorization}`)).toEqual([
      `GET http://gw.test:9999/api/pool/agents?owner=${id.inbox_id}&limit=5 Bearer v2.tok`,
      `GET http://gw.test:9999/api/pool/agents/${INSTANCE_ID} Bearer v2.tok`,
    ]);
  });

  it("logout ends the stored session on the server and deletes it here; without one it sends nothing; an ended one is deleted all the same", async () => {
    await g.keygen();
    const sessionFile = join(g.dir, ".data/cli/key.session.json");
    expect(await run(["logout"], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toMatchObject({ signed_out: false });
    expect(g.calls).toEqual([]);

    g.replies.push(json(200, { token: "v2.tok", expires_at: "2999-01-01T00:00:00.000Z" }));
    expect(await run(["login"], g.io())).toBe(0);
    g.replies.push(noContent);
    g.out = [];
    expect(await run(["logout"], g.io())).toBe(0);
    expect(JSON.parse(g.stdout())).toMatchObject({ signed_out: true });
    expect(g.calls.at(-1)).toMatchObject({
      method: "DELETE",
      url: "http://gw.test:9999/api/pool/sessions",
      headers: { authorization: "Bearer v2.tok" },
    });
    await expect(stat(sessionFile)).rejects.toThrow();
    expect(g.stdout()).not.toContain("v2.tok");

    g.replies.push(json(200, { token: "v2.gone", expires_at: "2999-01-01T00:00:00.000Z" }));
    expect(await run(["login"], g.io())).toBe(0);
    g.replies.push(
      json(401, { error: { type: "unauthenticated", code: "unauthenticated", message: "session ended" } }),
    );
    expect(await run(["logout"], g.io())).toBe(0);
    await expect(stat(sessionFile)).rejects.toThrow();
  });

  it("sign ClaimAgent takes the claim as it will be sent and prints the signature object every REST body takes", async () => {
    const id = await g.keygen();
    const claim = { template_id: TEMPLATE_ID, conversation_invite: INVITE, user_config: { nickname: "Trippy" } };
    expect(await run(["sign", "ClaimAgent", JSON.stringify(claim)], g.io())).toBe(0);
    const sig = JSON.parse(g.stdout());
    expect(Object.keys(sig).sort()).toEqual(["issued_at", "nonce", "signature"]);
    const fields = claimFields({
      requester: id.inbox_id,
      model: "",
      templateId: TEMPLATE_ID,
      conversationInvite: INVITE,
      userConfig: { nickname: "Trippy" },
    });
    expect(await verify("ClaimAgent", fields, sig)).toBe(id.address);
    g.out = [];
    expect(
      await run(["sign", "SetInstancePin", JSON.stringify({ instanceId: INSTANCE_ID, pinned: true })], g.io()),
    ).toBe(0);
    expect(
      await verify(
        "SetInstancePin",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, pinned: true },
        JSON.parse(g.stdout()),
      ),
    ).toBe(id.address);
    g.out = [];
    expect(
      await run(
        [
          "sign",
          "SetTrustLevel",
          JSON.stringify({ instanceId: INSTANCE_ID, trustLevel: 4, dailySpendLimitWei: "50000000000000000" }),
        ],
        g.io(),
      ),
    ).toBe(0);
    expect(
      await verify(
        "SetTrustLevel",
        { inboxId: id.inbox_id, instanceId: INSTANCE_ID, trustLevel: 4, dailySpendLimitWei: 50_000_000_000_000_000n },
        JSON.parse(g.stdout()),
      ),
    ).toBe(id.address);
    g.err = [];
    expect(await run(["sign", "ClaimAgent", JSON.stringify({ ...claim, requester: "x" })], g.io())).toBe(2);
    expect(g.stderr()).toMatch(/unknown field requester/);
  });
});
