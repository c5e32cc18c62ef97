export * from "./postgres.js";
export * from "./fixtures.js";
