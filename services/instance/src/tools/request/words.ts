// The words the request's reader knows (docs/trust.md, "An act carries out
// a request"), in the four languages owners write to their agents in:
// English, Spanish, French and German. Each list is one job: the verbs that
// ask for an act, the words that turn a clause into one that asks for
// nothing (a conditional, a forward, a reminder, a joke taken back...), the
// words a recipient is written with. The lists are read together, whatever
// the language of the message: a message may mix them, and no word here
// means one thing in one language and another job in the next. Pure data,
// and the one helper that makes a list a pattern.

/** The languages the lists hold, in this order. */
export type Language = "en" | "es" | "fr" | "de";

/** A list of words (regular-expression fragments), by language. */
export type Words = Readonly<Record<Language, readonly string[]>>;

/** Letters, digits and their marks, in any script: what a word is made of (`\b` knows only ASCII). */
export const LETTER = String.raw`\p{L}\p{N}\p{M}`;

/**
 * `words` (regular-expression fragments, in any of the lists' languages) as
 * one alternation that matches whole words only, longest first.
 */
export function anyWord(...lists: readonly (Words | readonly string[])[]): string {
  const all = lists.flatMap((l): readonly string[] => (isList(l) ? l : Object.values(l).flat()));
  const sorted = [...new Set(all)].sort((a, b) => b.length - a.length);
  return `(?<![${LETTER}])(?:${sorted.join("|")})(?![${LETTER}])`;
}

const isList = (l: Words | readonly string[]): l is readonly string[] => Array.isArray(l);

/** `lists` as one list, language by language. */
function merged(...lists: readonly Words[]): Words {
  const of = (language: Language) => lists.flatMap((l) => l[language]);
  return { en: of("en"), es: of("es"), fr: of("fr"), de: of("de") };
}

/** A noun of `nouns`, an article before it or not: "a text", "mail", "un correo". */
export function nounPhrase(...nouns: readonly Words[]): string {
  return `(?:${anyWord(NOUN_ARTICLES)}\\s+)?${anyWord(...nouns)}`;
}

// ---- the acts ----

/** Verbs that send money or words alike ("send", "manda", "envoie", "schick"): a payment's verbs and a message's both. */
const SENDING: Words = {
  en: ["send", "sending"],
  es: [
    "envía",
    "envia",
    "envíe",
    "enviar",
    "envíale",
    "enviale",
    "envíales",
    "manda",
    "mande",
    "mandar",
    "mándale",
    "mandale",
    "mándales",
    "mandarle",
    "mandarles",
    "enviarle",
    "enviarles",
    "mandes",
    "envíes",
  ],
  fr: ["envoie", "envoies", "envoyez", "envoyer"],
  de: ["schick", "schicke", "schicken", "send", "sende", "senden"],
};

/** Verbs that ask for a payment: the imperative, the infinitive a polite question takes, the -ing form after "would you mind". */
export const PAY_VERBS: Words = merged(SENDING, {
  en: [
    "pay",
    "tip",
    "reimburse",
    "refund",
    "transfer",
    "give",
    "wire",
    "paying",
    "tipping",
    "reimbursing",
    "refunding",
    "transferring",
    "giving",
    "wiring",
    "put",
    "deposit",
    "settle",
    "putting",
    "depositing",
  ],
  es: [
    "paga",
    "pague",
    "pagar",
    "págale",
    "pagale",
    "págales",
    "págalo",
    "págame",
    "transfiere",
    "transfiera",
    "transferir",
    "transfiérele",
    "transfierele",
    "pásale",
    "pasale",
    "dale",
    "devuelve",
    "devuélvele",
    "reembolsa",
    "pagues",
    "envies",
    "transfieras",
    "pagarle",
    "pagarles",
    "transferirle",
    "pon",
    "ponle",
    "pone",
    "deposita",
    "mete",
  ],
  fr: [
    "paie",
    "paye",
    "payez",
    "payer",
    "verse",
    "versez",
    "verser",
    "vire",
    "virez",
    "virer",
    "transfère",
    "transfere",
    "transférez",
    "transférer",
    "rembourse",
    "remboursez",
    "rembourser",
    "donne",
    "donnez",
    "paies",
    "payes",
    "verses",
    "vires",
    "règle",
    "réglez",
    "régler",
    "mets",
    "mettez",
    "mettre",
    "dépose",
    "déposez",
  ],
  de: [
    "zahl",
    "zahle",
    "zahlen",
    "bezahl",
    "bezahle",
    "bezahlen",
    "überweis",
    "überweise",
    "überweisen",
    "gib",
    "geben",
    "erstatte",
    "erstatten",
    "leg",
    "lege",
    "legen",
    "zahlst",
    "überweist",
  ],
});

