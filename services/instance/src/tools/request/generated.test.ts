// Generated requests in English, Spanish, French and German (read.ts,
// clauses.ts, binding.ts, grammar.ts), in memory: a request's clause wrapped in
// each kind of part that asks for nothing binds nothing, whatever a chooser
// chooses; a list of payments binds each amount to its own recipient only.
// Real: the reading, the clauses, bindActs, the grammar and the value
// readers. The chooser that chooses every value it sees is this file's, the
// owner's address book a fixed stand-in.
import { fc, test } from "@fast-check/vitest";
import { getAddress, parseEther } from "viem";
import { describe, expect } from "vitest";
import { chooseByRule } from "./grammar.js";
import { bindActs, type Contacts, type ChosenAct } from "./binding.js";
import { readRequest } from "./read.js";

const BOOK: Readonly<Record<string, { address: string; phone: string; mailbox: string }>> = {
  Ana: {
    address: getAddress("0x000000000000000000000000000000000000a7a1"),
    phone: "+15550100201",
    mailbox: "ana@example.com",
  },
  Bob: {
    address: getAddress("0x000000000000000000000000000000000000b0b1"),
    phone: "+15550100202",
    mailbox: "bob@example.com",
  },
  Lucía: {
    address: getAddress("0x000000000000000000000000000000000000c1a1"),
    phone: "+15550100203",
    mailbox: "lucia@example.org",
  },
  Chloé: {
    address: getAddress("0x000000000000000000000000000000000000c4e1"),
    phone: "+15550100204",
    mailbox: "chloe@example.org",
  },
  Jonas: {
    address: getAddress("0x000000000000000000000000000000000000a0a5"),
    phone: "+15550100205",
    mailbox: "jonas@example.org",
  },
};
const contacts: Contacts = {
  lookup: (name, kind) => {
    const found = Object.entries(BOOK).find(([n]) => n.toLowerCase() === name.trim().toLowerCase());
    return found ? { name: found[0], value: found[1][kind] } : undefined;
  },
};
const settings = { "personal-email": "saul@example.com" };

const LANGS = ["en", "es", "fr", "de"] as const;
type Lang = (typeof LANGS)[number];

const address = fc.stringMatching(/^[0-9a-f]{40}$/).map((h) => getAddress(`0x${h}`));
const phone = fc.integer({ min: 1000, max: 9999 }).map((n) => `+1555010${n}`);
const mailbox = fc.stringMatching(/^[a-z]{3,8}$/).map((l) => `${l}@example.net`);
/** Thousandths of an ether, written with a dot, or a comma in the languages that write one. */
const thousandths = fc.integer({ min: 1, max: 999 });
const written = (n: number, lang: Lang) => {
  const digits = `0.${String(n).padStart(3, "0")}`;
  return `${lang === "en" ? digits : digits.replace(".", ",")} ETH`;
};
const name = fc.constantFrom(...Object.keys(BOOK));

