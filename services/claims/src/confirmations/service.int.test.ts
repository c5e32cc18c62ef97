// What the pool records of a daily limit confirmed in Convos (service.ts,
// signer/confirmed.ts), with one word broken at a time: the real
// ConfirmationService handlers over an in-memory Connect transport, behind
// the real service-credential check, on a test database of real PostgreSQL
// with the claims service's migrations. The agent's host is a stand-in that
// answers whatever the test says (a broken host: it may claim any step
// applied). With a real agent and the owner's Convos app:
// services/e2e/src/confirmations-e2e.int.test.ts.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  ConfirmationSchema,
  ConfirmationService,
  ConfirmationState,
  type Confirmation,
} from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { InstanceConfirmationService } from "@convos-pool/gen/convos/pool/v1/instance_confirmation_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import {
  generateServiceCredentials,
  serviceAuthInterceptor,
  serviceCredentialClientInterceptor,
} from "@convos-pool/kit/server";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import { as, expectCode } from "../../test/helpers.js";
import { entities } from "../db/entities.js";
import { migrations } from "../schema/migrations.js";
import { createConfirmationService } from "./service.js";

const OWNER = "a".repeat(64);
const MEMBER = "b".repeat(64);
const CENTS = "10000000000000000";

let sql: pg.Client;
let db: Database;
/** What the stand-in host answers next: the confirmation it says it asked, then the one it says it applied. */
let asked: Confirmation;
let told: Confirmation;
let hostAsked = 0;

const confirmation = (id: string, limit: string, state = ConfirmationState.WAITING, digest = "0xd1") =>
  create(ConfirmationSchema, {
    id,
    digest,
    state,
    step: { step: { case: "setTrustLevel", value: { trustLevel: TrustLevel.OPERATOR, dailySpendLimitWei: limit } } },
  });

const creds = generateServiceCredentials();
const client = () =>
  createClient(
    ConfirmationService,
    createRouterTransport(
      (router) => {
        const host = createClient(
          InstanceConfirmationService,
          createRouterTransport((r) => {
            r.service(InstanceConfirmationService, {
              askConfirmation: () => {
                hostAsked++;
                return { confirmation: asked };
              },
              getConfirmation: () => ({ confirmation: told }),
            });
          }),
        );
        router.service(
          ConfirmationService,
          createConfirmationService({
            em: db.em,
            runtime: { confirmations: () => ({ client: host, options: { headers: {}, timeoutMs: 5_000 } }) },
          }),
        );
      },
      {
        router: {
          interceptors: [
            serviceAuthInterceptor(creds.gateway.directory, { [ConfirmationService.typeName]: ["gateway"] }),
          ],
        },
        transport: { interceptors: [serviceCredentialClientInterceptor(creds.gateway.token)] },
      },
    ),
  );

