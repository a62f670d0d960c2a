// The external authorisation service for app.ts (seed 001's flow), on the SDK (`evsip/client`):
// it subscribes with a tag, then answers every event that carries a transaction index/label with a
// decision (`decision.allow()` or `decision.reject(403, "Forbidden")`, i.e. { action, code, reason })
// — client.answer() echoes tindex/tlabel so the router can continue the call. Against evsip it may
// also ask for only the "auth" events (`events`). The same code serves Kamailio's evapi, whose
// script reads `action` and ignores the rest (test/interop/kamailio.test.ts).
// Run: npx tsx examples/async-auth/auth-service.ts [port]; EVAPI_TOKEN authenticates (as app.ts),
// EVAPI_TLS_CA (the CA of the router's certificate, PEM) connects over TLS to "localhost".
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { EvapiClient, decision, type EvapiClientOptions } from "evsip/client";

/** What the router sends for a call to authorise (app.ts, or Kamailio's evapi_async_relay). */
export interface AuthEvent {
  readonly event?: string;
  readonly tindex?: number | string;
  readonly tlabel?: number | string;
  readonly ci?: string;
  readonly from?: string;
  readonly to?: string;
}

/** One decision, kept for the operator (and the tests). */
export interface AuthDecision {
  readonly ci: string;
  readonly to: string;
  readonly allow: boolean;
}

/** The user part of a SIP URI or name-addr ("sip:900123@host" → "900123"), or "". */
export function uriUser(uri: string | undefined): string {
  return /sips?:([^@;>]+)@/.exec(uri ?? "")?.[1] ?? "";
}

/** The policy: calls to premium-rate numbers (callee user starting with a `blocked` prefix) are rejected. */
export function authorize(ev: AuthEvent, blocked: readonly string[] = ["900"]): boolean {
  const callee = uriUser(ev.to);
  return !blocked.some((p) => callee.startsWith(p));
}

export interface AuthServiceOptions {
  readonly host?: string;
  readonly port?: number;
  /** Callee prefixes to reject. Default ["900"]. */
  readonly blocked?: readonly string[];
  /** Tag asked for with {"subscribe": tag} on every (re)connect. Default "auth". */
  readonly tag?: string;
  /** Where decisions are printed. Default console.log; `() => {}` for silence. */
  readonly log?: (line: string) => void;
  /** evsip only: the event names to receive (a subscription), e.g. ["auth"]. Default: every event. */
  readonly events?: readonly string[];
  /** evsip's auth token (the router's `tokens`); unset for Kamailio or a router without tokens. */
  readonly token?: string;
  /** Connect over TLS (node:tls options, e.g. `{ ca }`). */
  readonly tls?: EvapiClientOptions["tls"];
}

export interface AuthService {
  readonly client: EvapiClient;
  readonly decisions: AuthDecision[];
  /** Resolves when the router acknowledged the subscription ({"event":"subscribed","tag":…}). */
  readonly subscribed: Promise<void>;
  close(): Promise<void>;
}

/** Connects to the router's event socket and starts answering; resolves once connected. */
export async function startAuthService(o: AuthServiceOptions = {}): Promise<AuthService> {
  const tag = o.tag ?? "auth";
  const log = o.log ?? ((line: string) => console.log(line));
  const client = new EvapiClient({
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 8448,
    reconnect: { initialDelay: 50, maxDelay: 2000 },
    ...(o.events ? { events: o.events } : {}),
    token: o.token,
    tls: o.tls,
  });
  const decisions: AuthDecision[] = [];
  let acknowledged!: () => void;
  const subscribed = new Promise<void>((resolve) => (acknowledged = resolve));

  client.on("connected", () => client.send({ subscribe: tag }));
  client.on("disconnected", ({ reason }) => log(`auth: disconnected (${reason?.code ?? "closed by the router"})`));
  client.on("error", (e) => log(`auth: ${e.code} ${e.message}`));
  client.answer((event) => {
    const ev = (event ?? {}) as AuthEvent & { tag?: string };
    if (ev.event === "subscribed" && ev.tag === tag) acknowledged();
    if (ev.tindex === undefined || ev.tlabel === undefined) return undefined; // not a question: no reply
    const allow = authorize(ev, o.blocked);
    decisions.push({ ci: String(ev.ci), to: String(ev.to), allow });
    log(`auth: ${allow ? "allow" : "reject"} call to ${String(ev.to)} (${String(ev.ci)})`);
    return allow ? decision.allow() : decision.reject(403, "Forbidden");
  });

  await client.connect();
  return { client, decisions, subscribed, close: () => client.close() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? 8448);
  const ca = process.env.EVAPI_TLS_CA;
  await startAuthService({
    port,
    events: ["auth", "subscribed"],
    token: process.env.EVAPI_TOKEN,
    ...(ca ? { host: "localhost", tls: { ca: readFileSync(ca) } } : {}),
  });
  console.log(`auth service connected to 127.0.0.1:${port}`);
}
