// `@convos-pool/kit/db`: what needs MikroORM (databases, migrations, spent
// nonces), kept out of the kit's main entry so that code without a database
// (pure policy and its tests, the CLI) does not load it.
export * from "./db.js";
export * from "./nonces.js";
