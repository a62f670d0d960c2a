// RFC 7339 overload control, the client's side: evsip relays to a server (a media server, an
// application server, another evsip) that may be overloaded. Every request tm relays says so in
// evsip's own Via (`;oc;oc-algo="loss"`); a server in overload answers in that Via of its responses
// how much less new work it wants (`oc=<percent>`) and for how long (`oc-validity`), and tm then
// holds that share of new requests back from it: each such branch fails at once with a local 503,
// so the failure route can send the call elsewhere, or the caller gets the 503, without the
// overloaded server paying for the refusal. Requests within a dialog, ACKs and CANCELs always go:
// calls in progress stay whole (RFC 7339 §5.10.1 leaves that priority to the client), and so do
// emergency calls.
//
// Feedback is kept per server address and port (§5.4), replaced by a newer `oc-seq`, refreshed by
// the same one (the server repeats it in every response while it still wants it), and forgotten
// when its validity runs out or a server says `oc-validity=0`.
import { isIP } from "node:net";
import { formatHostPort, parseHostPort } from "../common/host-port.js";
import type { SipMessageLike, Via } from "../sip/types.js";
import { opensNewWork } from "../sip/opens-new-work.js";
import { isEmergencyCall } from "../sip/emergency-call.js";
import type { TmDestination } from "./types.js";

/** The parameters evsip puts in its own Via of every relayed request, to be told of overload. */
export const OC_REQUEST_PARAMS = ';oc;oc-algo="loss"';

/** When a server gives no `oc-validity` (RFC 7339 §4.3). */
const DEFAULT_VALIDITY_MS = 500;

/** The longest a server's feedback is held, whatever it says: a bound against a value that never ends. */
export const MAX_DOWNSTREAM_VALIDITY_MS = 60_000;

/** Servers whose feedback is kept at most; past it the ones whose feedback ran out go first. */
const MAX_SERVERS = 4096;

/** While a server asks for less, its feedback is looked at this often to see it lapse (ms). */
const SWEEP_MS = 1000;

/**
 * Whether `msg` may be held back: it opens new work, and it is not an emergency call
 * (`urn:service:sos`, RFC 5031, in the Request-URI), which RFC 7339 §5.10.1 asks clients to let
 * through first. Resource-Priority (RFC 4412) is not honoured: any caller could add it to escape
 * the reduction.
 */
export function mayHoldBack(msg: SipMessageLike): boolean {
  return opensNewWork(msg) && !isEmergencyCall(msg);
}

/** What one server asked for. */
interface Feedback {
  /** The share of new work held back, 0..100. */
  readonly percent: number;
  /** Clock ms until which it holds. */
  until: number;
  readonly seq: number;
}

/** A server's feedback as read from our Via of its response, or why there is none to apply. */
type Read = Feedback | "stop" | undefined;

/** How a server's response is read: the clock and the random draw are given, for tests. */
export interface DownstreamOverloadOptions {
  /** Monotonic ms. */
  readonly clock: () => number;
  /**
   * Look at the feedback every second while a server asks for less, so that its end is reported
   * (and the count of servers asking falls) when it lapses, not at the next relay to it. Off in
   * tests that run on their own clock.
   */
  readonly sweep?: boolean;
  /**
   * The next hops overload control applies to, as `addr:port` or `addr` (an IP without brackets);
   * undefined or empty for all. parsePeers makes it from the tm param.
   */
  readonly peers?: ReadonlySet<string>;
  /** A uniform draw in [0, 1): each new request is held back when it falls under the share. */
  readonly random?: () => number;
  /** A server began or stopped asking for less (percent 0 once it stopped). */
  readonly onChange?: (server: string, percent: number) => void;
}

/**
 * One spelling per address, so that a peer written one way matches a destination written another:
 * IPv6 lower-cased and shortened (`2001:DB8:0:0::1` is `2001:db8::1`), an IPv4-mapped one as IPv4.
 */
