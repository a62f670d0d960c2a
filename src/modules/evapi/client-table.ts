// The client slot table (Kamailio's _evapi_clients): conidx is the lowest free slot 0..maxClients-1,
// reused after a close. A slot stays taken until connection-closed has run, so $evapi(conidx) is
// still valid there. Target selection for relay / multicast / unicast ("first" or "round-robin").
import type { EvapiConnection } from "./connection.js";
import type { UnicastPolicy } from "./params.js";
import { matches, type EventFilter } from "./subscriptions/event-patterns.js";

/** Upper bound of remembered round-robin cursors (one per tag used with unicast). */
const MAX_RR_CURSORS = 4096;

export class ClientTable {
  readonly maxClients: number;
  /** Slots in use (connected or still running connection-closed). */
  used = 0;
  /** Clients with an event subscription: while 0, sends skip naming their events. */
  filtered = 0;
  private readonly slots: Array<EvapiConnection | undefined>;
  private readonly rrCursor = new Map<string, number>();

  constructor(maxClients: number) {
    this.maxClients = maxClients;
    this.slots = new Array<EvapiConnection | undefined>(maxClients);
  }

  /** The lowest free slot, or -1 when all are taken. */
  freeSlot(): number {
    if (this.used === this.maxClients) return -1;
    for (let i = 0; i < this.maxClients; i++) if (this.slots[i] === undefined) return i;
    return -1;
  }

  put(client: EvapiConnection): void {
    this.slots[client.conidx] = client;
    this.used++;
  }

  /** Frees the client's slot (only if it still holds that client). */
  release(client: EvapiConnection): void {
    if (this.slots[client.conidx] !== client) return;
    this.slots[client.conidx] = undefined;
    this.used--;
    if (client.events) this.filtered--;
  }

  /** Sets (or replaces) a client's event subscription. */
  setFilter(client: EvapiConnection, f: EventFilter): void {
    if (!client.events && this.slots[client.conidx] === client) this.filtered++;
    client.events = f;
  }

  get(conidx: number): EvapiConnection | undefined {
    return Number.isInteger(conidx) && conidx >= 0 ? this.slots[conidx] : undefined;
  }

  /** Every client in slot order (connected or not). */
  *all(): IterableIterator<EvapiConnection> {
    for (const c of this.slots) if (c) yield c;
  }

  /**
   * Clients an event goes to, in conidx order: every connected client (tag undefined), the connected
   * clients with exactly this tag (multicast), or one of them (unicast, per policy). Writes into `out`.
   * A client that subscribed to events takes only those whose `name` it selects.
   */
  select(out: EvapiConnection[], tag: string | undefined, unicast: UnicastPolicy | undefined, name?: string): EvapiConnection[] {
    out.length = 0;
    if (unicast === "round-robin" && tag !== undefined) return this.pickRoundRobin(out, tag, name);
    for (let i = 0; i < this.maxClients; i++) {
      const c = this.slots[i];
      if (!c || !c.connected) continue;
      if (tag !== undefined && c.tag !== tag) continue;
      if (c.events && !wants(c.events, name)) continue;
      if (unicast && c.listenOnly) continue; // the one recipient must be able to answer
      out.push(c);
      if (unicast) break;
    }
    return out;
  }

  /**
   * Number of clients that could answer an event (select()'s recipients but listen-only ones),
   * without building the list; `anyName`: the name is not known yet (data built after suspending),
   * so subscriptions are not looked at.
   */
  answerers(tag: string | undefined, unicast: boolean, name?: string, anyName = false): number {
    let n = 0;
    for (let i = 0; i < this.maxClients; i++) {
      const c = this.slots[i];
      if (!c || !c.connected || c.listenOnly || (tag !== undefined && c.tag !== tag)) continue;
      if (c.events && !anyName && !wants(c.events, name)) continue;
      n++;
      if (unicast) break;
    }
    return n;
  }

  private pickRoundRobin(out: EvapiConnection[], tag: string, name: string | undefined): EvapiConnection[] {
    const last = this.rrCursor.get(tag) ?? -1;
    let pick: EvapiConnection | undefined;
    let firstMatch: EvapiConnection | undefined;
    for (let i = 0; i < this.maxClients; i++) {
      const c = this.slots[i];
      if (!c || !c.connected || c.listenOnly || c.tag !== tag || (c.events && !wants(c.events, name))) continue;
      firstMatch ??= c;
      if (i > last) {
        pick = c;
        break;
      }
    }
    pick ??= firstMatch;
    if (!pick) return out;
    if (this.rrCursor.size >= MAX_RR_CURSORS && !this.rrCursor.has(tag)) this.rrCursor.clear();
    this.rrCursor.set(tag, pick.conidx);
    out.push(pick);
    return out;
  }
}

/** A subscribed client takes a named event it selects, never an unnamed one. */
function wants(f: EventFilter, name: string | undefined): boolean {
  return name !== undefined && matches(f, name);
}
