// The words a request writes its recipients with (clauses.ts,
// recipients.ts), in English, Spanish, French and German: the owner ("me"),
// a pronoun, the words around a name, what joins a list, what leads from an
// amount to its recipient, where a text's own words start, counts, courtesy.
// Pure data.

import type { Words } from "./words.js";

/** The owner, as a recipient: "mail me", "envoie-moi un mail", "schick mir eine Mail". */
export const ME: Words = {
  en: ["me", "myself"],
  es: ["me", "mí", "mi mismo"],
  fr: ["moi", "me", "m'"],
  de: ["mir", "mich"],
};

/** A recipient named before: "pay Ana 0.01 ETH and text her", "I owe 0x… 0.02 ETH, please pay it". */
export const PRONOUNS: Words = {
  en: ["her", "him", "them", "it"],
  es: ["le", "les", "lo", "la", "los", "las"],
  fr: ["lui", "leur", "le", "la", "les"],
  de: ["ihm", "ihr", "ihn", "sie", "ihnen"],
};

/**
 * Words around a recipient's name that are not the name: "to", "back", and
 * what a request starts with ("can you", "please", "Sie", "bitte").
 */
export const AROUND_NAMES: Words = {
  en: ["to", "back", "please", "also", "just", "now", "can", "could", "would", "will", "you", "instead", "rather"],
  es: ["a", "por favor", "también", "puedes", "podrías", "podrias", "puede", "podría", "usted", "mejor", "en cambio"],
  fr: [
    "à",
    "s'il te plaît",
    "s'il vous plaît",
    "stp",
    "svp",
    "aussi",
    "peux-tu",
    "pourrais-tu",
    "pouvez-vous",
    "pourriez-vous",
    "tu",
    "vous",
    "peux",
    "pourrais",
    "plutôt",
  ],
  de: [
    "an",
    "bitte",
    "auch",
    "mal",
    "kannst",
    "könntest",
    "können",
    "könnten",
    "würdest",
    "du",
    "Sie",
    "zurück",
    "stattdessen",
    "lieber",
  ],
};

/** Articles and possessives a name may be written with: "the landlord", "my accountant", "mi contable", "au propriétaire", "meinem Vermieter". */
export const DETERMINERS: Words = {
  en: ["my", "our", "the"],
  es: ["al", "mi", "mis", "nuestro", "nuestra", "el", "la", "los", "las"],
  fr: ["au", "aux", "mon", "ma", "mes", "notre", "le", "la", "les", "l'"],
  de: ["mein", "meine", "meinem", "meinen", "meiner", "unserem", "unseren", "der", "die", "das", "dem", "den"],
};

/** What joins a recipient or an amount to the next one of a list: "Ana 0.01 and Bob 0.02 ETH". */
export const AND: Words = {
  en: ["and", "&", "plus", "then", "and then"],
  es: ["y", "e", "luego", "y luego", "después"],
  fr: ["et", "puis", "et puis", "ensuite"],
  de: ["und", "dann", "und dann", "sowie"],
};

/** What leads from an amount to its recipient: "send 0.01 ETH to Ana", "put 0.1 ETH in my savings wallet". */
export const TO: Words = {
  en: ["to", "in", "into", "onto"],
  es: ["a", "al", "en"],
  fr: ["à", "au", "aux", "sur", "dans"],
  de: ["an", "auf", "in"],
};

/** What makes the words before an amount a thing, not a recipient: "the deposit of 0.4 ETH", "una propina de", "la Miete von". */
export const THING_OF: Words = {
  en: ["of", "for"],
  es: ["de", "del", "por", "para"],
  fr: ["de", "du", "des", "d'", "pour"],
  de: ["von", "vom", "für"],
};

/** After an amount, a list's recipients each get it: "pay Ana and Bob 0.01 ETH each". */
export const EACH: Words = {
  en: ["each", "apiece", "to each"],
  es: ["cada uno", "cada una", "a cada uno", "a cada una"],
  fr: ["chacun", "chacune", "à chacun", "à chacune"],
  de: ["jeweils", "je", "pro Person", "jedem"],
};

/**
 * Where a text's or a mail's words start, after its recipients: "text Ana
 * that …", "mail Bob about …", "escribe a Lucía que …", "écris à Chloé que
 * …", "schreib Greta, dass …". A colon starts them too.
 */
export const BODY: Words = {
  en: [
    "that",
    "saying",
    "to say",
    "to tell",
    "telling",
    "about",
    "re",
    "regarding",
    "with",
    "the",
    "a",
    "an",
    "our",
    "my",
    "this",
    "we",
    "i",
    "if",
    "when",
    "please",
    "now",
    "asking",
    "know",
    "by",
    "via",
  ],
  es: [
    "que",
    "diciendo",
    "diciéndole",
    "para decirle",
    "sobre",
    "acerca de",
    "con",
    "el",
    "los",
    "las",
    "un",
    "una",
    "por",
  ],
  fr: [
    "que",
    "qu'",
    "pour dire",
    "pour lui dire",
    "en disant",
    "au sujet de",
    "à propos de",
    "sur",
    "avec",
    "un",
    "une",
    "des",
    "par",
  ],
  de: ["dass", "über", "wegen", "mit", "zum", "eine?", "einen", "per", "Bescheid"],
};

/** What may follow an amount before the count: "pay Ana 0.01 ETH again twice". */
export const BEFORE_COUNT: Words = {
  en: ["again", "more", "please", "in total", "total"],
  es: ["más", "otra vez", "por favor"],
  fr: ["encore", "de plus", "s'il te plaît"],
  de: ["noch", "bitte"],
};

/** Numbers of times a clause may ask for its act: "twice", "3 times", "dos veces", "deux fois", "zweimal". */
export const COUNT_WORDS: Readonly<Record<string, number>> = {
  twice: 2,
  thrice: 3,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  dos: 2,
  tres: 3,
  cuatro: 4,
  cinco: 5,
  seis: 6,
  siete: 7,
  ocho: 8,
  nueve: 9,
  diez: 10,
  deux: 2,
  trois: 3,
  quatre: 4,
  cinq: 5,
  sept: 7,
  huit: 8,
  neuf: 9,
  dix: 10,
  zweimal: 2,
  dreimal: 3,
  viermal: 4,
  fünfmal: 5,
  zwei: 2,
  drei: 3,
  vier: 4,
  fünf: 5,
  sechs: 6,
  sieben: 7,
  acht: 8,
  neun: 9,
  zehn: 10,
};
/** "N times" after a number or a number's word. */
export const TIMES: Words = { en: ["times"], es: ["veces"], fr: ["fois"], de: ["mal", "-mal"] };

/** Words of courtesy a request may hold beside its acts: "Ana 0.01 ETH please", "merci". */
export const COURTESY: Words = {
  en: ["please", "thanks", "thank you", "too", "also", "now", "asap", "pls", "plz", "today"],
  es: ["por favor", "gracias", "también", "ahora", "hoy", "porfa"],
  fr: ["s'il te plaît", "s'il vous plaît", "stp", "svp", "merci", "aussi", "maintenant", "aujourd'hui"],
  de: ["bitte", "danke", "auch", "jetzt", "heute"],
};

/** Greetings a request may open with. */
export const GREETINGS: Words = {
  en: ["hey", "hi", "hello", "ok", "okay", "yo"],
  es: ["hola", "oye", "vale", "buenas"],
  fr: ["salut", "coucou", "bonjour", "ok"],
  de: ["hallo", "hey", "hi", "ok", "moin"],
};