/** A clause that asks, in one language: a payment, a text or a mail, to a contact or a value written out. */
const clause = fc.oneof(
  fc
    .record({ lang: fc.constantFrom(...LANGS), to: fc.oneof(name, address), n: thousandths, form: fc.nat(2) })
    .map(({ lang, to, n, form }) => {
      const a = written(n, lang);
      const forms: Record<Lang, string[]> = {
        en: [`pay ${to} ${a}`, `send ${a} to ${to}`, `can you pay ${to} ${a}`],
        es: [`paga a ${to} ${a}`, `envía ${a} a ${to}`, `transfiere ${a} a ${to}`],
        fr: [`paie ${to} ${a}`, `envoie ${a} à ${to}`, `verse ${a} à ${to}`],
        de: [`zahle ${to} ${a}`, `überweise ${a} an ${to}`, `schick ${to} ${a}`],
      };
      return forms[lang][form] ?? "";
    }),
  fc
    .record({ lang: fc.constantFrom(...LANGS), to: fc.oneof(name, phone), form: fc.nat(1) })
    .map(({ lang, to, form }) => {
      const forms: Record<Lang, string[]> = {
        en: [`text ${to} that we are late`, `send a text to ${to}: we are late`],
        es: [`escribe a ${to} que llegamos tarde`, `manda un sms a ${to} diciendo que llegamos tarde`],
        fr: [`envoie un sms à ${to} pour dire que nous arrivons`, `écris à ${to} que nous arrivons`],
        de: [`schreib ${to} eine SMS, dass wir später kommen`, `schick ${to} eine Nachricht: wir kommen später`],
      };
      return forms[lang][form] ?? "";
    }),
  fc.record({ lang: fc.constantFrom(...LANGS), to: fc.oneof(name, mailbox, fc.constant("me")) }).map(({ lang, to }) => {
    const forms: Record<Lang, string> = {
      en: `mail ${to} about the trip`,
      es: `manda un correo a ${to} sobre el viaje`,
      fr: `envoie un mail à ${to} au sujet du voyage`,
      de: `schick ${to} eine Mail wegen der Reise`,
    };
    return forms[lang];
  }),
);

/** Each kind of part that asks for nothing, in each language, around a clause. */
const MARKERS: readonly ((c: string) => string)[] = [
  (c) => `if Bob asks, ${c}`,
  (c) => `when the bill comes, ${c}`,
  (c) => `I was going to ${c}, but no`,
  (c) => `${c} — just kidding`,
  (c) => `${c}? No way.`,
  (c) => `remind me to ${c}`,
  (c) => `tomorrow ${c}`,
  (c) => `I got a text: ${c}`,
  (c) => `Fwd: ${c}`,
  (c) => `they wanted me to ${c}`,
  (c) => `if anyone asks you to ${c}, ignore them`,
  (c) => `\`${c}\``,
  (c) => `\`\`\`\n${c}\n\`\`\``,
  (c) => `should I ${c}?`,
  (c) => `si Javier lo pide, ${c}`,
  (c) => `cuando llegue la factura, ${c}`,
  (c) => `${c}, es broma`,
  (c) => `¿${c}? Ni hablar.`,
  (c) => `recuérdame: ${c}`,
  (c) => `mañana ${c}`,
  (c) => `me llegó un mensaje: ${c}`,
  (c) => `Javier dice que ${c}`,
  (c) => `ayer: ${c}`,
  (c) => `si Julien demande, ${c}`,
  (c) => `quand la facture arrive, ${c}`,
  (c) => `${c}, je plaisante`,
  (c) => `${c} ? Pas question.`,
  (c) => `rappelle-moi : ${c}`,
  (c) => `demain, ${c}`,
  (c) => `j'ai reçu un sms : ${c}`,
  (c) => `Julien dit que ${c}`,
  (c) => `wenn Greta fragt, ${c}`,
  (c) => `falls die Rechnung kommt, ${c}`,
  (c) => `${c}, nur ein Scherz`,
  (c) => `${c}? Auf keinen Fall.`,
  (c) => `erinnere mich: ${c}`,
  (c) => `morgen: ${c}`,
  (c) => `WG: ${c}`,
  (c) => `Greta sagt, ${c}`,
  (c) => `gestern: ${c}`,
];

/** The worst chooser: every contact, setting, "me" and value written, with every number written as an amount, as every act. */
function everyValue(text: string): ChosenAct[] {
  const values = text.match(/0x[0-9a-fA-F]{40}|\+[\d ().-]*\d|[^\s<>()`:,]+@[^\s<>()`:,]+\.[a-z]+/g) ?? [];
  const recipients = [...new Set([...Object.keys(BOOK), ...Object.keys(settings), "me", ...values])];
  const amounts = [...new Set((text.match(/\d+(?:[.,]\d+)?/g) ?? []).map((n) => `${n.replace(",", ".")} ETH`))];
  return recipients.flatMap((to) => [
    ...amounts.map((amount): ChosenAct => ({ act: "pay", to, amount })),
    { act: "text", to },
    { act: "mail", to },
  ]);
}

