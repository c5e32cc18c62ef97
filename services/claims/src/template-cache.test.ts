import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TemplateSchema, TemplateStatus, Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { UsageBatcher, cachedTemplateSource } from "./template-cache.js";

describe("cachedTemplateSource", () => {
  it("reuses a public template for its time, never a private one", async () => {
    let clock = 0;
    const asked: string[] = [];
    const source = cachedTemplateSource(
      {
        async getTemplate(id, requester) {
          asked.push(`${id}:${requester}`);
          const visibility = id === "pub" ? Visibility.PUBLIC : Visibility.PRIVATE;
          return create(TemplateSchema, { id, visibility, status: TemplateStatus.ACTIVE });
        },
      },
      2_000,
      () => clock,
    );
    await source.getTemplate("pub", "a");
    await source.getTemplate("pub", "b");
    await source.getTemplate("priv", "a");
    await source.getTemplate("priv", "a");
    expect(asked).toEqual(["pub:a", "priv:a", "priv:a"]);
    clock = 2_001;
    await source.getTemplate("pub", "c");
    expect(asked).toEqual(["pub:a", "priv:a", "priv:a", "pub:c"]);
  });
});

describe("UsageBatcher", () => {
  it("sends one sum per template, and keeps what failed for the next flush", async () => {
    const sent: [string, number][] = [];
    let fail = true;
    const errors: string[] = [];
    const batcher = new UsageBatcher(
      async (id, count) => {
        if (fail && id === "b") throw new Error("down");
        sent.push([id, count]);
      },
      (id) => errors.push(id),
      60_000,
    );
    batcher.record("a");
    batcher.record("a");
    batcher.record("b");
    await batcher.flush();
    expect(sent).toEqual([["a", 2]]);
    expect(errors).toEqual(["b"]);
    fail = false;
    batcher.record("b");
    await batcher.close();
    expect(sent).toEqual([
      ["a", 2],
      ["b", 2],
    ]);
  });
});
