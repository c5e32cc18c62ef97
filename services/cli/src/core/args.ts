// The generic command line reader (node:util parseArgs): the command found in
// a table of syntax (command-line/table.ts), its options checked against the ones it
// takes, its positionals named; and the readers of values more than one area
// takes. What an option's value means to a command, its area reads
// (commands/<area>/args.ts), and command-line/parse.ts puts them together.
import { parseArgs } from "node:util";
import { UsageError } from "./errors.js";
import { GLOBAL, OPTIONS, type CommandSyntax } from "./syntax.js";

/** A UsageError that knows which command it is about (for its usage line). */
export class CommandUsageError extends UsageError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

type Parsed = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true; tokens: true }>
>;

/** The options given, as parseArgs read them. */
export type OptionValues = Parsed["values"];

export interface CommandLine<Name extends string> {
  command: Name;
  /** Positionals by their names in the command's syntax; none with --help. */
  args: Record<string, string>;
  values: OptionValues;
}

/** What a command takes as positionals when its syntax's args do not say it (`patterns --health`), and how errors name it. */
export type ArgsOf<Name extends string> = (
  name: Name,
  values: OptionValues,
) => { args: readonly string[]; as: string } | undefined;

/** Arguments that name something and so cannot be empty. */
const NAMING = ["ID", "FILE", "TEMPLATE_ID", "ROLLOUT_ID", "INVITE", "INBOX_ID", "DIR", "CONVERSATION"];

/** Reads argv (without node and script) against a table of syntax; throws CommandUsageError. */
export function readCommandLine<Name extends string>(
  argv: readonly string[],
  table: Record<Name, CommandSyntax>,
  argsOf: ArgsOf<Name> = () => undefined,
): CommandLine<Name> {
  const isCommand = (name: string): name is Name => Object.hasOwn(table, name);
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    const first = argv.find((a) => !a.startsWith("-"));
    throw new CommandUsageError(
      (err as Error).message.split("\n")[0] ?? "bad arguments",
      first && isCommand(first) ? first : undefined,
    );
  }
  let [name, ...rest] = parsed.positionals;
  // A command of several words ("address-book save"): its first word, then the rest.
  const sub = name !== undefined && rest[0] !== undefined ? `${name} ${rest[0]}` : undefined;
  if (sub !== undefined && isCommand(sub)) [name, rest] = [sub, rest.slice(1)];
  const { values } = parsed;
  if (name === undefined) {
    const help = "help";
    if (values.help && isCommand(help)) return { command: help, args: {}, values };
    throw new CommandUsageError("no command given");
  }
  if (!isCommand(name)) {
    // The first words of commands of several words ("rollout"), each with its second words.
    const subs = Object.keys(table)
      .filter((n) => n.startsWith(`${name} `))
      .map((n) => n.slice(name.length + 1));
    if (subs.length > 0)
      throw new CommandUsageError(
        `${name} takes one of ${subs.join(", ")}${rest[0] === undefined ? "" : ` (got "${rest[0]}")`}`,
      );
    throw new CommandUsageError(`unknown command "${name}"`);
  }
  const syntax: CommandSyntax = table[name];
  const given = new Set((parsed.tokens ?? []).filter((t) => t.kind === "option").map((t) => t.name));
  for (const opt of given) {
    if (!GLOBAL.includes(opt) && !syntax.options.includes(opt)) {
      throw new CommandUsageError(`${name} takes no --${opt}`, name);
    }
  }
  const out: CommandLine<Name> = { command: name, args: {}, values };
  if (values.help === true) return out;
  const variant = argsOf(name, values);
  const wanted = variant?.args ?? syntax.args;
  // A last argument "NAME..." takes every positional from there on, space-joined.
  const many = wanted.at(-1)?.endsWith("...") === true;
  if (many ? rest.length < wanted.length : rest.length !== wanted.length) {
    const what =
      wanted.length === 0
        ? "no arguments"
        : `${many ? "at least " : ""}${wanted.length} argument${wanted.length > 1 ? "s" : ""} (${wanted.join(" ")})`;
    throw new CommandUsageError(`${variant?.as ?? name} takes ${what}, got ${rest.length}`, name);
  }
  wanted.forEach((a, i) => {
    out.args[a] = many && i === wanted.length - 1 ? rest.slice(i).join(" ") : (rest[i] as string);
  });
  for (const a of NAMING) {
    if (out.args[a] === "") throw new CommandUsageError(`${a} must not be empty`, name);
  }
  return out;
}

export function positiveInt(name: string, value: string, command?: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new CommandUsageError(`${name} must be a whole number, 1 or more (got "${value}")`, command);
  }
  return Number(value);
}

/** An option's or argument's "on" or "off" (what is signed). */
export function onOffArg(option: string, value: string | undefined, command: string): boolean {
  if (value === "on") return true;
  if (value === "off") return false;
  throw new CommandUsageError(`${option} takes on or off${value === undefined ? "" : ` (got "${value}")`}`, command);
}

/** A comma-separated list, each item trimmed, empty ones dropped. */
export const commaList = (value: string) =>
  value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
