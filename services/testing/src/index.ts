export * from "./postgres.js";
export * from "./processes.js";
export * from "./pki.js";
export * from "./ports.js";
export * from "./postgres-server.js";
export * from "./wait.js";
export * from "./clock.js";
