// The CLI reads the bodies the gateway really writes: each answer here is
// made by the gateway's own writer (`@convos-pool/gateway/rest-json`: the
// template, the agent, a claim's progress as the REST paths answer them),
// from protos as the services answer them, and served to the CLI's real
// command line through a stand-in fetch. The type check holds the field
// names (the CLI takes the bodies' types from the same module); this holds
// the shapes its commands read at run time, nesting included.

import { create } from "@bufbuild/protobuf";
import { ClaimStage, GetClaimProgressResponseSchema } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceSchema } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { TemplateSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { claimProgressToJson, instanceToJson, templateToJson } from "@convos-pool/gateway/rest-json";
import { contentFromJson, fillContentJson } from "@convos-pool/kit/content";
import { LOCAL_POOL_ID, signatureDomain } from "@convos-pool/kit/signing";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stageFromName } from "./claim-progress.js";
import { run, type Io } from "../../main.js";

const TEMPLATE_ID = "tmpl_4Qb1x9ZkT2mW7cPa";
const INSTANCE_ID = "inst_Q2w3E4r5T6y7U8i9";
const INVITE = "https://dev.convos.org/v2?i=abc";

let dir: string;
let err: string[];
let asked: string[];
let answers: Map<string, unknown>;

function io(): Io {
  return {
    env: { POOL_URL: "http://gw.test:9999" },
    cwd: dir,
    stdout: () => undefined,
    stderr: (t) => err.push(t),
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      const key = `${init?.method ?? "GET"} ${url.pathname}`;
      if (url.pathname === "/api/pool/signing-domain")
        return Response.json({ pool_id: LOCAL_POOL_ID, ...signatureDomain(LOCAL_POOL_ID) });
      asked.push(key);
      if (!answers.has(key)) return Response.json({ error: { type: "not_found", message: key } }, { status: 404 });
      return Response.json(answers.get(key));
    },
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-cli-rest-json-"));
  err = [];
  asked = [];
  answers = new Map();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const EMAIL_TOOL = {
  id: "personal-email",
  name: "Mail",
  provisioning: "user",
  description: "",
  prompt: "Mail?",
  required: true,
};

/** A template with a tool its owner supplies, as GET /api/pool/templates/{id} answers it. */
const templateJson = () =>
  templateToJson(
    create(TemplateSchema, {
      id: TEMPLATE_ID,
      creatorId: "creator-inbox",
      version: 3n,
      content: contentFromJson(fillContentJson({ agent_name: "Mia", instructions: "Help.", tools: [EMAIL_TOOL] })),
    }),
  );

describe("the CLI reads the gateway's bodies", () => {
  it("claim finds the template's tools where the gateway writes them, and refuses a --config value not of its kind before signing", async () => {
    expect(await run(["keygen"], io())).toBe(0);
    answers.set(`GET /api/pool/templates/${TEMPLATE_ID}`, templateJson());
    expect(await run(["claim", TEMPLATE_ID, INVITE, "--config", "personal-email=not-an-email"], io())).toBe(2);
    expect(err.join("")).toMatch(/--config personal-email is not a mail address/);
    expect(asked).toEqual([`GET /api/pool/templates/${TEMPLATE_ID}`]);
  });

  it("reads a claim's stage from its progress as the gateway writes it", () => {
    const progress = claimProgressToJson(create(GetClaimProgressResponseSchema, { stage: ClaimStage.JOINING }));
    expect(stageFromName(progress.stage)).toBe(ClaimStage.JOINING);
  });

  it("withdraw-transfer finds the open offer's inbox in the agent as the gateway writes it", async () => {
    expect(await run(["keygen"], io())).toBe(0);
    answers.set("POST /api/pool/sessions", {
      token: "a-session",
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const agent = instanceToJson(create(InstanceSchema, { id: INSTANCE_ID, pendingOwnerId: "" }));
    answers.set(`GET /api/pool/agents/${INSTANCE_ID}`, agent);
    // No offer open: refused before anything is signed.
    expect(await run(["withdraw-transfer", INSTANCE_ID], io())).toBe(1);
    expect(err.join("")).toContain(`agent ${INSTANCE_ID} has no open transfer offer`);
  });
});
