export * from "./app-data.js";
export * from "./client.js";
export * from "./identity.js";
export * from "./invite.js";
export * from "./join.js";
export * from "./person.js";
export * from "./connections.js";
