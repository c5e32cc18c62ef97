// Local stand-ins of the outside services pool tools use, speaking their real
// protocols, so that `npm start` and the tests work offline: an EVM chain
// (anvil) for wallets, mail (SMTP delivering to local mailboxes, POP3 reading
// them), Telnyx's messaging API for phone numbers, and AgentMail's API for
// production-shaped mailboxes.
export * from "./agentmail/index.js";
export * from "./chain.js";
export * from "./maildirs.js";
export * from "./mail.js";
export * from "./pop3.js";
export * from "./sms/index.js";
