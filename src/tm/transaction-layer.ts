// The transaction layer core programs against (RFC 3261 §17, proxy behaviour of §16, Kamailio tm
// suspend/continue). core hands every received message to handleRequest/handleResponse first;
// retransmissions never reach the routes. See src/tm/README.md for the hook contract.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { ConfigError, TransactionError, type Failure } from "../errors.js";
import { IdGenerator } from "../sip/index.js";
import { hash64hex } from "../common/hash64.js";
import { RateLimitedLog } from "../common/rate-limited-log.js";
import type { SipMessageLike } from "../sip/types.js";
import { isEmergencyCall } from "../sip/emergency-call.js";
import { handleCancel } from "./cancel.js";
import { ClientTransaction } from "./client-transaction.js";
import { countError, hookFailed, newTmStats, type TmContext, type TmStats } from "./context.js";
import { ackKey, MAGIC_COOKIE, serverKey } from "./match-key.js";
import { replyLocal, sendBest, sendTrying, type ReplyOptions } from "./reply.js";
import {
  handleResponse,
  onBranchTimeout,
  onLifetimeExpired,
  onSuspendTimeout,
  runFailure,
  runSerial,
} from "./response-handling.js";
import { ServerTransaction } from "./server-transaction.js";
import { continueTx, endSuspension, hold, suspend, type HoldOptions, type SuspensionWatcher } from "./suspend.js";
import { hashIndex, LabelCounters } from "./transaction-id.js";
import { TransactionTable } from "./transaction-table.js";
import { TryingQueue } from "./trying.js";
import { DownstreamOverload, OC_REQUEST_PARAMS, parsePeers } from "./downstream-overload.js";
import { monotonicMs } from "../common/monotonic.js";
import {
  resolveTmOptions,
  type TmDestination,
  type TmCallbacks,
  type TmOptions,
  type TmSource,
  type TmTransport,
} from "./types.js";

export interface TransactionLayerOptions extends TmOptions {
  transport: TmTransport;
  logger: Logger;
}

/**
 * Branches of one transaction that may be held back before its failure route stops being run for
 * them (as Kamailio's max_branches bounds a transaction's branches): a route that relays again on
 * every 503 would otherwise loop for as long as the server asks for everything.
 */
const MAX_HELD_BACK = 12;

function fail(code: Failure["code"], detail: string): Failure {
  return { ok: false, code, detail };
}

export class TransactionLayer {
  /** Counters (plain fields, updated in place). */
  readonly stats: TmStats;
  private readonly ctx: TmContext;
  private readonly labels = new LabelCounters();
  private readonly branchSalt = randomBytes(6).toString("hex");
  private branchSeq = 0;
  /** Local To-tags come from a pooled random source (one randomBytes() per tag cost ~5% CPU). */
  private readonly ids = new IdGenerator();
  /**
   * The server key of the request keyed last, and its hash: a new request is keyed when it arrives
   * (handleRequest) and again when its route asks for a transaction (create), usually in the same
   * turn. Keyed by the message object and method; holds that one message until the next is keyed.
   */
  private keyedMsg: SipMessageLike | undefined;
  private keyedMethod = "";
  private keyedKey: string | undefined;
  private keyedId = 0;

  constructor(opts: TransactionLayerOptions, callbacks: TmCallbacks = {}) {
    this.stats = newTmStats();
    const resolved = resolveTmOptions(opts);
    const table = new TransactionTable(this.stats);
    this.ctx = {
      transport: opts.transport,
      logger: opts.logger,
      log: new RateLimitedLog(opts.logger),
      opts: resolved,
      callbacks,
      stats: this.stats,
      table,
      trying: new TryingQueue(resolved.trying100Delay, {
        findByIdent: (index, label) => table.findByIdent(index, label),
        sendTrying: (st) => sendTrying(this.ctx, st),
        failed: (st, err) => {
          countError(this.ctx, "ERR_TRANSPORT_SEND_FAILED");
          this.ctx.log.log("error", "ERR_TRANSPORT_SEND_FAILED", "tm: sending a 100 Trying failed", {
            err,
            index: st.index,
            label: st.label,
          });
        },
      }),
      downstream: resolved.overloadControl ? this.downstreamOverload(opts.logger, resolved.overloadControlPeers) : undefined,
      onBranchTimeout: (ct) => onBranchTimeout(this.ctx, ct),
      onSuspendTimeout: (st) => onSuspendTimeout(this.ctx, st),
      onLifetimeExpired: (st) => onLifetimeExpired(this.ctx, st),
    };
  }

