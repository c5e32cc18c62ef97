// The tool value checker, pure: every kind against values people type, and
// properties over generated values (fast-check). Nothing is a stand-in.
import { ToolKind } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { contentFromJson, contentToJson, jsonHash, type TemplateContentJson, validateContent } from "./template.js";
import {
  MAX_TOOL_VALUE,
  parseToolKind,
  TOOL_KIND_EXAMPLES,
  TOOL_KIND_NAMES,
  type ToolKindName,
  toolKind,
  toolKindName,
  toolValueProblem,
} from "./tool-values.js";

const of = (kind: ToolKindName) => ({ id: "value", kind });

describe("toolKind", () => {
  it("is the declared kind when the template says one", () => {
    expect(toolKind({ id: "personal-email", kind: "text" })).toBe("text");
    expect(toolKind({ id: "budget", kind: "number" })).toBe("number");
  });

  it("is inferred from the last word of the id when the template says none", () => {
    expect(toolKind({ id: "personal-email" })).toBe("email");
    expect(toolKind({ id: "email" })).toBe("email");
    expect(toolKind({ id: "work-mail" })).toBe("email");
    expect(toolKind({ id: "work-phone" })).toBe("phone");
    expect(toolKind({ id: "emergency-phone-number" })).toBe("phone");
    expect(toolKind({ id: "blog-url" })).toBe("url");
    expect(toolKind({ id: "website" })).toBe("url");
  });

  it("is text for any other id, so a value the template did not describe is never refused for its shape", () => {
    expect(toolKind({ id: "email-signature" })).toBe("text");
    expect(toolKind({ id: "api-key" })).toBe("text");
    expect(toolKind({ id: "account-number" })).toBe("text");
    expect(toolKind({ id: "mailbox" })).toBe("text");
  });
});

describe("kind names", () => {
  it("round-trip every kind, and unspecified is no name", () => {
    for (const n of TOOL_KIND_NAMES) expect(toolKindName(parseToolKind(n))).toBe(n);
    expect(toolKindName(ToolKind.UNSPECIFIED)).toBeUndefined();
    expect(parseToolKind("")).toBe(ToolKind.UNSPECIFIED);
    expect(toolKindName(parseToolKind("colour"))).toMatch(/^unknown/);
  });

  it("leave content without a kind hashing as before, and keep a declared one through proto", () => {
    const content: TemplateContentJson = {
      agent_name: "A",
      instructions: "i",
      model: { default: "gpt-oss-20b", allow_override: true },
      tools: [
        { id: "personal-email", name: "", provisioning: "user", description: "", prompt: "Your mail?", required: true },
      ],
      description: "",
      category: "",
      tags: [],
    };
    expect(contentToJson(contentFromJson(content))).toEqual(content);
    expect(jsonHash(contentToJson(contentFromJson(content)))).toBe(jsonHash(content));
    const typed = { ...content, tools: [{ ...content.tools[0]!, kind: "phone" as const }] };
    expect(contentToJson(contentFromJson(typed)).tools[0]!.kind).toBe("phone");
    expect(jsonHash(typed)).not.toBe(jsonHash(content));
  });

  it("are checked in a template: a kind that is none, or a kind on a pool tool, is refused naming the field", () => {
    const base: TemplateContentJson = {
      agent_name: "A",
      instructions: "i",
      model: { default: "gpt-oss-20b", allow_override: true },
      tools: [],
      description: "",
      category: "",
      tags: [],
    };
    const user = {
      id: "budget",
      name: "",
      provisioning: "user" as const,
      description: "",
      prompt: "How much?",
      required: false,
    };
    expect(() => validateContent({ ...base, tools: [{ ...user, kind: "number" }] })).not.toThrow();
    expect(() => validateContent({ ...base, tools: [{ ...user, kind: "colour" as ToolKindName }] })).toThrow(
      'content.tools[0].kind: must be one of "text", "email", "phone", "number", "url"',
    );
    expect(() =>
      validateContent({ ...base, tools: [{ ...user, id: "sms", provisioning: "pool", prompt: "", kind: "phone" }] }),
    ).toThrow("content.tools[0].kind: is for user-provided tools");
  });
});

