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

describe("cachedTemplateSource, a version the caller knows was written", () => {
  const at = (version: bigint) => ({
    template: create(TemplateSchema, { id: "a", visibility: Visibility.PUBLIC, status: TemplateStatus.ACTIVE }),
    release: create(SignedTemplateSchema, { templateId: "a", version }),
    bases: [],
  });

  it("answers from a read that new or newer, and reads again for a newer one", async () => {
    let current = 3n;
    let reads = 0;
    const source = cachedTemplateSource({
      async getTemplate() {
        reads++;
        return at(current);
      },
    });
    await source.getTemplate("a");
    expect(Number((await source.getTemplate("a", 3)).release.version)).toBe(3);
    expect(Number((await source.getTemplate("a", 2)).release.version), "an agent pinned behind").toBe(3);
    expect(reads).toBe(1);
    current = 4n;
    expect(Number((await source.getTemplate("a")).release.version), "within its time, the claims' read").toBe(3);
    expect(Number((await source.getTemplate("a", 4)).release.version), "an agent that has applied 4").toBe(4);
    expect(reads).toBe(2);
    expect(Number((await source.getTemplate("a")).release.version), "kept for the next").toBe(4);
  });

  it("does not take a read under way for a version written after it was asked", async () => {
    let current = 3n;
    let answer!: () => void;
    let reads = 0;
    const source = cachedTemplateSource({
      getTemplate() {
        reads++;
        const v = current;
        return reads === 1 ? new Promise((resolve) => (answer = () => resolve(at(v)))) : Promise.resolve(at(v));
      },
    });
    const claims = source.getTemplate("a");
    current = 4n;
    const statement = source.getTemplate("a", 4);
    answer();
    expect(Number((await claims).release.version)).toBe(3);
    expect(Number((await statement).release.version)).toBe(4);
    expect(reads).toBe(2);
  });
});
