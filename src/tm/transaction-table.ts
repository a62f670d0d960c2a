// The transaction tables: server transactions by match key and by (index, label), client
// transactions by branch + method. Plain Maps (O(1) insert/lookup/delete); the 65536 "buckets"
// exist only as the index space and the label counters, as in Kamailio's h_table.
import { fnv1a } from "../common/fnv1a.js";
import type { ClientTransaction } from "./client-transaction.js";
import type { TmStats } from "./context.js";
import type { ServerTransaction } from "./server-transaction.js";
import { identKey } from "./transaction-id.js";
import type { TmDestination } from "./types.js";

/** What absorbing a retransmitted non-INVITE request needs once its transaction has ended. */
interface Answered {
  readonly until: number;
  readonly buf: Buffer;
  readonly dest: TmDestination;
}

/**
 * A 53-bit hash of a match key, kept instead of the key: the key is a slice of the parsed request's
 * text and would keep all of it alive (measured ~385 B per tombstone). Two FNV-1a runs with
 * different bases; a collision would absorb one new INVITE, at odds of about 10⁻¹² per INVITE
 * with 10,000 tombstones alive.
 */
function tombstoneId(key: string): number {
  return fnv1a(key) * 0x200000 + (fnv1a(key, 0x050c5d1f) & 0x1fffff);
}

export class TransactionTable {
  private readonly byKey = new Map<string, ServerTransaction>();
  private readonly byIdent = new Map<number, ServerTransaction>();
  private readonly clients = new Map<string, ClientTransaction>();
  /** INVITE transactions re-sending their own 2xx until its ACK, by ackKey. */
  private readonly awaitingAck = new Map<string, ServerTransaction>();
  /** Server transactions that have not sent a final response yet. */
  private unfinished = 0;
  /** INVITE transactions ended at their 2xx's ACK: tombstoneId(match key) → when it expires. */
  private readonly tombstones = new Map<number, number>();
  /**
   * Non-INVITE transactions answered over UDP: tombstoneId(match key) → their final's bytes and
   * where they went, until Timer J. A whole transaction kept 32 s for this held ~4 KB per call and
   * was copied by two scavenges and promoted; this is the part retransmissions need.
   */
  private readonly answered = new Map<number, Answered>();
  /**
   * Client transactions ended at a final they only wait to absorb retransmissions of (a non-INVITE
   * in Timer K, an INVITE branch whose 2xx's ACK went through): tombstoneId(branch key) → expiry.
   * The transaction itself held its server transaction and both messages' bytes for T4, which
   * every call paid twice over as a scavenge copy and a promotion.
   */
  private readonly clientTombstones = new Map<number, number>();
  private sweeper: NodeJS.Timeout | undefined;

  private readonly stats: TmStats;

  constructor(stats: TmStats) {
    this.stats = stats;
  }

  /** Live server transactions. */
  get serverCount(): number {
    return this.byIdent.size;
  }

  /**
   * Server transactions still working towards a final response: what maxTransactions bounds.
   * Finished ones only wait to absorb retransmissions and end on their own timers.
   */
  get unfinishedCount(): number {
    return this.unfinished;
  }

  /** st sent its first final response. */
  finished(): void {
    this.unfinished--;
  }