  /** An operator must see when a server began and stopped asking for less, not only a counter. */
  private downstreamOverload(logger: Logger, peerList: readonly string[]): DownstreamOverload {
    const peers = parsePeers(peerList);
    if (!peers.ok) throw new ConfigError("ERR_CONFIG_INVALID", `tm: overloadControlPeers: ${peers.detail}`);
    const d: DownstreamOverload = new DownstreamOverload({
      clock: monotonicMs,
      sweep: true,
      peers: peers.peers,
      onChange: (server, percent) => {
        this.stats.downstreamReducing = d.reducing; // the count is d's; the stats show it
        if (percent > 0)
          logger.info(
            { server, percent },
            "tm: a server asks for less new work (RFC 7339 oc): that share of new requests to it is answered 503 here",
          );
        else logger.info({ server }, "tm: a server no longer asks for less new work (RFC 7339 oc)");
      },
    });
    return d;
  }

  /** The parameters of evsip's own Via on a request relayed to `dest`: RFC 7339's `oc` when overload control applies to it. */
  viaParamsFor(dest: TmDestination): string {
    const d = this.ctx.downstream;
    return d !== undefined && d.appliesTo(dest) ? OC_REQUEST_PARAMS : "";
  }

  /** A transaction observer of the transaction user threw: counted and logged as tm's own hooks are. */
  hookFailed(err: unknown, hook: string): void {
    hookFailed(this.ctx, err, hook);
  }

  /**
   * First stop for every request. "absorbed": a retransmission (last response re-sent), the ACK
   * of a ≥ 300 final, or a CANCEL matched and answered. "new": run the request route (this
   * includes the ACK of a 2xx, which is end to end, and a CANCEL that matched nothing).
   */
  handleRequest(msg: SipMessageLike, src: TmSource): "absorbed" | "new" {
    const method = msg.method;
    if (method === "ACK") {
      const st = this.lookup(msg);
      if (st?.state === "completed") {
        st.confirm();
        return "absorbed";
      }
      if (st?.state === "confirmed") return "absorbed";
      // The ACK of a 2xx: end to end, so the route sees it. It stops the re-sending of a 2xx we
      // generated and shortens the INVITE transaction's wait. It usually has a branch of its own
      // (matched by dialog and CSeq); a UA that reuses the INVITE's branch, or an RFC 2543 one,
      // matches the INVITE transaction itself.
      const key = st?.ackKey ?? ackKey(msg.callId, msg.cseq.seq, msg.from.tag, msg.to.tag);
      this.ctx.table.takeAckWaiter(key)?.acked();
      return "new";
    }
    const key = this.serverKeyOf(msg, method);
    const st = key === undefined ? undefined : this.ctx.table.findServer(key);
    if (st !== undefined) {
      this.stats.retransmissionsAbsorbed++;
      st.retransmit();
      this.ctx.trying.sendNow(st);
      return "absorbed";
    }
    const ended = key === undefined ? undefined : this.ctx.table.afterEnd(this.keyedId);
    if (ended !== undefined) {
      this.stats.retransmissionsAbsorbed++;
      // A tombstone: its call was answered and ACKed, nothing to re-send.
      if (ended !== "tombstone") {
        this.stats.retransmissionsSent++;
        this.ctx.transport.send(ended.buf, ended.dest);
      }
      return "absorbed";
    }
    if (method === "CANCEL") return handleCancel(this.ctx, msg, src, key, (m, s, k) => this.insert(m, s, k));
    return "new";
  }

  /** First stop for every response: "absorbed" when it matched a client transaction. */
  handleResponse(msg: SipMessageLike, src?: TmSource): "absorbed" | "unmatched" {
    return handleResponse(this.ctx, msg, src);
  }

  /** The server transaction of a request (an ACK finds its INVITE), if any. */
  lookup(msg: SipMessageLike): ServerTransaction | undefined {
    const key = serverKey(msg, msg.method === "ACK" ? "INVITE" : msg.method);
    return key === undefined ? undefined : this.ctx.table.findServer(key);
  }

