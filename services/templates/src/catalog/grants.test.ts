// What is wrong with a SetToolGrant request (grants.ts, checkGrantRequest),
// as plain calls: every bad field named at once, and the checked grant of a
// well-formed one. No database, no network.
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { SetToolGrantRequestSchema } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { describe, expect, it } from "vitest";
import { checkGrantRequest, MAX_LIVE_TOOLS } from "./grants.js";

const request = (init: Parameters<typeof create<typeof SetToolGrantRequestSchema>>[1]) =>
  create(SetToolGrantRequestSchema, init);

/** The fields a refusal names, in its order; none when the request is taken. */
function refused(init: Parameters<typeof request>[0]): string[] {
  try {
    checkGrantRequest(request(init));
    return [];
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    return fieldViolations(err).map((v) => v.field);
  }
}

describe("what is wrong with a tool grant, every field at once", () => {
  it("names the subject, each unknown tool, the funding and the quota together, not the first only", () => {
    expect(refused({ tools: ["sms", "yacht", "email", "jet"], fundWei: "0.5", maxLiveTools: -1 })).toEqual([
      "template_id",
      "tools[1]",
      "tools[3]",
      "fund_wei",
      "max_live_tools",
    ]);
    expect(refused({ templateId: "x", creatorId: "y", maxLiveTools: MAX_LIVE_TOOLS + 1 })).toEqual([
      "template_id",
      "max_live_tools",
    ]);
    expect(refused({ creatorId: "not an inbox", fundWei: "-1" })).toEqual(["creator_id", "fund_wei"]);
  });

  it("takes a well-formed grant, its tools sorted and each once", () => {
    const g = checkGrantRequest(
      request({ templateId: "tmpl_0123456789abcdef", tools: ["sms", "email", "sms"], fundWei: " 7 ", maxLiveTools: 3 }),
    );
    expect(g).toEqual({
      subject: "template:tmpl_0123456789abcdef",
      templateId: "tmpl_0123456789abcdef",
      creatorId: "",
      tools: ["email", "sms"],
      fundWei: 7n,
      maxLiveTools: 3,
    });
  });
});
