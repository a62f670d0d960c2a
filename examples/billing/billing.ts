// A billing application on the SDK (`evsip/client`), the use case evapi was created for (seed 000:
// "send notification when the call starts so cgrates can start billing … when the call ends"). It
// keeps a ledger of answered calls and their durations per caller from call-start / call-end events;
// duplicates (a retransmitted 200 or BYE) are ignored. Serves evsip (app.ts) and Kamailio alike.
// Run: npx tsx examples/billing/billing.ts [port]
import { pathToFileURL } from "node:url";
import { EvapiClient } from "evsip/client";

/** A call event as app.ts (or Kamailio's evapi_relay) sends it; `ts` in seconds since the epoch. */
export interface CallEvent {
  readonly event: "call-start" | "call-end";
  readonly ci: string;
  readonly from: string;
  readonly to: string;
  readonly ts: number;
}

/** One finished call. */
export interface CallRecord {
  readonly ci: string;
  readonly caller: string;
  readonly callee: string;
  readonly seconds: number;
}

/** The user part of a SIP URI or name-addr, or the text itself. */
function user(uri: string): string {
  return /sips?:([^@;>]+)@/.exec(uri)?.[1] ?? uri;
}

/** Answered calls in progress and totals per caller. */
export class Ledger {
  readonly totals = new Map<string, { calls: number; seconds: number }>();
  readonly records: CallRecord[] = [];
  private readonly open = new Map<string, CallEvent>();
  private readonly ended = new Set<string>();

  /** Applies one event; returns the finished call on a call-end, else undefined. Never throws. */
  apply(value: unknown): CallRecord | undefined {
    if (!isCallEvent(value)) return undefined;
    if (value.event === "call-start") {
      if (!this.open.has(value.ci) && !this.ended.has(value.ci)) this.open.set(value.ci, value);
      return undefined;
    }
    const start = this.open.get(value.ci);
    if (start === undefined) return undefined; // unanswered, unknown or already billed
    this.open.delete(value.ci);
    this.ended.add(value.ci);
    const rec = { ci: value.ci, caller: user(start.from), callee: user(start.to), seconds: Math.max(0, value.ts - start.ts) };
    this.records.push(rec);
    const t = this.totals.get(rec.caller) ?? { calls: 0, seconds: 0 };
    t.calls++;
    t.seconds += rec.seconds;
    this.totals.set(rec.caller, t);
    return rec;
  }

  /** Calls answered and not yet ended. */
  get inProgress(): number {
    return this.open.size;
  }

  /** The ledger as a small table, one caller a line. */
  format(): string {
    const rows = [...this.totals].map(
      ([caller, t]) => `${caller.padEnd(20)} ${String(t.calls).padStart(5)} ${t.seconds.toFixed(3).padStart(10)} s`,
    );
    return [`${"caller".padEnd(20)} ${"calls".padStart(5)} ${"duration".padStart(12)}`, ...rows].join("\n");
  }
}

function isCallEvent(v: unknown): v is CallEvent {
  if (v === null || typeof v !== "object") return false;
  const e = v as Record<string, unknown>;
  return (
    (e.event === "call-start" || e.event === "call-end") &&
    typeof e.ci === "string" &&
    typeof e.from === "string" &&
    typeof e.to === "string" &&
    typeof e.ts === "number" &&
    Number.isFinite(e.ts)
  );
}

export interface BillingOptions {
  readonly host?: string;
  readonly port?: number;
  /** Tag asked for with {"subscribe": tag} on every (re)connect. Default "billing". */
  readonly tag?: string;
  /** Called for every finished call. */
  readonly onCall?: (rec: CallRecord, ledger: Ledger) => void;
  /** Where the ledger is printed after each call. Default console.log; `() => {}` for silence. */
  readonly log?: (line: string) => void;
}

export interface Billing {
  readonly client: EvapiClient;
  readonly ledger: Ledger;
  /** Resolves when the router acknowledged the subscription. */
  readonly subscribed: Promise<void>;
  close(): Promise<void>;
}

/** Connects to the router's event socket and starts billing; resolves once connected. */
export async function startBilling(o: BillingOptions = {}): Promise<Billing> {
  const tag = o.tag ?? "billing";
  const log = o.log ?? ((line: string) => console.log(line));
  const client = new EvapiClient({
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 8448,
    reconnect: { initialDelay: 50, maxDelay: 2000 },
  });
  const ledger = new Ledger();
  let acknowledged!: () => void;
  const subscribed = new Promise<void>((resolve) => (acknowledged = resolve));
  client.on("connected", () => client.send({ subscribe: tag }));
  client.on("error", (e) => log(`billing: ${e.code} ${e.message}`));
  client.on("event", (ev) => {
    const e = ev as { event?: string; tag?: string };
    if (e.event === "subscribed" && e.tag === tag) acknowledged();
    const rec = ledger.apply(ev);
    if (rec === undefined) return;
    log(`billing: ${rec.caller} → ${rec.callee} ${rec.seconds.toFixed(3)} s (${rec.ci})\n${ledger.format()}`);
    o.onCall?.(rec, ledger);
  });
  await client.connect();
  return { client, ledger, subscribed, close: () => client.close() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? 8448);
  const billing = await startBilling({ port });
  console.log(`billing connected to 127.0.0.1:${port}`);
  process.once("SIGINT", () => {
    console.log(billing.ledger.format());
    void billing.close();
  });
}
