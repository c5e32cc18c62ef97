// The commands main runs (and the end-to-end tests call), one module per
// resource: each function takes the context and its parsed arguments and
// returns what the command prints (main pretty-prints it). They throw
// UsageError, CliError or HttpError; main turns those into exit codes.
// Curation, memory, patterns and OpenClaw have modules of their own.
export * from "./agent-commands.js";
export * from "./key-commands.js";
export * from "./template-commands.js";