  /**
   * Keeps `key` for `ms` after its transaction ended: a retransmission of that request still in the
   * network is then absorbed instead of starting a second call. One shared sweep, in insertion
   * order (every tombstone lives as long), instead of a timer each.
   */
  tombstone(key: string, ms: number): void {
    if (ms <= 0) return;
    const id = tombstoneId(key);
    this.tombstones.delete(id);
    this.tombstones.set(id, Date.now() + ms);
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(100, ms / 10)).unref();
  }

  /** Absorbs responses to the ended client transaction `key` for `ms` (see clientTombstones). */
  tombstoneClient(key: string, ms: number): void {
    if (ms <= 0) return;
    const id = tombstoneId(key);
    this.clientTombstones.delete(id);
    this.clientTombstones.set(id, Date.now() + ms);
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(100, ms / 10)).unref();
  }

  /** True while a response to the client transaction `key` is a late copy to absorb. */
  isClientTombstone(key: string): boolean {
    const until = this.clientTombstones.get(tombstoneId(key));
    return until !== undefined && until > Date.now();
  }

  /** Keeps `buf` (sent to `dest`) as the answer to a retransmission of `key` for `ms`. */
  rememberAnswer(key: string, buf: Buffer, dest: TmDestination, ms: number): void {
    const id = tombstoneId(key);
    this.answered.delete(id);
    this.answered.set(id, { until: Date.now() + ms, buf, dest });
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(100, ms / 10)).unref();
  }

  /**
   * What is left of `key`'s transaction after it ended: the answer to re-send (a non-INVITE within
   * Timer J), "tombstone" (an INVITE ended at its ACK, within T4), or undefined. One hash per lookup:
   * every new request asks.
   */
  afterEnd(key: string): Answered | "tombstone" | undefined {
    const id = tombstoneId(key);
    const now = Date.now();
    const a = this.answered.get(id);
    if (a !== undefined && a.until > now) return a;
    const until = this.tombstones.get(id);
    return until !== undefined && until > now ? "tombstone" : undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, until] of this.tombstones) {
      if (until > now) break;
      this.tombstones.delete(key);
    }
    for (const [key, a] of this.answered) {
      if (a.until > now) break;
      this.answered.delete(key);
    }
    for (const [key, until] of this.clientTombstones) {
      if (until > now) break;
      this.clientTombstones.delete(key);
    }
    const empty = this.tombstones.size === 0 && this.answered.size === 0 && this.clientTombstones.size === 0;
    if (empty && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  findServer(key: string): ServerTransaction | undefined {
    return this.byKey.get(key);
  }

  findByIdent(index: number, label: number): ServerTransaction | undefined {
    return this.byIdent.get(identKey(index, label));
  }

  addServer(st: ServerTransaction): void {
    if (st.key !== undefined) this.byKey.set(st.key, st);
    this.byIdent.set(identKey(st.index, st.label), st);
    this.unfinished++;
    this.stats.serverTransactions = this.byIdent.size;
  }

  removeServer(st: ServerTransaction): void {
    if (st.key !== undefined && this.byKey.get(st.key) === st) this.byKey.delete(st.key);
    const id = identKey(st.index, st.label);
    if (this.byIdent.get(id) === st) {
      this.byIdent.delete(id);
      if (!st.isFinal) this.unfinished--;
    }
    if (st.ackKey !== undefined) this.awaitingAck.delete(st.ackKey);
    this.stats.serverTransactions = this.byIdent.size;
  }

  awaitAck(st: ServerTransaction, key: string): void {
    this.awaitingAck.set(key, st);
  }

  /** The transaction whose own 2xx this ACK acknowledges; it leaves the waiting list. */
  takeAckWaiter(key: string): ServerTransaction | undefined {
    const st = this.awaitingAck.get(key);
    if (st !== undefined) this.awaitingAck.delete(key);
    return st;
  }

  findClient(key: string): ClientTransaction | undefined {
    return this.clients.get(key);
  }

  addClient(ct: ClientTransaction): void {
    this.clients.set(ct.key, ct);
    this.stats.clientTransactions = this.clients.size;
  }

  removeClient(ct: ClientTransaction): void {
    if (this.clients.get(ct.key) === ct) this.clients.delete(ct.key);
    this.stats.clientTransactions = this.clients.size;
  }

  /** Every live server transaction (for stop()). */
  servers(): IterableIterator<ServerTransaction> {
    return this.byIdent.values();
  }

  /** Every live client transaction (for stop()). */
  clientList(): IterableIterator<ClientTransaction> {
    return this.clients.values();
  }

  clear(): void {
    this.tombstones.clear();
    this.answered.clear();
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.byKey.clear();
    this.byIdent.clear();
    this.awaitingAck.clear();
    this.unfinished = 0;
    this.clients.clear();
    this.stats.serverTransactions = 0;
    this.stats.clientTransactions = 0;
  }
}