/** Verbs that ask for a text. */
export const TEXT_VERBS: Words = {
  en: ["text", "sms", "message", "msg", "write", "texting", "messaging", "writing"],
  es: [
    "escribe",
    "escriba",
    "escribir",
    "escríbele",
    "escribele",
    "escríbeles",
    "escríbeme",
    "escribeme",
    "escribirle",
    "escribirles",
    "escribas",
  ],
  fr: ["écris", "ecris", "écrivez", "écrire", "texte", "textez", "écrives"],
  de: ["schreib", "schreibe", "schreiben", "simse"],
};

/** Verbs that ask for a mail, or send one on ("forward … to", "reply to"). */
export const MAIL_VERBS: Words = {
  en: ["e-?mail", "mail", "e-?mailing", "mailing", "forward", "reply", "answer"],
  es: ["reenvía", "reenvia", "responde"],
  fr: ["réponds", "répondez"],
  de: ["maile", "mailen", "antworte", "leite", "leit"],
};

/** Verbs that send or write whatever their object is: a text or a mail by its noun ("send a text to …", "schick Greta eine SMS"). */
export const SEND_VERBS: Words = merged(SENDING, {
  en: ["write", "writing", "let"],
  es: [
    "envíame",
    "enviame",
    "mándame",
    "mandame",
    "escribe",
    "escriba",
    "escribir",
    "escríbele",
    "escribele",
    "escríbeme",
    "escribeme",
    "mandarme",
    "enviarme",
    "escribirle",
    "escribirme",
    "avisa",
    "avísale",
    "avisale",
  ],
  fr: ["écris", "ecris", "écrivez", "écrire", "préviens", "prévenir"],
  de: ["schreib", "schreibe", "schreiben"],
});

/** Every verb that asks for an act: to pay, to text, to mail, to send. */
export const ACT_VERBS: readonly Words[] = [PAY_VERBS, TEXT_VERBS, MAIL_VERBS, SEND_VERBS];

/** What a text is called: "send a text", "manda un sms", "envoie un texto", "schick eine SMS". */
export const TEXT_NOUNS: Words = {
  en: ["text(?: message)?", "sms", "message", "msg", "whatsapp"],
  es: ["sms", "mensaje", "mensajito", "texto", "whatsapp"],
  fr: ["sms", "texto", "message", "whatsapp"],
  de: ["sms", "nachricht", "textnachricht", "whatsapp"],
};

/** What a mail is called: "send an email", "manda un correo", "envoie un courriel", "schick eine E-Mail". */
export const MAIL_NOUNS: Words = {
  en: ["e-?mail", "mail"],
  es: ["correo(?: electrónico)?", "e-?mail", "mail"],
  fr: ["courriel", "e-?mail", "mail"],
  de: ["e-?mail", "mail"],
};

/** The articles before those nouns. */
export const NOUN_ARTICLES: Words = {
  en: ["an?", "the", "one"],
  es: ["una?", "el", "la"],
  fr: ["une?", "le", "la"],
  de: ["eine?", "die", "das"],
};

/** Verbs that carry a recipient of their own: the owner ("mándame", "escríbeme": to me). */
export const TO_ME_VERBS: Words = {
  en: [],
  es: [
    "mándame",
    "mandame",
    "envíame",
    "enviame",
    "escríbeme",
    "escribeme",
    "págame",
    "mandarme",
    "enviarme",
    "escribirme",
    "pagarme",
  ],
  fr: [],
  de: [],
};

/** Verbs that carry a pronoun for their recipient ("págale", "escríbele": to him, to her). */
export const TO_THEM_VERBS: Words = {
  en: [],
  es: [
    "págale",
    "pagale",
    "págales",
    "págalo",
    "envíale",
    "enviale",
    "envíales",
    "mándale",
    "mandale",
    "mándales",
    "transfiérele",
    "transfierele",
    "pásale",
    "pasale",
    "dale",
    "devuélvele",
    "escríbele",
    "escribele",
    "escríbeles",
    "pagarle",
    "pagarles",
    "enviarle",
    "enviarles",
    "mandarle",
    "mandarles",
    "transferirle",
    "escribirle",
    "escribirles",
    "avísale",
    "avisale",
  ],
  fr: [],
  de: [],
};
