// A billing application on the SDK (`evsip/client`), the use case evapi was created for (seed 000:
// "send notification when the call starts so cgrates can start billing … when the call ends").
// It keeps a ledger of answered calls and their durations per caller from call-start / call-end
// events, and bills each call exactly once:
// - durable mode (with evsip): the consumer "billing" resumes from its last acknowledged event
//   after any restart, its own or the router's; the ledger is a file of billed calls, appended
//   before the event is acknowledged, so a redelivered call-end is found there and not billed again;
// - plain mode (Kamailio's evapi, or evsip without durability): events as they come, in memory.
// Run: node dist/examples/billing/billing.js [port] [state dir: durable mode, ledger and offset kept there]
import { appendFileSync, mkdirSync, readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { EvapiClient, fileDurableStore } from "evsip/client";

/** A call event as app.ts (or Kamailio's evapi_relay) sends it; times in seconds since the epoch. */
export interface CallEvent {
  readonly event: "call-start" | "call-end";
  readonly ci: string;
  readonly from: string;
  readonly to: string;
  readonly ts: number;
  /** On call-end from evsip's app.ts: when the call was answered, kept with the dialog. */
  readonly start?: number;
  /** On call-end from evsip's app.ts: bye, timeout, keepalive or local. */
  readonly reason?: string;
}

/** One finished call. */
export interface CallRecord {
  readonly ci: string;
  readonly caller: string;
  readonly callee: string;
  readonly seconds: number;
  readonly reason?: string;
}

/** The user part of a SIP URI or name-addr, or the text itself. */
function user(uri: string): string {
  return /sips?:([^@;>]+)@/.exec(uri)?.[1] ?? uri;
}

/** Answered calls in progress and totals per caller; with a file, billed calls survive a restart. */
export class Ledger {
  readonly totals = new Map<string, { calls: number; seconds: number }>();
  readonly records: CallRecord[] = [];
  private readonly open = new Map<string, CallEvent>();
  private readonly ended = new Set<string>();
  private readonly file: string | undefined;

  /** `file`: a JSON line per billed call, read back here and appended to by apply(). */
  constructor(file?: string) {
    this.file = file;
    if (file === undefined) return;
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    // Only the last line can be torn (a power loss or a full disk mid-append). Its event was not
    // acknowledged, so it comes again and is billed then; the torn bytes are cut off first, or the
    // next line appended would join them and be lost at the next start.
    const whole = text.lastIndexOf("\n") + 1;
    if (whole < text.length) {
      text = text.slice(0, whole);
      truncateSync(file, Buffer.byteLength(text));
    }
    for (const line of text.split("\n")) {
      if (line === "") continue;
      let rec: CallRecord;
      try {
        rec = JSON.parse(line) as CallRecord;
      } catch {
        continue; // a damaged line in the middle: skipped rather than refusing to start
      }
      this.ended.add(rec.ci);
      this.count(rec);
    }
  }

  /** Applies one event; returns the call billed by a call-end, else undefined. Never bills a call twice. */
  apply(value: unknown): CallRecord | undefined {
    if (!isCallEvent(value)) return undefined;
    if (value.event === "call-start") {
      if (!this.open.has(value.ci) && !this.ended.has(value.ci)) this.open.set(value.ci, value);
      return undefined;
    }
    if (this.ended.has(value.ci)) return undefined; // a retransmitted BYE, or a redelivered event
    // evsip's call-end carries its start; Kamailio's needs the call-start seen before.
    const start = value.start !== undefined ? value : this.open.get(value.ci);
    if (start === undefined) return undefined; // unanswered or unknown
    const from = start.start ?? start.ts;
    this.open.delete(value.ci);
    const rec: CallRecord = {
      ci: value.ci,
      caller: user(start.from),
      callee: user(start.to),
      seconds: Math.max(0, value.ts - from),
      ...(value.reason !== undefined && { reason: value.reason }),
    };
    // Written (to the page cache, so a kill -9 keeps it) before the caller acknowledges the event.
    if (this.file !== undefined) appendFileSync(this.file, `${JSON.stringify(rec)}\n`);
    this.ended.add(rec.ci);
    this.count(rec);
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

  private count(rec: CallRecord): void {
    this.records.push(rec);
    const t = this.totals.get(rec.caller) ?? { calls: 0, seconds: 0 };
    t.calls++;
    t.seconds += rec.seconds;
    this.totals.set(rec.caller, t);
  }
}

const finite = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);

function isCallEvent(v: unknown): v is CallEvent {
  if (v === null || typeof v !== "object") return false;
  const e = v as Record<string, unknown>;
  return (
    (e.event === "call-start" || e.event === "call-end") &&
    typeof e.ci === "string" &&
    typeof e.from === "string" &&
    typeof e.to === "string" &&
    finite(e.ts) &&
    (e.start === undefined || finite(e.start)) &&
    (e.reason === undefined || typeof e.reason === "string")
  );
}

export interface BillingOptions {
  readonly host?: string;
  readonly port?: number;
  /** Durable mode: the ledger (`ledger.jsonl`) and the last acknowledged id (`offset`) are kept here. */
  readonly stateDir?: string;
  /** Plain mode: the tag asked for with {"subscribe": tag} on every (re)connect. Default "billing". */
  readonly tag?: string;
  /** Called for every finished call. */
  readonly onCall?: (rec: CallRecord, ledger: Ledger) => void;
  /** Where the ledger is printed after each call. Default console.log; `() => {}` for silence. */
  readonly log?: (line: string) => void;
}

export interface Billing {
  readonly client: EvapiClient;
  readonly ledger: Ledger;
  /** Resolves when the router acknowledged the subscription (plain mode) or the durable handshake. */
  readonly subscribed: Promise<void>;
  close(): Promise<void>;
}

/** Connects to the router's event socket and starts billing; resolves once connected. */
export async function startBilling(o: BillingOptions = {}): Promise<Billing> {
  const tag = o.tag ?? "billing";
  const log = o.log ?? ((line: string) => console.log(line));
  if (o.stateDir !== undefined) mkdirSync(o.stateDir, { recursive: true });
  const client = new EvapiClient({
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 8448,
    reconnect: { initialDelay: 50, maxDelay: 2000 },
    ...(o.stateDir !== undefined && {
      durable: { consumer: "billing", store: fileDurableStore(join(o.stateDir, "offset")) },
    }),
  });
  const ledger = new Ledger(o.stateDir === undefined ? undefined : join(o.stateDir, "ledger.jsonl"));
  let acknowledged!: () => void;
  const subscribed = new Promise<void>((resolve) => (acknowledged = resolve));
  const bill = (ev: unknown): void => {
    const rec = ledger.apply(ev);
    if (rec === undefined) return;
    log(`billing: ${rec.caller} → ${rec.callee} ${rec.seconds.toFixed(3)} s (${rec.ci})\n${ledger.format()}`);
    o.onCall?.(rec, ledger);
  };
  client.on("error", (e) => log(`billing: ${e.code} ${e.message}`));
  if (o.stateDir !== undefined) {
    client.on("subscribed", () => acknowledged());
    // Events the router dropped at its retention bound while billing was away: calls that may go
    // unbilled. Never silent: logged loudly, and kept in the state dir for reconciliation.
    client.on("lost", (range) => {
      log(`billing: LOST events ${range.from}-${range.to} (${range.count}): reconcile these calls from the router's CDRs`);
      appendFileSync(join(o.stateDir as string, "lost.jsonl"), `${JSON.stringify({ ...range, at: Date.now() })}\n`);
    });
    client.consume((ev) => bill(ev)); // returns once the ledger line is written: then it is acknowledged
  } else {
    client.on("connected", () => client.send({ subscribe: tag }));
    client.on("event", (ev) => {
      const e = ev as { event?: string; tag?: string };
      if (e.event === "subscribed" && e.tag === tag) acknowledged();
      bill(ev);
    });
  }
  await client.connect();
  return { client, ledger, subscribed, close: () => client.close() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? 8448);
  const stateDir = process.argv[3];
  const billing = await startBilling({ port, stateDir });
  await billing.subscribed;
  console.log(`billing subscribed to 127.0.0.1:${port}${stateDir ? ` as durable consumer "billing", state in ${stateDir}` : ""}`);
  const stop = (): void => {
    console.log(billing.ledger.format());
    void billing.close();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