  /**
   * Past maxTransactions, an emergency call may still take one of a reserve of a hundredth of it
   * (at least one): the limit bounds memory, and emergency calls are too few to threaten it.
   */
  private inEmergencyReserve(msg: SipMessageLike): boolean {
    const max = this.ctx.opts.maxTransactions;
    return this.ctx.table.unfinishedCount < max + Math.max(1, Math.floor(max / 100)) && isEmergencyCall(msg);
  }

  /**
   * t_newtran: the server transaction of `msg`, created when missing. Past maxTransactions it
   * refuses with ERR_TM_LIMIT (the caller answers 503 statelessly). An ACK has no transaction.
   */
  create(msg: SipMessageLike, src: TmSource): ServerTransaction | Failure {
    if (msg.method === "ACK") return fail("ERR_TM_NO_TRANSACTION", "ACK creates no transaction");
    const key = this.serverKeyOf(msg, msg.method);
    const existing = key === undefined ? undefined : this.ctx.table.findServer(key);
    if (existing !== undefined) return existing;
    // Only transactions still working towards a final count: finished ones wait for retransmissions
    // and end on their own, so at a high call rate they never lock out new calls.
    if (this.ctx.table.unfinishedCount >= this.ctx.opts.maxTransactions && !this.inEmergencyReserve(msg)) {
      this.stats.limitRejected++;
      countError(this.ctx, "ERR_TM_LIMIT");
      return fail("ERR_TM_LIMIT", `tm: ${this.ctx.opts.maxTransactions} transactions alive`);
    }
    try {
      return this.insert(msg, src, key);
    } catch (e) {
      return fail("ERR_TM_NO_TRANSACTION", `tm: cannot create transaction: ${(e as Error).message}`);
    }
  }

  /** t_reply: replies statefully. false when a final was already sent or the transaction ended. */
  reply(st: ServerTransaction, status: number, reason: string, opts?: ReplyOptions): boolean {
    return replyLocal(this.ctx, st, status, reason, opts);
  }

  /**
   * Our branches for `st` are derived from the request's own transaction key, not drawn at random:
   * a retransmission that reaches a restarted router leaves with the branch the old process gave
   * it, so the next hop sees a retransmission (and repeats its answer) instead of a new transaction
   * for a call it has already ended. (RFC 3261 §16.11 asks this of stateless proxies.) A request
   * whose Via could not be keyed gets a random one.
   */
  private branchBase(st: ServerTransaction): string {
    // A CANCEL, or the ACK of a non-2xx, must leave on its INVITE's branch (RFC 3261 §9.1, §17.1.1.3):
    // after a restart nothing else knows which one, so it is derived from the INVITE's key (branch 0).
    const m = st.method;
    const key = m === "CANCEL" || m === "ACK" ? serverKey(st.msg, "INVITE") : st.key;
    if (key === undefined) return `${MAGIC_COOKIE}${this.branchSalt}${(this.branchSeq++).toString(36)}`;
    // The upstream branch alone may repeat over time (a phone's counter after a reboot, two phones
    // behind NATs with one private address): the source, Call-ID, From-tag and CSeq make it unique,
    // and are the same in every retransmission.
    const msg = st.msg;
    const src = st.src;
    const id = `${key}\u0000${src.remoteAddr}:${src.remotePort}\u0000${msg.callId}\u0000${msg.from.tag ?? ""}\u0000${msg.cseq.seq}`;
    return `${MAGIC_COOKIE}${hash64hex(id)}`;
  }

  /**
   * t_relay: opens a client transaction to `dest`. `build(branch)` returns the request bytes with
   * core's Via carrying `branch` on top. For an INVITE a 100 is scheduled after the branch has left
   * (trying.ts: sent after trying100Delay unless another response has gone up by then).
   */
  relay(st: ServerTransaction, dest: TmDestination, build: (branch: string) => Buffer): ClientTransaction | Failure {
    if (st.isTerminated) return fail("ERR_TM_NOT_FOUND", "tm: transaction ended");
    if (st.isCancelled) return fail("ERR_TM_CANCELLED", "tm: transaction cancelled");
    if (st.isFinal) return fail("ERR_TM_ALREADY_REPLIED", "tm: final response already sent");
    if (st.suspension !== undefined) endSuspension(this.ctx, st);
    st.branchBase ??= this.branchBase(st);
    const branch = `${st.branchBase}.${st.branches.length}`;
    let buf: Buffer;
    try {
      buf = build(branch);
    } catch (e) {
      return fail("ERR_FORWARD_NO_TARGET", `tm: building the request failed: ${(e as Error).message}`);
    }
    // Held back only once it is known that it could be sent: a request with nowhere to go (no
    // listener for our Via) fails as such, not behind an overload 503.
    const downstream = this.ctx.downstream;
    if (downstream !== undefined && downstream.holdsBack(dest, st.msg)) return this.holdBack(st, dest, branch);
    const ct = new ClientTransaction(this.ctx, st, "branch", branch, st.method, dest, buf);
    if (!ct.start()) {
      countError(this.ctx, "ERR_TRANSPORT_SEND_FAILED");
      return fail("ERR_TRANSPORT_SEND_FAILED", `tm: cannot send to ${dest.proto}:${dest.addr}:${dest.port}`);
    }
    st.branches.push(ct);
    // The 100 goes upstream after the branch has left, not before: the request is what the call
    // waits on, and each datagram sent can wake a peer that takes this core for a while. With
    // trying100Delay it waits that long for the callee's own provisional or final (trying.ts). (A
    // relay that fails sends none: the route answers, or relays again and that branch sends it.)
    this.ctx.trying.schedule(st, true);
    return ct;
  }

