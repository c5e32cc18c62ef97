// Local stand-ins of the outside services pool tools use, speaking their real
// protocols, so that `npm start` and the tests work offline: an EVM chain
// (anvil) for wallets, mail (SMTP delivering to local mailboxes, POP3 reading
// them), and Telnyx's messaging API for phone numbers.
export * from "./chain.js";
export * from "./maildirs.js";
export * from "./mail.js";
export * from "./pop3.js";
export * from "./sms.js";
