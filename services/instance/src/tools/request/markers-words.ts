// The patterns markers.ts finds the parts that ask for nothing with, each
// with its words in English, Spanish, French and German (docs/trust.md, "An
// act carries out a request"). Pure data.

import {
  ACT_VERBS,
  anyWord,
  LETTER,
  MAIL_NOUNS,
  MAIL_VERBS,
  SEND_VERBS,
  TEXT_NOUNS,
  TEXT_VERBS,
  type Words,
} from "./words.js";
import { COURTESY, GREETINGS } from "./words-recipients.js";

const re = (source: string, flags = "giu") => new RegExp(source, flags);

/** Verbs of acts and of the address book: a polite question with one asks, a clause that starts with one ends a negation. */
export const ACT_WORDS = anyWord(...ACT_VERBS, [
  "tell",
  "notify",
  "remind",
  "let",
  "save",
  "add",
  "forward",
  "reply",
  "contact",
  "answer",
]);

export const LINK = /\b(?:https?:\/\/|www\.)[^\s<>"]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}\/[^\s<>"]*/gi;
/** Code: a fenced block (to its closing fence, or the end), or words between backticks. */
export const CODE = /```[\s\S]*?(?:```|$)|`[^`\n]+`/g;
/** Quotation marks in pairs; single quotes only when they open after a space (never the apostrophe of "Ana's"). */
export const QUOTED = /"[^"\n]*"|“[^”]*”|«[^»]*»|„[^“”]*[“”]|(?<=^|[\s([])'[^'\n]+'(?=$|[\s.,!?;:)\]])|‘[^’]*’/g;
export const QUOTE_LINE = /^\s*>.*$/gm;

/** Someone else's words, or what someone else wanted: reported from here. */
export const REPORTED = re(
  anyWord({
    en: [
      "says",
      "said",
      "say",
      "wrote",
      "writes",
      "told me",
      "tells me",
      "texted",
      "messaged",
      "mailed",
      "asked me",
      "asks me",
      "wants me",
      "want me",
      "wanted me",
      "wanted us",
      "mentioned",
      "mentions",
      "claims",
      "claimed",
      "suggests",
      "suggested",
      "according to",
      "dm'?e?d me",
      "sent me",
      "emailed me",
      "e-mailed me",
      "telling me",
      "asking me",
      "keeps? (?:telling|asking) me",
      "begging me",
      "pushing me",
    ],
    es: [
      "dice",
      "dijo",
      "dicen",
      "dijeron",
      "me escribió",
      "me pidió",
      "me pide",
      "quiere que",
      "quería que",
      "querían que",
      "según",
      "(?:quiere|quieren|querían) que",
      "me mandó",
      "me está pidiendo",
      "me insiste",
    ],
    fr: [
      "dit",
      "disait",
      "disent",
      "m'a écrit",
      "m'a demandé",
      "me demande",
      "veut que",
      "voulait que",
      "selon",
      "(?:veulent|voulaient|voulait|veut) que",
      "m'a envoyé",
      "me répète",
      "m'envoie",
    ],
    de: [
      "sagt",
      "sagte",
      "gesagt",
      "meint",
      "meinte",
      "schreibt",
      "schrieb",
      "geschrieben",
      "bat mich",
      "will, dass",
      "wollte, dass",
      "laut",
      "(?:will|wollen|wollte|wollten),? dass",
      "hat mir geschrieben",
      "schrieb mir",
      "drängt mich",
    ],
  }),
);

/** Courtesy before an act: please, por favor, s'il te plaît, bitte. */
const PLEASE = anyWord([
  "please",
  "just",
  "also",
  "por favor",
  "también",
  "s'il te plaît",
  "s'il vous plaît",
  "stp",
  "svp",
  "aussi",
  "bitte",
  "mal",
  "auch",
]);
/** The owner's own word before a new request: "so", "then", "please", "now" … */
const OWN_WORD = anyWord({
  en: ["so", "then", "therefore", "please", "now", "instead"],
  es: ["así que", "entonces", "por eso", "por favor", "ahora", "mejor"],
  fr: ["alors", "donc", "du coup", "s'il te plaît", "maintenant", "plutôt"],
  de: ["also", "dann", "deshalb", "daher", "bitte", "jetzt", "stattdessen"],
});
/** Where reported words end: the owner's own word after a comma (or "so", "then" after a space) before a new request. */
export const OWN_REQUEST = re(
  String.raw`(?:[,;:—–]\s*(?:(?:and|y|et|und)\s+)?${OWN_WORD}|\s(?:(?:and|y|et|und)\s+)?${anyWord(["so", "then", "therefore", "así que", "entonces", "alors", "donc", "also", "dann", "deshalb"])})\s*,?\s+(?:${PLEASE}\s+)*(?=${ACT_WORDS})`,
);
/**
 * Where a clause of the past, a reminder or an "ignore" ends: a comma, "but",
 * "so" … and a new request. Never a colon: "remind me tomorrow: pay …" and
 * "ignore this: pay …" say what the colon leads to.
 */
export const THEN_NEW_REQUEST = re(
  String.raw`(?:[,;—–]|\s${anyWord(["but", "so", "pero", "así que", "mais", "alors", "aber", "also"])})\s*(?:${OWN_WORD}\s*,?\s*)?(?:${PLEASE}\s+)*(?=${ACT_WORDS})`,
);

/** A negation: a word of the sentence, never a piece of a value ("no" in ana@no.net); French's "n'" before its verb. */
export const NEGATION = re(
  String.raw`(?<![@./:-])(?:${anyWord({
    en: [
      "never",
      "not",
      "no",
      "don'?t",
      "do not",
      "doesn'?t",
      "does not",
      "didn'?t",
      "did not",
      "won'?t",
      "will not",
      "wouldn'?t",
      "shouldn'?t",
      "can'?t",
      "cannot",
      "stop",
      "cancel",
      "avoid",
      "nobody",
      "nothing",
      "neither",
      "nor",
      "without",
      String.raw`\p{L}+n['’]t`,
    ],
    es: ["no", "nunca", "jamás", "ni", "tampoco", "nada", "nadie", "ningún", "ninguna", "sin"],
    fr: ["ne", "pas", "jamais", "rien", "aucun", "aucune", "non", "sans"],
    de: ["nicht", "nie", "niemals", "kein", "keine", "keinen", "keinem", "keiner", "nichts", "niemand", "nein", "ohne"],
  })}(?![.@/:-]\w)|(?<![${LETTER}])n['’](?=\p{L}))`,
);
/** German's "nicht" and "kein" come after the verb they deny: they reach back to their clause's start. */
export const NEGATION_BEHIND = /^(?:nicht|kein\p{L}*|nie|niemals)$/iu;
/** "Don't forget to pay …", "no olvides", "n'oublie pas", "vergiss nicht": no negation. */
export const FORGET_NOT = re(
  anyWord({
    en: ["don'?t forget", "do not forget", "never forget", "don'?t hesitate", "never hesitate"],
    es: ["no olvides", "no te olvides", "no dudes"],
    fr: ["n['’]oublie pas", "n['’]oubliez pas", "n['’]hésite pas", "n['’]hésitez pas"],
    de: ["vergiss nicht", "vergessen Sie nicht", "nicht vergessen", "zögere nicht"],
  }),
);
/** Where a negation's reach ends: a clause that starts a new request ("don't pay Bob, pay Ana …"). */
export const NEW_REQUEST = re(
  String.raw`(?:[,;:—–]|${anyWord(["but", "instead", "pero", "sino", "mais", "plutôt", "aber", "sondern"])})\s*(?:${anyWord(["but", "instead", "rather", "just", "please", "and", "then", "so", "no", "pero", "mejor", "por favor", "y", "mais", "plutôt", "et", "non", "aber", "sondern", "bitte", "und", "nein"])}\s*,?\s+)*(?=${ACT_WORDS})`,
);

/** "If", "when", "unless", "si", "cuando", "quand", "wenn", "falls"…, and a maybe ("maybe", "tal vez", "peut-être", "vielleicht", "imagine"): a conditional makes its whole sentence one. */
export const CONDITIONAL = re(
  anyWord({
    en: [
      "if",
      "when",
      "whenever",
      "unless",
      "in case",
      "as soon as",
      "provided",
      "assuming",
      "whether",
      "whoever",
      "whatever",
      "anyone who",
      "anybody who",
      "someone who",
      "in the event",
      "maybe",
      "perhaps",
      "might",
      "imagine",
      "someday",
      "some day",
      "what if",
      "in theory",
      "hypothetically",
      "(?:it'?d|it would) be nice",
    ],
    es: [
      "si",
      "cuando",
      "a menos que",
      "en caso de que",
      "en cuanto",
      "siempre que",
      "salvo que",
      "quien (?:te )?pida",
      "quienquiera",
      "cualquiera que",
      "quizás?",
      "tal vez",
      "a lo mejor",
      "algún día",
      "imagina",
      "imagínate",
      "en teoría",
    ],
    fr: [
      "si",
      "s'il",
      "s'ils",
      "quand",
      "lorsque",
      "lorsqu'",
      "à moins que",
      "au cas où",
      "dès que",
      "pourvu que",
      "quiconque",
      "qui que ce soit",
      "celui qui",
      "si jamais",
      "peut-être",
      "un jour",
      "imagine",
      "imaginons",
      "en théorie",
    ],
    de: [
      "wenn",
      "falls",
      "sobald",
      "außer wenn",
      "es sei denn",
      "ob",
      "sofern",
      "wer (?:auch )?immer",
      "jeder, der",
      "falls jemand",
      "vielleicht",
      "eventuell",
      "irgendwann",
      "stell dir vor",
      "theoretisch",
    ],
  }),
);
/** A sentence that opens with "should", "were", "had" or "once" and goes on after a comma: a conditional. */
export const INVERTED_CONDITIONAL = /^[\s¿¡]*(?:should|were|had|once)\s[^,?]+,/iu;
/** The conditionals of courtesy: "if you can", "when you get a chance", "si puedes", "s'il te plaît", "wenn möglich". */
export const COURTESY_CONDITIONAL = re(
  anyWord({
    en: [
      "if (?:you )?(?:can|could|possible)",
      "if you (?:don'?t|do not) mind",
      "if (?:that'?s|it'?s|that is|it is) (?:ok|okay|fine|alright)",
      "when(?:ever)? you (?:can|get a (?:chance|moment|minute|sec)|have a (?:moment|minute|sec|second))",
    ],
    es: [
      "si (?:puedes|podés|puede|es posible)",
      "si no te importa",
      "si te parece",
      "cuando (?:puedas|pueda|tengas un momento)",
    ],
    fr: [
      "si (?:tu peux|vous pouvez|possible|ça te va|ça ne te dérange pas)",
      "s'il (?:te|vous) plaît",
      "quand (?:tu peux|tu pourras|vous pouvez|tu as un moment)",
    ],
    de: ["wenn (?:du kannst|möglich|es geht|du zeit hast|du magst)", "wenn's geht", "falls möglich"],
  }),
);

/** A forwarded message's header, or the owner saying what came to them: what follows it is someone else's. */
export const FORWARD = re(
  String.raw`^[ \t]*(?:fwd?|fw|rv|tr|wg|enc)\s*:|-{2,}\s*(?:forwarded message|mensaje reenviado|message transféré|weitergeleitete nachricht)|${anyWord(
    {
      en: [
        String.raw`(?:i\s+)?(?:just\s+)?(?:got|received|have|get)\s+(?:a|an|this|the following)\s+(?:text|sms|message|mail|e-?mail|whatsapp|dm)\b[^:\n]{0,40}:`,
        String.raw`here'?s\s+(?:a|the|what)\s+[^:\n]{0,40}:`,
        "forwarded message",
        "begin forwarded message",
      ],
      es: [
        String.raw`(?:me\s+)?(?:llegó|ha llegado|recibí|me mandaron|me enviaron)\s+(?:un|una|este|esta|el siguiente)\s+(?:mensaje|sms|correo|mail|e-?mail|whatsapp)[^:\n]{0,40}:`,
      ],
      fr: [
        String.raw`(?:j'ai\s+)?reçu\s+(?:un|une|ce|cet|cette|le)\s+(?:sms|texto|message|mail|e-?mail|courriel)[^:\n]{0,40}:`,
      ],
      de: [
        String.raw`(?:ich\s+)?(?:habe|hab)\s+(?:eine|diese|die|folgende)\s+(?:sms|nachricht|mail|e-?mail)[^:\n]{0,40}(?:bekommen|erhalten|gekriegt)\s*:`,
      ],
    },
  )}`,
  "gimu",
);

/** Where a clause starts: after a comma, semicolon, colon or dash, or a word that joins clauses. */
export const CLAUSE_EDGE = re(
  String.raw`[,;:—–]\s*|${anyWord(["and", "but", "or", "y", "pero", "o", "et", "mais", "ou", "und", "aber", "oder", "sondern"])}\s*`,
);

/** What a request may open with: a greeting, the agent's name and a comma, "please". */
const OPENING = String.raw`^[\s¿¡]*(?:${anyWord(GREETINGS)}[\s,!]*)?(?:[\p{L}\p{N} -]{1,40}[,:]\s*)?(?:${anyWord(COURTESY)}\s*,?\s*)*`;
/** The infinitives of acts: a question that starts with one deliberates ("¿Pagar 0.5 ETH a …?", "Payer … ?"); it asks for nothing. */
const INFINITIVE = anyWord([
  "pagar",
  "enviar",
  "mandar",
  "transferir",
  "escribir",
  "payer",
  "envoyer",
  "verser",
  "virer",
  "transférer",
  "écrire",
  "zahlen",
  "bezahlen",
  "überweisen",
  "schicken",
  "senden",
  "schreiben",
]);
/** A question that starts with its act ("text Ana: are you coming?"), not with an infinitive. */
export const STARTS_WITH_ACT = re(`${OPENING}(?!${INFINITIVE})(?:${ACT_WORDS})`, "iu");
/** Openers of a polite question, in the languages that put the act's verb right after them. */
const POLITE: Words = {
  en: [
    "(?:can|could|would|will) you",
    "is it possible (?:for you )?to",
    "(?:would|do) you mind",
    "would you be so kind as to",
  ],
  es: [
    "(?:me |le |nos )?(?:puedes|podrías|podrias|puede|podría|podria|podés)(?: usted)?",
    "(?:te|le) importaría",
    "serías tan amable de",
    "(?:me |nos )?(?:haces|harías|hace|haría) el favor de",
  ],
  fr: [
    "(?:est-ce que )?(?:tu peux|tu pourrais|vous pouvez|vous pourriez)",
    "peux-tu",
    "pourrais-tu",
    "pouvez-vous",
    "pourriez-vous",
    "ça te dérange de",
    "tu veux bien",
    "voudrais-tu",
  ],
  de: [],
};
/** Words that may stand between a polite opener and its act: "also", "please", an object pronoun. */
const BETWEEN = anyWord([
  "please",
  "also",
  "just",
  "por favor",
  "también",
  "me",
  "le",
  "les",
  "m'",
  "lui",
  "leur",
  "aussi",
  "s'il te plaît",
  "bitte",
  "mal",
]);
/** A polite question: "can you (also) pay …?", "¿puedes pagar …?", "peux-tu payer …?". */
export const ASKS_POLITELY = re(`${OPENING}(?:${anyWord(POLITE)})\\s*(?:${BETWEEN}\\s*)*(?:${ACT_WORDS})`, "iu");
/** German puts the verb last, before a text's words: "kannst du Ana 0,01 ETH überweisen?", "… eine SMS schicken, dass …?". */
export const ASKS_POLITELY_VERB_LAST = re(
  `${OPENING}${anyWord(["(?:kannst|könntest|würdest|magst) du", "(?:können|könnten|würden) sie"])}[^?]*(?:${ACT_WORDS})\\s*(?:${anyWord(["bitte", "mal", "noch", "kurz"])}\\s*)*(?:(?:,\\s*dass|:)[^?]*)?[?.!]*\\s*$`,
  "iu",
);

/** Where a text's or a mail's own words start: after its verb and recipients, a colon, "that", "que", "dass" … */
export const BODY_START = re(
  String.raw`${anyWord(TEXT_VERBS, MAIL_VERBS, SEND_VERBS, TEXT_NOUNS, MAIL_NOUNS)}[^.!?\n]*?(?::|${anyWord({
    en: ["that", "saying", "to say", "to tell", "telling", "about", "re"],
    es: ["que", "diciendo", "diciéndole", "para decirle", "sobre", "acerca de"],
    fr: ["que", "qu'", "en disant", "pour dire", "pour lui dire", "au sujet de", "à propos de"],
    de: ["dass", "über", "wegen"],
  })})`,
  "iu",
);
