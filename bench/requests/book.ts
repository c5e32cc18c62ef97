// The owner every entry of the corpus is written by: one address book and one
// set of settings, fixed, which the runner passes to bindActs as the owner's
// contacts and settings (docs/performance/requests.md). Names in each
// language the corpus is written in, as an owner would save them; values
// fictional (addresses no one holds a key of, +1 555 01xx numbers, and
// numbers of Spain, France and Germany that only look valid; mail at
// example domains), each stored as the gate compares it (checksummed, E.164,
// lower case).
import type { Contacts, TargetKind } from "@convos-pool/instance/testing/request";

type Values = Readonly<Partial<Record<TargetKind, string>>>;

export const CONTACTS: Readonly<Record<string, Values>> = {
  Ana: { address: "0x700c0DDd0AeE24A42459E9D5cc979379aDfAa9B7", phone: "+15550100111", mailbox: "ana@example.com" },
  Bob: { address: "0xE14c433e32d927B06b792323BDbBa7C2Ec187b68", phone: "+15550100122" },
  Mom: { phone: "+15550100133", mailbox: "mom@example.org" },
  accountant: { mailbox: "accountant@example.com" },
  landlord: { address: "0x1fc70B7801394Ac1f4C17bb0Ff2bbD44923B8470", mailbox: "landlord@example.net" },
  Lucía: { address: "0xF7703d5C875Dd2F1022003b908093f1578db4994", phone: "+34612345678", mailbox: "lucia@example.org" },
  Javier: { address: "0x230383C97745c4d590789Cbff939251f6CeB1f92", phone: "+34699123456" },
  Mamá: { phone: "+34655443322" },
  contable: { mailbox: "contable@example.org" },
  casero: { address: "0xC057770440ce734BeE472fe8156485c9BAaCC5fF", mailbox: "casero@example.org" },
  Chloé: { address: "0x062271dB6D0e10Ec399D44f8b68F0D342B329Ec9", phone: "+33612345678", mailbox: "chloe@example.org" },
  Julien: { address: "0x127997A0B07b890F84C64F96bb00C9EFfd1cFc06", phone: "+33781234567" },
  Maman: { phone: "+33645123456" },
  comptable: { mailbox: "comptable@example.org" },
  propriétaire: { address: "0x296469Ac567C1Fa363b01122E83dCf1d5A62A14E", mailbox: "proprio@example.org" },
  Jonas: {
    address: "0xAf9D67DCA13a6C0dF831f425527a8d769A82B0e2",
    phone: "+4915123456789",
    mailbox: "jonas@example.org",
  },
  Greta: { address: "0x10EfD7271dA5f0215Bb3AEcF43e513014277007d", phone: "+491701234567" },
  Mama: { phone: "+491609876543" },
  Steuerberater: { mailbox: "steuerberater@example.org" },
  Vermieter: { address: "0xbB561fc3Ba48cBC8a1F11E639a04e04867Ea207E", mailbox: "vermieter@example.org" },
};

/** The owner's settings (the claim's user config): any of them binds as a recipient, named or not. */
export const SETTINGS: Readonly<Record<string, string>> = {
  "personal-email": "saul@example.com",
  "work-email": "saul@work.example.com",
  "savings-wallet": "0x201515365a8DbbB4fec4feCbe16360c59A515659",
};

/** The address book as bindActs reads it: a contact by name (any case) with a value of the kind asked. */
export const contacts: Contacts = {
  lookup: (name, kind) => {
    const found = Object.entries(CONTACTS).find(([n]) => n.toLowerCase() === name.trim().toLowerCase());
    const value = found?.[1][kind];
    return found && value ? { name: found[0], value } : undefined;
  },
};