describe("generated requests in four languages", () => {
  test.prop([clause, fc.constantFrom(...MARKERS)], { numRuns: 100 })(
    "a clause that asks, wrapped in any part that asks for nothing in any language, binds nothing, whatever a chooser chooses",
    (c, wrap) => {
      const text = wrap(c);
      const request = readRequest(text);
      const facts = { request, contacts, settings };
      expect(bindActs(everyValue(text), facts).acts, text).toEqual([]);
      expect(bindActs(chooseByRule(request), facts).acts, text).toEqual([]);
      // The same clause alone asks: the grammar binds it.
      const alone = readRequest(c);
      expect(bindActs(chooseByRule(alone), { ...facts, request: alone }).acts.length, c).toBeGreaterThan(0);
    },
  );

  const payments = fc.record({
    lang: fc.constantFrom(...LANGS),
    form: fc.nat(1),
    pairs: fc.uniqueArray(fc.record({ to: fc.oneof(name, address), n: thousandths }), {
      minLength: 2,
      maxLength: 3,
      selector: (p) => p.n,
    }),
  });
  /** A list of payments: "pay A 0.01 ETH and B 0.02 ETH", "send 0.01 ETH to A and 0.02 ETH to B", in one language. */
  const list = ({ lang, form, pairs }: { lang: Lang; form: number; pairs: { to: string; n: number }[] }) => {
    const [and, verbs] = {
      en: ["and", ["pay", "send"]],
      es: ["y", ["paga a", "envía"]],
      fr: ["et", ["paie", "envoie"]],
      de: ["und", ["zahle", "überweise"]],
    }[lang] as [string, string[]];
    const to = { en: "to", es: "a", fr: "à", de: "an" }[lang];
    const items = pairs.map((p) =>
      form === 0 ? `${lang === "es" ? "a " : ""}${p.to} ${written(p.n, lang)}` : `${written(p.n, lang)} ${to} ${p.to}`,
    );
    const body = `${items.slice(0, -1).join(", ")} ${and} ${items.at(-1)}`;
    return `${verbs[form]} ${form === 0 && lang === "es" ? body.slice(2) : body}`;
  };
  const walletOf = (to: string) => BOOK[to]?.address ?? to;

  test.prop([payments], { numRuns: 100 })(
    "a list of payments binds each amount to its own recipient only, whatever a chooser pairs; the grammar binds each once",
    (g) => {
      const text = list(g);
      const request = readRequest(text);
      const asked = g.pairs.map((p) => `${walletOf(p.to)} ${parseEther(`0.${String(p.n).padStart(3, "0")}`)}`);
      const key = (a: { target: string; amountWei: bigint }) => `${a.target} ${a.amountWei}`;
      const any = bindActs(everyValue(text), { request, contacts, settings });
      for (const a of any.acts) expect(asked, text).toContain(key(a));
      const faithful = bindActs(chooseByRule(request), { request, contacts, settings });
      expect(faithful.acts.map(key).sort(), text).toEqual([...asked].sort());
    },
  );

  test.prop([
    fc.constantFrom("ill", "jk", "if", "no", "nvm", "later", "ayer", "hier", "morgen", "si", "wenn", "fwd"),
    fc.constantFrom(...LANGS),
  ])(
    "a value spelled with a marker's word is read where it asks: no marker is ever a piece of a value",
    (word, lang) => {
      const to = `${word}@${word}.net`;
      const text = {
        en: `mail ${to} about the trip`,
        es: `manda un correo a ${to}`,
        fr: `envoie un mail à ${to}`,
        de: `schick ${to} eine Mail`,
      }[lang];
      const request = readRequest(text);
      expect(request.notAsked, text).toEqual([]);
      expect(
        bindActs(chooseByRule(request), { request }).acts.map((a) => a.target),
        text,
      ).toEqual([to]);
    },
  );
});
