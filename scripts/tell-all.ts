/** What a model that tells all it reads answers: every message it was given, in order, on one line each. Pure. */
export function tellAll(messages: readonly string[]): string {
  return `Everything I was given:\n${messages.map((m) => `- ${m.replace(/\s+/g, " ").trim()}`).join("\n")}`;
}
