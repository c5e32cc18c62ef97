// The values people type for a template's user-provided tools, checked by
// their kind (docs/templates.md, "Tool kinds"): one pure function for the
// claims service (the authority), the CLI and the web app's claim form, so
// all three refuse the same values in the same words. A problem never
// repeats the value: values are often personal (a mail address, a number)
// and the problem may reach a log.
import { ToolKind } from "@convos-pool/gen/convos/pool/v1/common_pb.js";

/** ToolKind by name, as content JSON and the REST API spell it. */
export const TOOL_KIND_NAMES = ["text", "email", "phone", "number", "url"] as const;
export type ToolKindName = (typeof TOOL_KIND_NAMES)[number];

const KIND_OF_NAME: Record<ToolKindName, ToolKind> = {
  text: ToolKind.TEXT,
  email: ToolKind.EMAIL,
  phone: ToolKind.PHONE,
  number: ToolKind.NUMBER,
  url: ToolKind.URL,
};

/** The name of a kind; undefined for unspecified. An unknown value keeps a name that validation refuses. */
export function toolKindName(k: ToolKind): ToolKindName | undefined {
  if (k === ToolKind.UNSPECIFIED) return undefined;
  const name = TOOL_KIND_NAMES.find((n) => KIND_OF_NAME[n] === k);
  return name ?? (`unknown (${k})` as ToolKindName);
}

/** The kind of a name ("" or absent: unspecified); a name that is none becomes a value that is none. */
export function parseToolKind(name: string | undefined): ToolKind {
  if (!name) return ToolKind.UNSPECIFIED;
  return (TOOL_KIND_NAMES as readonly string[]).includes(name) ? KIND_OF_NAME[name as ToolKindName] : (-1 as ToolKind);
}

export const isToolKindName = (v: unknown): v is ToolKindName =>
  typeof v === "string" && (TOOL_KIND_NAMES as readonly string[]).includes(v);

/** The longest value of any kind, in characters. */
export const MAX_TOOL_VALUE = 2000;

// The last word of a tool id says what it holds when the template does not
// ("personal-email", "work-phone", "blog-url"); anything else is free text.
const INFERRED: [RegExp, ToolKindName][] = [
  [/(^|-)(e?mail)$/, "email"],
  [/(^|-)(phone|mobile|sms|tel|phone-number)$/, "phone"],
  [/(^|-)(url|website|homepage|link)$/, "url"],
];

/** A tool's kind: the one its template declares, else the one its id implies, else text. */
export function toolKind(tool: { id: string; kind?: ToolKindName | undefined }): ToolKindName {
  if (tool.kind) return tool.kind;
  for (const [pattern, kind] of INFERRED) if (pattern.test(tool.id)) return kind;
  return "text";
}

/** What a form shows in an empty field of each kind. */
export const TOOL_KIND_EXAMPLES: Record<ToolKindName, string> = {
  text: "",
  email: "name@example.com",
  phone: "+15551234567",
  number: "42",
  url: "https://example.com",
};

/** What an input of each kind is, for a browser (`<input type=…>`). */
export const TOOL_KIND_INPUT_TYPES: Record<ToolKindName, string> = {
  text: "text",
  email: "email",
  phone: "tel",
  number: "text",
  url: "url",
};

// A mail address as people write one: a local part, one @, a domain of
// at least two dot-separated labels, the last of letters. Not every
// address RFC 5321 allows (no quoted local parts, no IP literals): the mail
// providers agents use do not take those either.
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{1,63}$/;
const E164 = /^\+[1-9][0-9]{6,14}$/;
const NUMBER = /^-?[0-9]+(?:\.[0-9]+)?$/;
// Control characters but tab and newline.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is what it finds
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function emailProblem(v: string): string | undefined {
  if (!EMAIL.test(v) || v.length > 254 || v.split("@")[0]?.split(".").includes(""))
    return "is not a mail address: write it as name@example.com";
  return undefined;
}

function urlProblem(v: string): string | undefined {
  const problem = "is not a web address: write it whole, starting with https://, such as https://example.com";
  if (/\s/.test(v)) return problem;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return problem;
  }
  return (u.protocol === "https:" || u.protocol === "http:") && u.hostname ? undefined : problem;
}

const PROBLEMS: Record<ToolKindName, (v: string) => string | undefined> = {
  text: () => undefined,
  email: emailProblem,
  phone: (v) =>
    E164.test(v)
      ? undefined
      : "is not a phone number in international form: a plus, the country code and the number, no spaces, such as +15551234567",
  number: (v) =>
    NUMBER.test(v)
      ? undefined
      : "is not a number: digits, with a minus sign or a decimal point if needed, such as 42 or 2.5",
  url: urlProblem,
};

/**
 * What is wrong with a value typed for a tool, in people's words, or
 * undefined when it is fine. The value is trimmed first, as the claims
 * service stores it; an empty value is no value (whether one is required is
 * the caller's rule). The words never contain the value.
 */
export function toolValueProblem(
  tool: { id: string; kind?: ToolKindName | undefined },
  value: string,
): string | undefined {
  const v = value.trim();
  if (v === "") return undefined;
  if ([...v].length > MAX_TOOL_VALUE)
    return `is too long: at most ${MAX_TOOL_VALUE.toLocaleString("en-US")} characters`;
  if (CONTROL.test(v)) return "has a control character in it: type the value again";
  const kind = toolKind(tool);
  // An unknown kind (a newer template read by an older client) checks as text; the claims service decides.
  return (PROBLEMS[kind] ?? PROBLEMS.text)(v);
}
