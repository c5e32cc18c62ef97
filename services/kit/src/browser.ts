// `@convos-pool/kit/browser`: what the web app may import from the kit, with
// nothing that needs Node: all of content (the contract and its errors,
// template content and its JSON, tool values, connections, trust levels,
// permissions, participation, SOUL, the line diff, a rollout's signals) and
// the part of signing a browser runs (signing/browser.ts: signing and
// checking operations, sealed boxes, the verified badge and the birth
// certificate, a rollout's signed bounds), and the client's retries of a
// refused call (client/). Each list is written once, in its floor's own entry.
export * from "./client/index.js";
export * from "./content/index.js";
export * from "./signing/browser.js";
