// Local stand-ins of the outside services pool tools use, speaking their real
// protocols, so that `npm start` and the tests work offline: an EVM chain
// (anvil) for wallets.
export * from "./chain.js";
