// A model's JSON answer (learning's entries, the chooser's acts): the object
// between its first "{" and its last "}", whatever the model wrapped it in
// (a sentence, a code fence); undefined when there is none or it does not
// parse. What it holds is for the caller to check, field by field.

export function jsonObjectIn(answer: string): Record<string, unknown> | undefined {
  const start = answer.indexOf("{");
  const end = answer.lastIndexOf("}");
  if (start < 0 || end <= start) return undefined;
  try {
    const parsed: unknown = JSON.parse(answer.slice(start, end + 1));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
