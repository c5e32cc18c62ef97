// The gateway as a package: how to run it (server.ts).
export { startGateway, type GatewayOptions, type RunningGateway } from "./server.js";
