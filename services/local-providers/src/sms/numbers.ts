// The account's side of Telnyx's numbers: an inventory of fictional US
// numbers for sale, searched and ordered (an order completes a moment later,
// as Telnyx's do), the numbers the account then owns, and giving one back.
import { randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "@convos-pool/kit/server";
import type { Carrier } from "./carrier.js";
import { unavailable } from "./errors.js";
import type { NumberSearch } from "./fields.js";
import { FEATURES, phoneNumberRecord, type Order, type OwnedNumber } from "./records.js";

/** Apart from the claims service's local range (+1 555 010 ...), so the two never hand out the same number. */
export const DEFAULT_SMS_INVENTORY = "+15550110000..+15550119999";
const MAX_INVENTORY = 1_000_000;
/** How long an order stays pending: long enough that a client must wait for it, as with Telnyx. */
const ORDER_COMPLETES_AFTER_MS = 150;

/** A range of US numbers, both ends +1 and ten digits. */
export interface Inventory {
  first: bigint;
  last: bigint;
}

export function parseInventory(spec: string): Inventory {
  const [, first, last] = /^\s*\+(1\d{10})\s*\.\.\s*\+(1\d{10})\s*$/.exec(spec) ?? [];
  if (first === undefined || last === undefined)
    throw new Error(
      `SMS inventory "${spec}": expected "+1<ten digits>..+1<ten digits>" (the stand-in sells US numbers only)`,
    );
  const inventory = { first: BigInt(first), last: BigInt(last) };
  if (inventory.last < inventory.first) throw new Error(`SMS inventory "${spec}": the last number is below the first`);
  if (inventory.last - inventory.first >= MAX_INVENTORY)
    throw new Error(`SMS inventory "${spec}": at most ${MAX_INVENTORY} numbers`);
  return inventory;
}

/** Whether a search can find anything here: the inventory is US numbers, each with FEATURES only. */
export function searchesInventory(search: NumberSearch): boolean {
  return search.country === "US" && search.features.every((f) => FEATURES.includes(f));
}

/** Telnyx's phone-number ids are digits, unlike its other ids: a client must not assume a UUID. */
function phoneNumberId(): string {
  return (BigInt(`0x${randomBytes(8).toString("hex")}`) >> 1n).toString();
}

/** The account's side: the inventory for sale, the orders, the numbers bought. */
export class NumberShop {
  /** Numbers in an order or owned: not for sale. */
  private readonly taken = new Set<string>();
  readonly orders = new Map<string, Order>();
  /** Phone-number id → number. */
  private readonly owned = new Map<string, OwnedNumber>();

  constructor(
    private readonly inventory: Inventory,
    private readonly carrier: Carrier,
    private readonly stopping: AbortSignal,
    private readonly log?: Logger,
  ) {}

  /** The numbers a search finds; a filter the inventory cannot meet (another country, a feature it lacks) finds none, as with Telnyx. */
  search(search: NumberSearch): string[] {
    return searchesInventory(search) ? this.available(search.limit, search.startsWith) : [];
  }

  /** Up to `limit` numbers for sale, lowest first; `startsWith` matches the national number (without +1), as Telnyx's filter does. */
  available(limit: number, startsWith = ""): string[] {
    const found: string[] = [];
    for (let n = this.inventory.first; n <= this.inventory.last && found.length < limit; n++) {
      const phoneNumber = `+${n}`;
      if (phoneNumber.slice(2).startsWith(startsWith) && !this.taken.has(phoneNumber)) found.push(phoneNumber);
    }
    return found;
  }

  /** Takes every number or none; the order completes a moment later. */
  order(phoneNumbers: string[], customerReference: string | null, messagingProfileId: string | null): Order {
    phoneNumbers.forEach((n, i) => {
      if (!this.forSale(n) || phoneNumbers.indexOf(n) !== i) throw unavailable(i, n);
    });
    for (const n of phoneNumbers) this.taken.add(n);
    const now = new Date().toISOString();
    const order: Order = {
      id: randomUUID(),
      status: "pending",
      numbers: phoneNumbers.map((phoneNumber) => ({ id: randomUUID(), phoneNumber, status: "pending" })),
      customerReference,
      messagingProfileId,
      createdAt: now,
      updatedAt: now,
    };
    this.orders.set(order.id, order);
    this.log?.info("number order placed", { order: order.id, numbers: phoneNumbers, customerReference });
    setTimeout(() => this.complete(order), ORDER_COMPLETES_AFTER_MS).unref();
    return order;
  }

  ownedNumbers(): OwnedNumber[] {
    return [...this.owned.values()];
  }

  /** Gives the number back: off its profile, and for sale again. */
  release(id: string): OwnedNumber | undefined {
    const owned = this.owned.get(id);
    if (!owned) return undefined;
    this.owned.delete(id);
    this.carrier.assignments.delete(owned.phoneNumber);
    this.taken.delete(owned.phoneNumber);
    this.log?.info("number released", { number: owned.phoneNumber });
    return owned;
  }

  record(n: OwnedNumber, status = "active") {
    return phoneNumberRecord(n, this.carrier.profileOf(n.phoneNumber), status);
  }

  private forSale(phoneNumber: string): boolean {
    if (!/^\+1\d{10}$/.test(phoneNumber) || this.taken.has(phoneNumber)) return false;
    const n = BigInt(phoneNumber.slice(1));
    return n >= this.inventory.first && n <= this.inventory.last;
  }

  private complete(order: Order): void {
    if (this.stopping.aborted) return;
    const now = new Date().toISOString();
    for (const line of order.numbers) {
      const id = phoneNumberId();
      this.owned.set(id, {
        id,
        phoneNumber: line.phoneNumber,
        customerReference: order.customerReference,
        createdAt: now,
      });
      // The profile may have been deleted meanwhile; the number then stays on none.
      if (order.messagingProfileId && this.carrier.profiles.has(order.messagingProfileId))
        this.carrier.assignments.set(line.phoneNumber, order.messagingProfileId);
      line.status = "success";
    }
    Object.assign(order, { status: "success", updatedAt: now });
    this.log?.info("number order completed", { order: order.id });
  }
}