describe("toolValueProblem", () => {
  it("takes mail addresses people write and refuses what is not one", () => {
    for (const ok of ["ada@example.com", "a.b+tag@mail.example.co.uk", "a@b.c", " ada@example.com "])
      expect(toolValueProblem({ id: "personal-email" }, ok)).toBeUndefined();
    for (const bad of [
      "not-an-email",
      "ada@",
      "@example.com",
      "ada@example",
      "ada@@example.com",
      "a b@example.com",
      "a..b@example.com",
      ".a@example.com",
    ])
      expect(toolValueProblem({ id: "personal-email" }, bad)).toBe(
        "is not a mail address: write it as name@example.com",
      );
  });

  it("takes phone numbers in E.164 only", () => {
    for (const ok of ["+15551234567", "+442071838750", "+4930123456"])
      expect(toolValueProblem(of("phone"), ok)).toBeUndefined();
    for (const bad of ["5551234567", "+1 555 123 4567", "+0123456789", "+1555", "+1234567890123456", "+1-555-123-4567"])
      expect(toolValueProblem(of("phone"), bad)).toMatch(/^is not a phone number in international form/);
  });

  it("takes decimal numbers", () => {
    for (const ok of ["42", "-0.5", "007", "3.14159"]) expect(toolValueProblem(of("number"), ok)).toBeUndefined();
    for (const bad of ["4 2", "1e3", "0x10", "1,000", ".5", "5.", "NaN", "Infinity", "--1"])
      expect(toolValueProblem(of("number"), bad)).toMatch(/^is not a number/);
  });

  it("takes http and https addresses, whole", () => {
    for (const ok of ["https://example.com", "http://localhost:8080/a?b=c", "https://例え.jp/path"])
      expect(toolValueProblem(of("url"), ok)).toBeUndefined();
    for (const bad of [
      "example.com",
      "javascript:alert(1)",
      "ftp://example.com",
      "https://",
      "https://exa mple.com",
      "mailto:a@b.co",
    ])
      expect(toolValueProblem(of("url"), bad)).toMatch(/^is not a web address/);
  });

  it("takes any text up to the limit, and no control characters", () => {
    expect(toolValueProblem(of("text"), "anything at all, even not-an-email")).toBeUndefined();
    expect(toolValueProblem(of("text"), "two\nlines\tand a tab")).toBeUndefined();
    expect(toolValueProblem(of("text"), "x".repeat(MAX_TOOL_VALUE))).toBeUndefined();
    expect(toolValueProblem(of("text"), "x".repeat(MAX_TOOL_VALUE + 1))).toBe("is too long: at most 2,000 characters");
    expect(toolValueProblem(of("text"), "a\u0000b")).toMatch(/control character/);
  });

  it("leaves an empty value to the caller's rule on required values", () => {
    for (const k of TOOL_KIND_NAMES) expect(toolValueProblem(of(k), "   ")).toBeUndefined();
  });

  it("checks an unknown kind (a newer template) as text", () => {
    expect(toolValueProblem({ id: "x", kind: "colour" as ToolKindName }, "red")).toBeUndefined();
  });

  it("takes every kind's own example", () => {
    for (const k of TOOL_KIND_NAMES) expect(toolValueProblem(of(k), TOOL_KIND_EXAMPLES[k] || "x")).toBeUndefined();
  });

  it("never repeats the value it refuses, for any kind and any value", () => {
    // A mark no refusal's wording has, somewhere in the value: three letters of it could be the wording's own
    // ("ame" of "name@example.com").
    const marked = fc
      .tuple(fc.string({ maxLength: 600 }), fc.string({ maxLength: 600 }))
      .map(([a, b]) => `${a}\u2603${b}`);
    fc.assert(
      fc.property(fc.constantFrom(...TOOL_KIND_NAMES), marked, (kind, value) => {
        const problem = toolValueProblem(of(kind), value);
        if (problem !== undefined) expect(problem).not.toContain("\u2603");
      }),
    );
  });

  it("takes every generated mail address, and refuses any without an @", () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        // fast-check's addresses follow RFC 5322; ours are those people type (no dotted edges, a letter TLD).
        const local = email.split("@")[0]!;
        fc.pre(/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$/.test(local) && /\.[A-Za-z]{1,63}$/.test(email));
        expect(toolValueProblem(of("email"), email)).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes("@") && s.trim() !== ""),
        (s) => {
          expect(toolValueProblem(of("email"), s)).toBeDefined();
        },
      ),
    );
  });

  it("takes every E.164 number and the same digits without the plus never", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.stringMatching(/^[0-9]{6,14}$/), (first, rest) => {
        expect(toolValueProblem(of("phone"), `+${first}${rest}`)).toBeUndefined();
        expect(toolValueProblem(of("phone"), `${first}${rest}`)).toBeDefined();
      }),
    );
  });

  it("takes every finite decimal a number prints", () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(), (whole, frac) => {
        expect(toolValueProblem(of("number"), String(whole))).toBeUndefined();
        expect(toolValueProblem(of("number"), `${whole}.${frac}`)).toBeUndefined();
      }),
    );
  });

  // fc.webUrl draws its paths with fc.webPath, whose first use costs seconds of CPU: these paths
  // take the characters a path may hold as they are, and the rest is fast-check's own.
  const segment = fc.string({ unit: fc.constantFrom(..."aZ09-._~!$&'()*+,;=:@%"), maxLength: 8 });
  const webUrl = fc
    .tuple(
      fc.constantFrom("http", "https"),
      fc.webAuthority(),
      fc.array(segment, { maxLength: 4 }),
      fc.option(fc.webQueryParameters()),
      fc.option(fc.webFragments()),
    )
    .map(([scheme, authority, path, query, fragment]) =>
      [
        `${scheme}://${authority}`,
        ...path.map((p) => `/${p}`),
        query === null ? "" : `?${query}`,
        fragment === null ? "" : `#${fragment}`,
      ].join(""),
    );
  it("takes every generated web address", () => {
    fc.assert(
      fc.property(webUrl, (url) => {
        fc.pre(!/\s/.test(url));
        expect(toolValueProblem(of("url"), url)).toBeUndefined();
      }),
      { numRuns: 30 },
    );
  });

  it("is the same for a value and the value with spaces around it", () => {
    fc.assert(
      fc.property(fc.constantFrom(...TOOL_KIND_NAMES), fc.string({ maxLength: 50 }), (kind, value) => {
        expect(toolValueProblem(of(kind), `  ${value}\n`)).toBe(toolValueProblem(of(kind), value));
      }),
    );
  });
});
