// The transaction tables: server transactions by match key and by (index, label), client
// transactions by branch + method. Plain Maps (O(1) insert/lookup/delete); the 65536 "buckets"
// exist only as the index space and the label counters, as in Kamailio's h_table.
import { fnv1a53 } from "../common/fnv1a.js";
import { monotonicMs } from "../common/monotonic.js";
import { SteadyMap } from "../common/steady-map.js";
import type { ClientTransaction } from "./client-transaction.js";
import type { TmStats } from "./context.js";
import type { ServerTransaction } from "./server-transaction.js";
import { ExpiringRecords, type RememberedAnswer } from "./expiring-records.js";
import { identKey } from "./transaction-id.js";
import type { TmDestination } from "./types.js";

/**
 * A 53-bit hash of a match key, kept instead of the key: the key is a slice of the parsed request's
 * text and would keep all of it alive (measured ~385 B per tombstone). Two FNV-1a runs with
 * different bases; a collision would absorb one new INVITE, at odds of about 10⁻¹² per INVITE
 * with 10,000 tombstones alive.
 */
function tombstoneId(key: string): number {
  return fnv1a53(key);
}

export class TransactionTable {
  // SteadyMaps, not Maps: entries churn at the call rate (see common/steady-map.ts).
  private readonly byKey = new SteadyMap<string, ServerTransaction>();
  private readonly byIdent = new SteadyMap<number, ServerTransaction>();
  private readonly clients = new SteadyMap<string, ClientTransaction>();
  /** INVITE transactions re-sending their own 2xx until its ACK, by ackKey. */
  private readonly awaitingAck = new SteadyMap<string, ServerTransaction>();
  /** Server transactions that have not sent a final response yet. */
  private unfinished = 0;
  /**
   * What is kept of ended transactions, without a heap object per entry (expiring-records.ts):
   * - tombstones: INVITE transactions ended at their 2xx's ACK, for T4;
   * - answered: non-INVITE transactions answered over UDP, their final's bytes and where they went,
   *   until Timer J (a whole transaction kept 32 s for this held ~4 KB per call);
   * - clientTombstones: client transactions ended at a final they only wait to absorb copies of (a
   *   non-INVITE in Timer K, an INVITE branch whose 2xx's ACK went through), for T4.
   * Each is made on first use, its span the first entry's time to live.
   */
  private tombstones: ExpiringRecords | undefined;
  private answered: ExpiringRecords | undefined;
  private clientTombstones: ExpiringRecords | undefined;

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
   * Keeps the key `id` (keyId()) for `ms` after its transaction ended: a retransmission of that
   * request still in the network is then absorbed instead of starting a second call.
   */
  tombstone(id: number, ms: number): void {
    if (ms <= 0) return;
    (this.tombstones ??= new ExpiringRecords(ms)).add(id, monotonicMs(), ms);
  }

  /** The id a server transaction's match key is remembered by after it ends (afterEnd, tombstone, rememberAnswer). */
  keyId(key: string): number {
    return tombstoneId(key);
  }

  /** Absorbs responses to the ended client transaction `key` for `ms`. */
  tombstoneClient(key: string, ms: number): void {
    if (ms <= 0) return;
    (this.clientTombstones ??= new ExpiringRecords(ms)).add(tombstoneId(key), monotonicMs(), ms);
  }

  /** True while a response to the client transaction `key` is a late copy to absorb. */
  isClientTombstone(key: string): boolean {
    return this.clientTombstones?.has(tombstoneId(key), monotonicMs()) === true;
  }

  /** Keeps a copy of `buf` (sent to `dest`) as the answer to a retransmission of key `id` for `ms`. */
  rememberAnswer(id: number, buf: Buffer, dest: TmDestination, ms: number): void {
    if (ms <= 0) return;
    (this.answered ??= new ExpiringRecords(ms)).add(id, monotonicMs(), ms, buf, dest);
  }

  /**
   * What is left of the transaction of key `id` (keyId()) after it ended: the answer to re-send (a
   * non-INVITE within Timer J), "tombstone" (an INVITE ended at its ACK, within T4), or undefined.
   */
  afterEnd(id: number): RememberedAnswer | "tombstone" | undefined {
    if (this.answered === undefined && this.tombstones === undefined) return undefined;
    const now = monotonicMs();
    const a = this.answered?.answer(id, now);
    if (a !== undefined) return a;
    return this.tombstones?.has(id, now) === true ? "tombstone" : undefined;
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
    this.tombstones?.clear();
    this.answered?.clear();
    this.clientTombstones?.clear();
    this.byKey.clear();
    this.byIdent.clear();
    this.awaitingAck.clear();
    this.unfinished = 0;
    this.clients.clear();
    this.stats.serverTransactions = 0;
    this.stats.clientTransactions = 0;
  }
}
