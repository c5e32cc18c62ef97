import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  SignedTemplateSchema,
  TemplateSchema,
  TemplateStatus,
  Visibility,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { cachedTemplateSource } from "./cache.js";

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

describe("cachedTemplateSource, concurrent misses", () => {
  const template = (id: string) => ({
    template: create(TemplateSchema, { id, visibility: Visibility.PUBLIC, status: TemplateStatus.ACTIVE }),
    release: create(SignedTemplateSchema, { templateId: id }),
    bases: [],
  });

  it("reads a template once for all the claims that miss while it is read", async () => {
    let reads = 0;
    let answer!: () => void;
    const source = cachedTemplateSource({
      getTemplate(id) {
        reads++;
        return new Promise((resolve) => (answer = () => resolve(template(id))));
      },
    });
    const waiting = Array.from({ length: 50 }, () => source.getTemplate("a"));
    expect(reads).toBe(1);
    answer();
    const got = await Promise.all(waiting);
    expect(new Set(got.map((g) => g.template.id))).toEqual(new Set(["a"]));
    await source.getTemplate("a");
    expect(reads, "then served from the cache").toBe(1);
  });

  it("keeps no failed read: its waiters get the error, the next claim reads again", async () => {
    let reads = 0;
    const source = cachedTemplateSource({
      async getTemplate(id) {
        reads++;
        if (reads === 1) throw new Error("templates service away");
        return template(id);
      },
    });
    const failed = await Promise.allSettled([source.getTemplate("a"), source.getTemplate("a")]);
    expect(failed.map((f) => f.status)).toEqual(["rejected", "rejected"]);
    expect(reads).toBe(1);
    expect((await source.getTemplate("a")).template.id).toBe("a");
    expect(reads).toBe(2);
  });
});
