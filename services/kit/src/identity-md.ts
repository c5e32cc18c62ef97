// IDENTITY.md: what an agent reads as who it is, rendered from the content
// it runs on (its template with every base applied). The instance writes it
// at Configure and on every update; the templates service shows it in the
// resolved view, so a creator sees exactly what the agents read.
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";

/** The agent's name, then the instructions verbatim. */
export function renderIdentity(content: Pick<TemplateContent, "agentName" | "instructions" | "soul">): string {
  return `# ${content.agentName}\n\n${content.instructions.trim()}\n`;
}
