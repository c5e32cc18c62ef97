// The syntax of an agent's address book (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

export const ADDRESS_BOOK_COMMANDS = {
  "address-book": {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary:
      "my agent's address book, opened here: id, name, kind (wallet, phone, mail), value, how it was saved, when",
  },
  "address-book save": {
    args: ["ID", "NAME", "KIND", "VALUE"],
    options: [],
    synopsis: "ID NAME wallet|phone|mail VALUE",
    summary:
      "save a contact to my agent's address book, sealed to its checked key; a new value for a name and kind replaces the old",
  },
  "address-book remove": {
    args: ["ID", "CONTACT_ID..."],
    options: [],
    synopsis: "ID CONTACT_ID...",
    summary: "remove contacts from my agent's address book by id",
  },
} as const satisfies Record<string, CommandSyntax>;
