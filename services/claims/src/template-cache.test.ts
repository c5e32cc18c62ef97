import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SignedTemplateSchema, TemplateSchema, TemplateStatus, Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { UsageBatcher, cachedTemplateSource } from "./template-cache.js";

describe("cachedTemplateSource", () => {
  it("reuses a template for its time, then asks again", async () => {
    let clock = 0;
    const asked: string[] = [];
    const source = cachedTemplateSource(
      {
        async getTemplate(id) {
          asked.push(id);
          return {
            template: create(TemplateSchema, { id, visibility: Visibility.PUBLIC, status: TemplateStatus.ACTIVE }),
            release: create(SignedTemplateSchema, { templateId: id }),
            bases: [],
          };
        },
      },
      2_000,
      () => clock,
    );
    await source.getTemplate("a");
    await source.getTemplate("a");
    await source.getTemplate("b");
    expect(asked).toEqual(["a", "b"]);
    clock = 2_001;
    expect((await source.getTemplate("a")).template.id).toBe("a");
    expect(asked).toEqual(["a", "b", "a"]);
  });
});

describe("UsageBatcher", () => {
  it("sends one sum per template with its distinct owners, and keeps what failed for the next flush", async () => {
    const sent: [string, number, string[]][] = [];
    let fail = true;
    const errors: string[] = [];
    const batcher = new UsageBatcher(
      async (id, count, owners) => {
        if (fail && id === "b") throw new Error("down");
        sent.push([id, count, owners]);
      },
      (id) => errors.push(id),
      60_000,
    );
    batcher.record("a", "alice");
    batcher.record("a", "alice");
    batcher.record("a", "bob");
    batcher.record("b", "alice");
    await batcher.flush();
    expect(sent).toEqual([["a", 3, ["alice", "bob"]]]);
    expect(errors).toEqual(["b"]);
    fail = false;
    batcher.record("b", "carol");
    await batcher.close();
    expect(sent).toEqual([
      ["a", 3, ["alice", "bob"]],
      ["b", 2, ["alice", "carol"]],
    ]);
  });
});
