// When a message's words ask for nothing because of when they stand: what
// was (the past), what will be (a reminder, a time later), and what the
// owner takes back (a joke, a "no", an "ignore"), in English, Spanish,
// French and German (markers.ts). Pure data.

import { anyWord } from "./words.js";

const re = (source: string, flags = "giu") => new RegExp(source, flags);

const DAYS = {
  en: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
  es: ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
  fr: ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
  de: ["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"],
};

/** What the owner once did or meant to do: "I was going to …", "iba a", "j'allais", "ich wollte". Its clause. */
export const PAST = re(
  anyWord({
    en: [
      // The subject may go unsaid: "was going to send Bob 0.05 ETH but he paid me back".
      "(?:i |we )?(?:was|were) (?:going|gonna|about|supposed) to",
      "(?:i |we )?was gonna",
      "(?:i |we )?(?:wanted|meant|had planned|planned|intended) to",
      "already",
    ],
    es: ["iba a", "íbamos a", "quería", "queríamos", "pensaba", "tenía que"],
    fr: ["j'allais", "je voulais", "je comptais", "j'avais prévu", "je devais", "déjà"],
    de: ["ich wollte", "wir wollten", "wollte ich", "ich hatte vor", "bereits"],
  }),
);
/** When in the past: "yesterday", "last week", "ayer", "hier", "gestern" (not "yesterday's lunch"). Its whole sentence. */
export const PAST_TIME = re(
  `${anyWord({
    en: [
      "yesterday",
      `last (?:week|night|month|year|time|${DAYS.en.join("|")})`,
      "the other day",
      "earlier today",
      String.raw`\d+ (?:days|weeks|months) ago`,
    ],
    es: ["ayer", "anoche", "anteayer", "la semana pasada", "el mes pasado", "el otro día"],
    fr: ["hier", "avant-hier", "la semaine dernière", "le mois dernier", "l'autre jour"],
    de: ["gestern", "vorgestern", "letzte woche", "letzten monat", "neulich"],
  })}(?!['’]s)`,
);

/** A reminder, or what the owner will do: "remind me to …", "I'll …", "recuérdame", "je vais", "ich werde". Its clause. */
export const REMINDER = re(
  anyWord({
    en: [
      "remind me",
      "reminder",
      "i'?ll",
      "i will",
      "we'?ll",
      "we will",
      "i'?m (?:going|gonna) to",
      "i am going to",
      "we'?re going to",
      "schedule",
    ],
    es: ["recuérdame", "recuerdame", "recordatorio", "voy a", "vamos a"],
    fr: ["rappelle-moi", "rappelez-moi", "rappel", "je vais", "on va", "nous allons"],
    de: ["erinnere mich", "erinner mich", "erinnerung", "ich werde", "wir werden", "werde ich"],
  }),
);
/** When later: "tomorrow", "next week", "mañana", "demain", "morgen". Its whole sentence. */
export const LATER_TIME = re(
  `${anyWord({
    en: [
      "tomorrow",
      `(?:next|on|this coming) (?:week|month|year|time|${DAYS.en.join("|")})`,
      "later",
      String.raw`in (?:an?|one|two|three|\d+) (?:hours?|days?|weeks?|months?)`,
    ],
    es: [
      "(?<!(?:la|esta|por la|de la|cada|toda la) )mañana",
      "la semana que viene",
      "la próxima semana",
      "el (?:mes|año) que viene",
      `el próximo (?:mes|año|${DAYS.es.join("|")})`,
      `el (?:${DAYS.es.join("|")})`,
      "más tarde",
      "dentro de",
    ],
    fr: [
      "demain",
      "après-demain",
      "la semaine prochaine",
      "le mois prochain",
      `(?:${DAYS.fr.join("|")})(?: prochain)?`,
      "plus tard",
    ],
    de: [
      "(?<!(?:guten|heute|jeden|am) )morgen",
      "übermorgen",
      "nächste woche",
      "nächsten monat",
      `(?:am|nächsten) (?:${DAYS.de.join("|")})`,
      "später",
    ],
  })}(?!['’]s)`,
);

