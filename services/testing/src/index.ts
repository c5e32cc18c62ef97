export * from "./postgres.js";
export * from "./fixtures.js";
export * from "./processes.js";
export * from "./pki.js";
export * from "./postgres-server.js";
export * from "./wait.js";
