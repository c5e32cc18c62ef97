// What a browser may import from the kit (the web app): signing, template
// content rules, trust levels and errors' field violations, with nothing that needs Node.
export * from "./errors.js";
export * from "./contract.js";
export { deriveInboxId } from "./inbox.js";
export * from "./signing.js";
export * from "./template-content.js";
export * from "./trust.js";
export * from "./permissions.js";
export * from "./participation.js";
export * from "./soul.js";
export * from "./content-json.js";
export * from "./text-diff.js";
export * from "./sealed-box.js";