/** A joke or a line taken back: "just kidding", "never mind", "es broma", "je plaisante", "nur ein Scherz", "no way". */
export const RETRACTED = re(
  anyWord({
    en: [
      "just kidding",
      "jk",
      "j/k",
      "kidding",
      "only joking",
      "just joking",
      "not really",
      "no way",
      "never ?mind",
      "nvm",
      "scratch that",
      "forget (?:it|that|about it)",
      "lol no",
      "haha no",
      // A draft, or a send put off: nothing goes now ("draft a text to Mom … but don't send it yet").
      "draft",
      "(?:don'?t|do not) send (?:it|that|this|them) yet",
      "hold off",
    ],
    es: [
      "(?:es|era) (?:una )?broma",
      "(?:es|era) (?:un )?chiste",
      "de broma",
      "bromeo",
      "estoy bromeando",
      "ni hablar",
      "de ninguna manera",
      "olvídalo",
      "olvidalo",
      "olvida eso",
      "no es cierto",
      "mentira",
      "ni loco",
      "ni loca",
      "ni de coña",
      "ni en broma",
      "para nada",
      "(?:un )?borrador",
      "no lo (?:envíes|envies|mandes) (?:todavía|todavia|aún|aun)",
    ],
    fr: [
      "je plaisante",
      "je rigole",
      "(?:c'est|c'était) une blague",
      "pas vraiment",
      "laisse tomber",
      "oublie ça",
      "pas question",
      "jamais de la vie",
      "même pas en rêve",
      "sûrement pas",
      "certainement pas",
      "(?:un )?brouillon",
      "ne l'envoie pas (?:encore|tout de suite)",
    ],
    de: [
      "(?:nur|war nur) (?:ein )?(?:scherz|spaß|spass|witz)",
      "(?:ein )?scherz",
      "nicht wirklich",
      "vergiss es",
      "vergiss das",
      "auf keinen fall",
      "kommt nicht in frage",
      "bestimmt nicht",
      "sicher nicht",
      "niemals im leben",
      "(?:einen )?entwurf",
      "schick (?:es|sie|ihn) noch nicht",
    ],
  }),
);
/** "No kidding", "kein Scherz", "sin broma", "sans blague": said in earnest. */
export const NOT_RETRACTED = /(?:\bno|\bnot|\bkein|\bsin|\bsans|\bdon'?t|\bnever|\bdo not)\s+$/iu;
/** A sentence that is only a no, with a laugh perhaps: after something, it takes it back ("Pay 0x… 0.5 ETH? No.", "Haha, no."). */
export const ONLY_NO =
  /^[\s"'“”«»]*(?:(?:(?:ha|ja|he|hi){2,}h?|lol|lmao|mdr|xd|😂|🤣|😅|😆)[\s,.!]*)*(?:no+|nope|nah|non|nein|nö|never|nunca|jamais|niemals|nada|rien)(?:\s+(?:no+|way|thanks|gracias|merci|danke))*[\s.!😂🤣😅😆]*$/iu;

/** "Ignore …", "ignora …", "ignore …", "ignorier …". */
export const IGNORE = re(
  anyWord({
    en: ["ignore", "disregard"],
    es: ["ignora", "ignóralo", "ignoralo", "ignóralos", "ignóralas", "ignorar", "no hagas caso"],
    fr: ["ignore", "ignorez", "ignore-le", "ignore-les", "ignorer", "ne tiens pas compte", "ne tenez pas compte"],
    de: ["ignorier", "ignoriere", "ignorieren", "ignoriert"],
  }),
);
/** An "ignore" that points back at what came before. */
export const IGNORE_BACK = re(
  String.raw`^\S+(?:\s+(?:-?(?:le|lo|la|les|los|las)))?\s*(?:${anyWord({
    en: [
      "this",
      "that",
      "it",
      "the above",
      "all (?:of )?(?:that|this|the above)",
      "everything (?:above|before)",
      "what i (?:just )?(?:said|wrote)",
      "(?:my|the) (?:last|previous) (?:message|one|line|request)",
    ],
    es: [
      "esto",
      "eso",
      "lo anterior",
      "lo de (?:antes|arriba)",
      "lo que (?:dije|escribí)",
      "el (?:último|anterior) mensaje",
      "todo",
    ],
    fr: [
      "ça",
      "cela",
      "ceci",
      "ce qui précède",
      "ce que j'ai (?:dit|écrit)",
      "le (?:dernier|précédent) message",
      "tout ça",
    ],
    de: [
      "das",
      "dies",
      "das oben",
      "alles (?:oben|davor|vorher)",
      "was ich (?:gesagt|geschrieben) habe",
      "meine letzte nachricht",
    ],
  })}|[.!]|$)`,
  "iu",
);