  /**
   * A branch to a server that asks for less new work, held back instead of sent (RFC 7339 §5.10):
   * it fails with a local 503 (without Retry-After: the router itself is not unavailable), so that a
   * failure route can send the call elsewhere, or the caller gets the 503. It fails in a later turn,
   * never inside the relay call, and counts as pending until then: a failure route that relays
   * again, or a continue route that ends, must not answer meanwhile. Nothing is sent, and no 100
   * Trying is scheduled.
   */
  private holdBack(st: ServerTransaction, dest: TmDestination, branch: string): ClientTransaction {
    const ct = new ClientTransaction(this.ctx, st, "branch", branch, st.method, dest, Buffer.alloc(0));
    ct.holdBack();
    st.branches.push(ct);
    st.heldBackPending++;
    this.stats.heldBack++;
    const ctx = this.ctx;
    // Not a microtask: a failure route that relays again to a server still asking for everything
    // would hold back and fail again before any I/O or timer could run.
    setImmediate(() =>
      runSerial(ctx, st, () => {
        st.heldBackPending--;
        if (st.hasPending) return;
        // Past MAX_HELD_BACK such branches the failure route is not run again: the best response goes up.
        if (st.branches.filter((b) => b.isHeldBack).length >= MAX_HELD_BACK) return sendBest(ctx, st);
        return runFailure(ctx, st, { cause: "overload", status: 503, reason: ct.localReason, branch: ct, response: undefined });
      }),
    );
    return ct;
  }

  /**
   * A request evsip sends on its own (Kamailio's t_request_within, for a dialog's BYE or OPTIONS):
   * a client transaction with no server transaction above it, retransmitted and timed out like a
   * branch. `build(branch)` returns the bytes with our Via carrying `branch`; `done` gets the final
   * status and response once (408 and no response on timeout). Not for INVITE (no ACK of a 2xx).
   */
  request(
    method: string,
    dest: TmDestination,
    build: (branch: string) => Buffer,
    done: (status: number, res: SipMessageLike | undefined) => void,
  ): ClientTransaction | Failure {
    if (method === "INVITE" || method === "ACK" || method === "CANCEL") {
      return fail("ERR_TM_NO_TRANSACTION", `tm: a local ${method} is not supported`);
    }
    const branch = `${MAGIC_COOKIE}${this.branchSalt}L${(this.branchSeq++).toString(36)}`;
    let buf: Buffer;
    try {
      buf = build(branch);
    } catch (e) {
      return fail("ERR_FORWARD_NO_TARGET", `tm: building the request failed: ${(e as Error).message}`);
    }
    const ct = new ClientTransaction(this.ctx, undefined, "local", branch, method, dest, buf);
    ct.onLocalFinal = done;
    if (!ct.start()) {
      countError(this.ctx, "ERR_TRANSPORT_SEND_FAILED");
      return fail("ERR_TRANSPORT_SEND_FAILED", `tm: cannot send to ${dest.proto}:${dest.addr}:${dest.port}`);
    }
    this.stats.localRequests++;
    return ct;
  }

  /**
   * t_suspend: schedules the 100 of an INVITE without a reply (trying.ts), arms frTimer, returns
   * the identifiers; `watcher` is told when the suspension ends.
   * undefined when the transaction is cancelled, finally replied or gone.
   */
  suspend(st: ServerTransaction, watcher?: SuspensionWatcher): { index: number; label: number } | undefined {
    return suspend(this.ctx, st, undefined, undefined, watcher);
  }

