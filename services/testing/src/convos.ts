export * from "./convos-cli.js";
export * from "./creator.js";
