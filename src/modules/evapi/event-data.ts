// What an evapi event route sees as ctx.eventData: the client's slot, address and the message,
// captured when the event was queued, so the values stay valid in the route even after the client
// has gone (Kamailio returns $null there, or another client's address once the slot is reused).
import type { EvapiConnection } from "./connection.js";

/** The three evapi event routes, by their Kamailio names. */
export const EVAPI_EVENTS = ["evapi:connection-new", "evapi:connection-closed", "evapi:message-received"] as const;
export type EvapiEventName = (typeof EVAPI_EVENTS)[number];

/** Data of one evapi event (ctx.eventData in the route). */
export class EvapiEvent {
  readonly name: EvapiEventName;
  readonly client: EvapiConnection;
  readonly conidx: number;
  readonly srcaddr: string;
  readonly srcport: number;
  /** The received message (message-received only), else null. */
  readonly msg: string | null;

  constructor(name: EvapiEventName, client: EvapiConnection, msg: string | null) {
    this.name = name;
    this.client = client;
    this.conidx = client.conidx;
    this.srcaddr = client.srcaddr;
    this.srcport = client.srcport;
    this.msg = msg;
  }
}

/** The evapi event of a route context's eventData, if it is one (of this module instance). */
export function evapiEventOf(eventData: unknown): EvapiEvent | undefined {
  return eventData instanceof EvapiEvent ? eventData : undefined;
}