  /**
   * t_continue lookup: the suspended transaction, now resumed, for core to run the named route
   * on (then ensureReplied). false for unknown, finished, not suspended, held by hold(), or a
   * second continue (logged why). After a CANCEL while suspended it returns the transaction once
   * with isCancelled set: core returns true and runs nothing.
   */
  continue(index: number | string, label: number | string): ServerTransaction | false {
    return continueTx(this.ctx, index, label);
  }

  /**
   * Holds st suspended until `promise` settles. Rejects with TransactionError ERR_TM_TIMEOUT after
   * min(timeout, frTimer) (st then gets the suspension-timeout 408 handling), ERR_TM_CANCELLED on
   * CANCEL (487 already sent), or at once when st cannot be suspended.
   */
  hold<T>(st: ServerTransaction, promise: Promise<T>, opts: HoldOptions = {}): Promise<T> {
    return hold(this.ctx, st, promise, opts);
  }

  /**
   * Ends a plain suspension (not one held by hold()) without a reply or the failure route: for a
   * suspension whose event could not be sent, or a route that failed after suspending.
   */
  unsuspend(st: ServerTransaction): boolean {
    const s = st.suspension;
    if (s === undefined || s.settle !== undefined) return false;
    endSuspension(this.ctx, st);
    return true;
  }

  /** Forgets a transaction that has no final reply and nothing pending, quietly (Kamailio t_release). */
  release(st: ServerTransaction): boolean {
    if (st.isFinal || st.isTerminated || st.hasPending) return false;
    // Without its 100 the caller would re-send the INVITE, and each copy would be a new call.
    this.ctx.trying.sendNow(st);
    st.terminate();
    return true;
  }

  /** After a route: with neither a final reply nor a pending branch, reply `status` (default 500). */
  ensureReplied(st: ServerTransaction, status = 500, reason = "Server Error"): boolean {
    if (st.isFinal || st.isTerminated || st.hasPending) return false;
    return replyLocal(this.ctx, st, status, reason);
  }

  /** Server transactions that have not sent a final response yet. */
  get unfinished(): number {
    return this.ctx.table.unfinishedCount;
  }

  /**
   * A graceful stop ran out of time: every transaction without a final gets `status` (a suspension
   * or hold() ends with ERR_TM_SHUTDOWN, pending branches are cancelled). Returns how many.
   */
  answerUnfinished(status: number, reason: string, headers: readonly string[]): number {
    let n = 0;
    for (const st of [...this.ctx.table.servers()]) {
      if (st.isFinal || st.isTerminated) continue;
      endSuspension(
        this.ctx,
        st,
        new TransactionError("ERR_TM_SHUTDOWN", "tm: the router stopped before this transaction was answered"),
      );
      if (replyLocal(this.ctx, st, status, reason, { headers })) n++;
    }
    return n;
  }

  /** Clears every timer and forgets every transaction. */
  stop(): void {
    this.ctx.trying.stop();
    this.ctx.downstream?.close();
    for (const st of [...this.ctx.table.servers()]) st.terminate();
    for (const ct of [...this.ctx.table.clientList()]) ct.terminate();
    this.ctx.table.clear();
    this.ctx.log.flush();
  }

  /** serverKey(msg, method), from the memo when msg was keyed last (its hash is then keyedId). */
  private serverKeyOf(msg: SipMessageLike, method: string): string | undefined {
    if (msg !== this.keyedMsg || method !== this.keyedMethod) {
      this.keyedMsg = msg;
      this.keyedMethod = method;
      this.keyedKey = serverKey(msg, method);
      this.keyedId = this.keyedKey === undefined ? 0 : this.ctx.table.keyId(this.keyedKey);
    }
    return this.keyedKey;
  }

  private insert(msg: SipMessageLike, src: TmSource, key: string | undefined): ServerTransaction {
    const index = hashIndex(msg.callId, msg.cseq.seq);
    const id = key === undefined ? 0 : key === this.keyedKey ? this.keyedId : this.ctx.table.keyId(key);
    const st = new ServerTransaction(this.ctx, msg, src, index, this.labels.next(index), key, id, this.ids);
    this.ctx.table.addServer(st);
    this.stats.created++;
    return st;
  }
}