function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const h = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (mapped === null) return h;
  const hi = parseInt(mapped[1] as string, 16);
  const lo = parseInt(mapped[2] as string, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** A next hop's key: its canonical address and port, an IPv6 address bracketed (`[2001:db8::1]:5060`). */
function keyOf(dest: TmDestination): string {
  return formatHostPort(canonicalIp(dest.addr), dest.port);
}

/** A whole number in [lo, hi] from a parameter's text, else undefined. */
function wholeIn(v: string | null | undefined, lo: number, hi: number): number | undefined {
  if (v === null || v === undefined || !/^\d{1,12}$/.test(v)) return undefined;
  const n = Number(v);
  return n >= lo && n <= hi ? n : undefined;
}

/** `oc-seq`: digits, optionally a dot and more digits (RFC 7339 §9). */
function seqOf(v: string | null | undefined): number | undefined {
  return v !== null && v !== undefined && /^\d{1,12}(\.\d{1,5})?$/.test(v) ? Number(v) : undefined;
}

/** The loss algorithm is the only one evsip offers: a server that chose another is not understood. */
function choseLoss(algo: string | null | undefined): boolean {
  if (algo === undefined) return true;
  if (algo === null) return false;
  const bare = algo.length >= 2 && algo.startsWith('"') && algo.endsWith('"') ? algo.slice(1, -1) : algo;
  return bare.trim().toLowerCase() === "loss";
}

/**
 * Reads RFC 7339 feedback from `via` (our own Via, on top of a response). A valueless `oc` is our
 * own request echoed by a server that does not support overload control: nothing to apply.
 */
function readFeedback(via: Via, now: number): Read {
  const p = via.params;
  const validity = p.has("oc-validity") ? wholeIn(p.get("oc-validity"), 0, 1e12) : DEFAULT_VALIDITY_MS;
  if (validity === 0) return "stop";
  const percent = wholeIn(p.get("oc"), 0, 100);
  const seq = seqOf(p.get("oc-seq"));
  if (percent === undefined || validity === undefined || seq === undefined || !choseLoss(p.get("oc-algo"))) return undefined;
  return { percent, seq, until: now + Math.min(validity, MAX_DOWNSTREAM_VALIDITY_MS) };
}

/**
 * The set DownstreamOverloadOptions.peers takes from `tm.overloadControlPeers`, or why an entry is
 * not an IP address with an optional port.
 */
export function parsePeers(list: readonly string[]): { ok: true; peers: Set<string> } | { ok: false; detail: string } {
  const peers = new Set<string>();
  for (const text of list) {
    const r = parseHostPort(text, { defaultPort: 0, minPort: 1 });
    if (!r.ok) return { ok: false, detail: `${JSON.stringify(text)}: ${r.detail}` };
    if (isIP(r.addr.host) === 0)
      return { ok: false, detail: `${JSON.stringify(text)}: not an IP address (a destination resolves to one)` };
    const host = canonicalIp(r.addr.host);
    peers.add(r.addr.port === 0 ? host : formatHostPort(host, r.addr.port));
  }
  return { ok: true, peers };
}

/** The feedback of the servers tm relays to, and the decision to hold a new request back. */
export class DownstreamOverload {
  /** Servers asking for less new work now: updated as they start and stop (a lapse is seen by the sweep). */
  reducing = 0;
  private readonly servers = new Map<string, Feedback>();
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly onChange: ((server: string, percent: number) => void) | undefined;
  private readonly sweeps: boolean;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly peers: ReadonlySet<string> | undefined;

  constructor(o: DownstreamOverloadOptions) {
    this.clock = o.clock;
    this.random = o.random ?? Math.random;
    this.onChange = o.onChange;
    this.sweeps = o.sweep === true;
    this.peers = o.peers !== undefined && o.peers.size > 0 ? o.peers : undefined;
  }

  /** Whether overload control applies to `dest`: every next hop, or one of the peers named. */
  appliesTo(dest: TmDestination): boolean {
    const p = this.peers;
    if (p === undefined) return true;
    const ip = canonicalIp(dest.addr);
    return p.has(ip) || p.has(formatHostPort(ip, dest.port));
  }

  /** The share (0..100) `dest` asks to be held back now. */
  percentFor(dest: TmDestination): number {
    const f = this.current(keyOf(dest), this.clock());
    return f === undefined ? 0 : f.percent;
  }

  /**
   * Takes the feedback in `via`, our own Via of a response from `dest`. Cheap when there is none:
   * one lookup of `oc` in the parameters the response's parser already read.
   */
  note(dest: TmDestination, via: Via): void {
    if (!via.params.has("oc") || !this.appliesTo(dest)) return;
    const now = this.clock();
    const read = readFeedback(via, now);
    if (read === undefined) return;
    const key = keyOf(dest);
    const had = this.current(key, now);
    if (read === "stop") {
      const seq = seqOf(via.params.get("oc-seq"));
      // A stop older than the feedback in force (a reordered response) does not end it; one that
      // does is kept as a share of 0 with its seq, so that a response older than it starts nothing.
      if (had === undefined || (seq !== undefined && seq < had.seq)) return;
      if (had.percent > 0) this.changed(key, 0);
      this.servers.set(key, { percent: 0, seq: seq ?? had.seq, until: now + MAX_DOWNSTREAM_VALIDITY_MS });
      return;
    }
    if (had === undefined && read.percent === 0) return; // nothing asked, nothing to keep
    if (had !== undefined && read.seq < had.seq) return; // stale: an older response overtaken
    if (had !== undefined && read.seq === had.seq) {
      had.until = Math.max(had.until, read.until); // the same feedback, repeated: still meant
      return;
    }
    if (had === undefined && this.servers.size >= MAX_SERVERS) this.evict(now);
    if (had === undefined && this.servers.size >= MAX_SERVERS) return;
    this.servers.set(key, read);
    const was = (had?.percent ?? 0) > 0;
    if (was !== read.percent > 0) this.changed(key, read.percent);
  }

  /**
   * Whether a request about to be relayed to `dest` is held back: one that may be (mayHoldBack),
   * drawn at random with the share `dest` asks for.
   */
  holdsBack(dest: TmDestination, msg: SipMessageLike): boolean {
    if (this.reducing === 0) return false;
    const f = this.current(keyOf(dest), this.clock());
    if (f === undefined || f.percent === 0 || !mayHoldBack(msg)) return false;
    return this.random() * 100 < f.percent;
  }

  /** Stops the sweep (the transaction layer stops). */
  close(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** `key`'s feedback if still in force; one that ran out is forgotten. */
  private current(key: string, now: number): Feedback | undefined {
    const f = this.servers.get(key);
    if (f === undefined || f.until > now) return f;
    this.forget(key, f);
    return undefined;
  }

  private forget(key: string, f: Feedback): void {
    this.servers.delete(key);
    if (f.percent > 0) this.changed(key, 0);
  }

  /** A server began (percent > 0) or stopped asking for less. */
  private changed(key: string, percent: number): void {
    this.reducing += percent > 0 ? 1 : -1;
    this.onChange?.(key, percent);
    if (!this.sweeps) return;
    if (this.reducing > 0 && this.sweepTimer === undefined) {
      this.sweepTimer = setInterval(() => this.evict(this.clock()), SWEEP_MS);
      this.sweepTimer.unref();
    } else if (this.reducing === 0) this.close();
  }

  private evict(now: number): void {
    for (const [key, f] of this.servers) if (f.until <= now) this.forget(key, f);
  }
}
