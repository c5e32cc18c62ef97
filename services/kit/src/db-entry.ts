// `@convos-pool/kit/db`: what needs MikroORM (databases, migrations, spent
// nonces, rate counters), kept out of the kit's main entry so that code without a database
// (pure policy and its tests, the CLI) does not load it.
export * from "./db.js";
export * from "./nonces.js";
export * from "./rate-counters.js";
