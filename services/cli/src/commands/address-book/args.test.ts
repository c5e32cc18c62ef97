import { describe, expect, it } from "vitest";
import { kindArg } from "./commands.js";
import { CommandUsageError, parseCommandLine } from "../../command-line/parse.js";
import { commandUsage } from "../../command-line/table.js";

describe("the address-book commands' arguments", () => {
  it("address-book ID lists; save and remove are words of their own after it", () => {
    expect(parseCommandLine(["address-book", "inst_1"])).toMatchObject({
      command: "address-book",
      args: { ID: "inst_1" },
    });
    expect(parseCommandLine(["address-book", "save", "inst_1", "Ana Lee", "wallet", "0xabc"])).toMatchObject({
      command: "address-book save",
      args: { ID: "inst_1", NAME: "Ana Lee", KIND: "wallet", VALUE: "0xabc" },
    });
    expect(parseCommandLine(["address-book", "remove", "inst_1", "ab_1", "ab_2"])).toMatchObject({
      command: "address-book remove",
      args: { ID: "inst_1", "CONTACT_ID...": "ab_1 ab_2" },
    });
  });

  it("refuses a missing argument, or one too many, with the command's own usage", () => {
    const refused = (argv: string[]) => {
      try {
        parseCommandLine(argv);
      } catch (err) {
        expect(err).toBeInstanceOf(CommandUsageError);
        return (err as CommandUsageError).command;
      }
      throw new Error(`${argv.join(" ")} was taken`);
    };
    expect(refused(["address-book", "remove", "inst_1"])).toBe("address-book remove");
    expect(refused(["address-book", "save", "inst_1", "Ana", "wallet"])).toBe("address-book save");
    expect(refused(["address-book", "inst_1", "extra"])).toBe("address-book");
    expect(commandUsage("address-book save")).toBe(
      "usage: pool [--url URL] [--key FILE] address-book save ID NAME wallet|phone|mail VALUE",
    );
  });

  it("KIND is wallet, phone or mail", () => {
    expect([kindArg("wallet"), kindArg("phone"), kindArg("mail")]).toEqual(["address", "phone", "mailbox"]);
    expect(() => kindArg("address")).toThrow('KIND takes wallet, phone or mail (got "address")');
  });
});
