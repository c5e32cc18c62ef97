/**
 * TEST HELPERS, NOT PRODUCT CODE. The claims service's database for the tests
 * that work on it without the service around it (its SQL, its providers, its
 * warm pool): opened on a new database of the test PostgreSQL server,
 * migrated; and what a claim writes when it takes an idle agent.
 */
import { randomBytes } from "node:crypto";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import type { ClaimParams } from "../src/claim/sql.js";
import { entities } from "../src/db/entities.js";
import { migrations } from "../src/schema/migrations.js";

/** `name` prefixes the test database's name; `poolSize` is how many connections the test may hold at once. */
export async function openClaimsTestDatabase(name: string, poolSize: number): Promise<Database> {
  return openDatabase({ name: "claims", url: await createTestDatabase(name), entities, migrations, poolSize });
}

/** A claim's values (claimIdleInstance's): a new claim id, an owner and a template of the test's, unless `over` says. */
export const claimParams = (over: Partial<ClaimParams> = {}): ClaimParams => ({
  claimId: randomBytes(8).toString("hex"),
  ownerId: "a".repeat(64),
  templateId: "tmpl_AAAAAAAAAAAAAAAA",
  templateVersion: 1,
  agentName: "x",
  model: "m",
  modelOverridden: false,
  userConfig: {},
  ...over,
});