beforeAll(async () => {
  const url = await createTestDatabase("claims_confirmed_limits");
  db = await openDatabase({ name: "claims", url, entities, migrations, poolSize: 2 });
  sql = new pg.Client({ connectionString: url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await db?.close();
});

let agentId = "";
beforeEach(async () => {
  agentId = `inst_${randomBytes(8).toString("hex")}`;
  hostAsked = 0;
  await sql.query(
    `insert into instances (id, state, host_url, inbox_id, owner_id, template_id, claimed_at, trust_level, daily_spend_limit_wei)
     values ($1, 'claimed', 'http://host.test:7100', $2, $3, 'tmpl_confirm', now(), 2, '')`,
    [agentId, `inbox-${agentId}`, OWNER],
  );
});

async function limitOf(id: string) {
  const res = await sql.query<{ daily_spend_limit_wei: string; daily_spend_limit_confirmation: string | null }>(
    `select daily_spend_limit_wei, daily_spend_limit_confirmation from instances where id = $1`,
    [id],
  );
  return res.rows[0];
}

const nonce = () => randomBytes(16).toString("hex");
const trustStep = (limit: string) => ({
  step: {
    case: "setTrustLevel" as const,
    value: { trustLevel: TrustLevel.OPERATOR, dailySpendLimitWei: limit },
  },
});

describe("a daily limit confirmed in Convos, one word at a time", () => {
  it("records it as confirmed when the owner's session asked it and the agent applied that same step", async () => {
    const id = nonce();
    asked = confirmation(id, CENTS);
    told = confirmation(id, CENTS, ConfirmationState.APPLIED);
    await client().askConfirmation({ instanceId: agentId, step: trustStep(CENTS) }, as(OWNER));
    await client().getConfirmation({ instanceId: agentId, id }, as(OWNER));
    expect(await limitOf(agentId)).toEqual({ daily_spend_limit_wei: CENTS, daily_spend_limit_confirmation: id });
  });

  it("raises nothing on a host's word alone: a step it says applied that no session asked", async () => {
    const id = nonce();
    told = confirmation(id, CENTS, ConfirmationState.APPLIED);
    await client().getConfirmation({ instanceId: agentId, id }, as(OWNER));
    expect(await limitOf(agentId)).toEqual({ daily_spend_limit_wei: "", daily_spend_limit_confirmation: null });
  });

  it("raises nothing when the host says another limit applied under the nonce the session asked", async () => {
    const id = nonce();
    asked = confirmation(id, CENTS);
    told = confirmation(id, "50000000000000000", ConfirmationState.APPLIED);
    await client().askConfirmation({ instanceId: agentId, step: trustStep(CENTS) }, as(OWNER));
    await client().getConfirmation({ instanceId: agentId, id }, as(OWNER));
    expect((await limitOf(agentId))?.daily_spend_limit_wei).toBe("");
  });

  it("raises nothing before the agent heard the yes, however often the page asks", async () => {
    const id = nonce();
    asked = confirmation(id, CENTS);
    told = confirmation(id, CENTS, ConfirmationState.WAITING);
    await client().askConfirmation({ instanceId: agentId, step: trustStep(CENTS) }, as(OWNER));
    await client().getConfirmation({ instanceId: agentId, id }, as(OWNER));
    expect((await limitOf(agentId))?.daily_spend_limit_wei).toBe("");
  });

  it("refuses above 0.05 ETH with INVALID_ARGUMENT naming its field, before the agent is asked", async () => {
    const err = await expectCode(
      client().askConfirmation({ instanceId: agentId, step: trustStep("50000000000000001") }, as(OWNER)),
      Code.InvalidArgument,
    );
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["step.set_trust_level.daily_spend_limit_wei"]);
    expect(hostAsked).toBe(0);
  });

  it("has nobody asked for a member's session (NOT_FOUND), and records nothing of what it polls", async () => {
    await expectCode(
      client().askConfirmation({ instanceId: agentId, step: trustStep(CENTS) }, as(MEMBER)),
      Code.NotFound,
    );
    told = confirmation(nonce(), CENTS, ConfirmationState.APPLIED);
    await expectCode(client().getConfirmation({ instanceId: agentId, id: told.id }, as(MEMBER)), Code.NotFound);
    expect(hostAsked).toBe(0);
    expect((await limitOf(agentId))?.daily_spend_limit_wei).toBe("");
  });

  it("records a nonce once: the same confirmation read again after the limit was lowered raises nothing", async () => {
    const id = nonce();
    asked = confirmation(id, CENTS);
    told = confirmation(id, CENTS, ConfirmationState.APPLIED);
    await client().askConfirmation({ instanceId: agentId, step: trustStep(CENTS) }, as(OWNER));
    await client().getConfirmation({ instanceId: agentId, id }, as(OWNER));
    await sql.query(`update instances set daily_spend_limit_wei = '1000' where id = $1`, [agentId]);
    // A second claims service (or this one restarted) that never saw it recorded reads it again.
    const again = client();
    await again.getConfirmation({ instanceId: agentId, id }, as(OWNER));
    expect((await limitOf(agentId))?.daily_spend_limit_wei).toBe("1000");
  });
});
