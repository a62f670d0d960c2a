// The event socket: a TCP server with a fixed client slot table, per-client bounded send queues
// flushed once per loop turn, ordered inboxes run by the worker pool, and every close path
// (peer, protocol error, slow client, idle timeout, script, stop) counted by reason. Accepted sockets
// get TCP keep-alive (30 s) so a vanished peer is noticed. No route code here: events
// go out through the `runEvent` hook, so this file knows nothing of the engine.
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import type { Logger } from "pino";
import type { ErrorCode } from "../../errors.js";
import { formatHostPort, parseHostPort } from "../../common/host-port.js";
import { EvapiConnection, type EvapiClientInfo, type InboxItem } from "./connection.js";
import { ClientTable } from "./client-table.js";
import { EvapiEvent, type EvapiEventName } from "./event-data.js";
import { watchIdle, unwatchIdle } from "./idle-timer.js";
import { createReader } from "./message-reader.js";
import { BIND_ADDR_RULES, type EvapiParams } from "./params.js";
import { newEvapiStats, bump, type EvapiStats } from "./stats.js";
import { queued, WorkerPool } from "../../common/worker-pool.js";
import { endAndLinger, NOTICE_LINGER_MS, type CutBy } from "../../common/end-socket.js";
import { writeAll } from "../../common/pieced-write.js";
import { DrainGate, isStalled, turnPassed } from "./producer-backpressure.js";
import { RateLimitedLog } from "../../common/rate-limited-log.js";
import { atTurnEnd } from "../../common/turn-end.js";
import { AuthGate, type Admission } from "./auth/auth-gate.js";
import { TokenTable } from "./auth/token-table.js";
import { TlsCredentials } from "./tls-credentials.js";
import { encodeNetstring } from "evsip-client/netstring";

/** How the service reaches the script. */
export interface EvapiHooks {
  /** Runs the event route (or the eventCallback); may return a promise, which is awaited. */
  runEvent(name: EvapiEventName, event: EvapiEvent): unknown;
  /** Offered every received message first; true when it was consumed (a request() reply). */
  intercept?(msg: string): boolean;
  /** Offered every received message before intercept; true when it was a durable control message. */
  control?(c: EvapiConnection, msg: string): boolean;
  /** A client authenticated with a token (its grants set), before connection-new runs. */
  admitted?(c: EvapiConnection): void;
  /** A client is closing (before connection-closed runs). */
  closed?(c: EvapiConnection): void;
  /** A client's connection-new has run: it can be sent events now. */
  ready?(c: EvapiConnection): void;
  /**
   * A closed client's last message has been handled (or discarded, for a close by the script):
   * whatever it was sent and did not answer by then, it never will.
   */
  gone?(c: EvapiConnection): void;
  /** Every dirty client was just flushed. */
  flushed?(): void;
}

/** Why a client was closed: a peer close, a protocol error code, or one of evsip's reasons. */
export type CloseReason = "peer" | "script" | "stop" | ErrorCode;

export class EvapiService {
  readonly stats: EvapiStats = newEvapiStats();
  readonly table: ClientTable;
  /** Producers waiting for room (ctx.evapi.drain()). */
  readonly gate: DrainGate;
  private readonly log: RateLimitedLog;
  private readonly params: EvapiParams;
  private readonly logger: Logger;
  private readonly hooks: EvapiHooks;
  private readonly pool: WorkerPool<InboxItem, EvapiConnection>;
  private readonly dirty = new Set<EvapiConnection>();
  private flushScheduled = false;
  private server: NetServer | undefined;
  /** Set when connections must authenticate before they get a slot (tokens configured). */
  private readonly authGate: AuthGate | undefined;

  constructor(params: EvapiParams, logger: Logger, hooks: EvapiHooks) {
    this.params = params;
    this.logger = logger;
    this.hooks = hooks;
    this.authGate = this.createGate();
    this.table = new ClientTable(params.maxClients);
    this.gate = new DrainGate(this.table, params.maxQueueBytes, params.slowClientGrace);
    this.log = new RateLimitedLog(logger);
    this.pool = new WorkerPool<InboxItem, EvapiConnection>(
      params.workers,
      (client, item) => this.handleItem(client, item),
      (err) => this.logger.error({ err, code: "ERR_ROUTE_THREW" }, "evapi event handler failed"),
    );
  }

  /** Opens the listening socket. */
  async start(): Promise<void> {
    const r = parseHostPort(this.params.bindAddr, BIND_ADDR_RULES);
    if (!r.ok) throw new Error(`evapi.bindAddr: ${r.detail}`);
    const addr = r.addr;
    const server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 }, (s) =>
      this.authGate ? this.authGate.accept(s) : this.onConnection(s),
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: addr.host, port: addr.port, backlog: 511 }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => this.logger.error({ err }, "evapi listener error"));
    this.authGate?.start();
    const a = this.address();
    this.logger.info(`evapi listening on ${formatHostPort(a.address, a.port)}`);
  }

  /** The bound address (the real port when bindAddr asked for port 0). */
  address(): AddressInfo {
    const a = this.server?.address();
    if (!a || typeof a === "string") throw new Error("evapi is not listening");
    return a;
  }

  /**
   * Closes the listener and every client (no connection-closed routes run). What is queued for a
   * client goes out ahead of its FIN: a graceful stop comes right after the last call, whose events
   * may still be queued. A client that has not read them after NOTICE_LINGER_MS is cut, counted and
   * logged.
   */
  async stop(): Promise<void> {
    this.authGate?.stop();
    for (const c of [...this.table.all()]) this.closeClient(c, "stop", false, STOPPING);
    this.gate.release();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Queues a frame to `recipients`; returns how many took it (slow clients per policy). Those that
   * took it are added to `took` when given.
   */
  sendFrame(frame: Buffer, recipients: readonly EvapiConnection[], took?: EvapiConnection[]): number {
    let n = 0;
    const limit = this.params.maxQueueBytes;
    for (const c of recipients) {
      if (!c.connected) continue;
      if (c.pendingBytes + frame.length > limit) {
        this.overflow(c, frame.length);
        continue;
      }
      if (c.dropStreak > 0) {
        this.logger.info({ conidx: c.conidx, dropped: c.dropStreak }, "evapi slow client caught up");
        c.dropStreak = 0;
      }
      c.queue.push(frame);
      n++;
      took?.push(c);
      this.gate.queued(c);
      this.markDirty(c);
    }
    this.stats.eventsQueued += n;
    return n;
  }

  /** Queues a frame to one client with no slow-client policy (durable delivery checks room itself). */
  push(c: EvapiConnection, frame: Buffer): void {
    if (!c.connected) return;
    c.queue.push(frame);
    this.markDirty(c);
  }

  /** Closes a client for a protocol reason: logged, counted, connection-closed runs; `farewell` goes out last. */
  fail(c: EvapiConnection, code: ErrorCode, detail: string, farewell?: Buffer): void {
    if (c.connected) this.protocolError(c, code, detail, farewell);
  }

  /** Closes a client at the script's request: no connection-closed route (as Kamailio). */
  closeByScript(conidx: number): boolean {
    const c = this.table.get(conidx);
    return c ? this.closeClientByScript(c) : false;
  }

  /** closeByScript for a client object (the current event's, even if its slot was reused). */
  closeClientByScript(c: EvapiConnection): boolean {
    if (!c.connected) return false;
    this.closeClient(c, "script", false);
    return true;
  }

  clients(): EvapiClientInfo[] {
    const out: EvapiClientInfo[] = [];
    for (const c of this.table.all()) if (c.connected) out.push(c.info());
    return out;
  }

  /** Reads the TLS certificate and key again for new connections (as SIGHUP does); false when there is no tls or it failed. */
  reloadTls(): boolean {
    return this.authGate?.reloadTls() ?? false;
  }

  /** Connections waiting to authenticate (0 without tokens). */
  get unauthenticated(): number {
    return this.authGate?.size ?? 0;
  }

  private createGate(): AuthGate | undefined {
    const p = this.params;
    if (p.tokens.length === 0 && p.tls === undefined) return undefined;
    const encode = p.netstringFormat ? (t: string) => encodeNetstring(t) : (t: string) => Buffer.from(t, "utf8");
    return new AuthGate(
      {
        tokens: p.tokens.length > 0 ? new TokenTable(p.tokens) : undefined,
        tls: p.tls ? new TlsCredentials(p.tls, this.logger) : undefined,
        timeout: p.authTimeout,
        maxPending: p.maxUnauthenticated,
        netstringFormat: p.netstringFormat,
        rawDelimiter: p.rawDelimiter,
      },
      {
        stats: this.stats,
        logger: this.logger,
        encode,
        admit: (s, a) => this.onConnection(s, a),
        hasRoom: () => this.table.freeSlot() >= 0,
      },
    );
  }

  private onConnection(socket: Socket, admission?: Admission): void {
    const slot = this.table.freeSlot();
    if (slot < 0) {
      this.stats.connectionsRejected++;
      bump(this.stats.errors, "ERR_EVAPI_MAX_CLIENTS");
      // Rate-limited: a client that reconnects in a loop while the slots are full must not flood the log.
      this.log.warn("ERR_EVAPI_MAX_CLIENTS", "evapi: too many clients, connection closed", {
        peer: `${socket.remoteAddress}:${socket.remotePort}`,
        maxClients: this.params.maxClients,
      });
      socket.on("error", () => undefined);
      socket.destroy();
      return;
    }
    const c = new EvapiConnection(slot, socket);
    if (admission) {
      c.grants = admission.grants;
      c.tag = admission.tag;
      if (admission.hello) socket.write(admission.hello);
    }
    this.table.put(c);
    if (c.grants) this.hooks.admitted?.(c);
    this.stats.connectionsAccepted++;
    socket.on("error", (err) => this.logger.debug({ conidx: c.conidx, err }, "evapi client socket error"));
    socket.on("close", () => this.closeClient(c, "peer", true));
    // The peer has finished sending (FIN). Nothing more is queued for it (Node would end our side on
    // the next tick, and a write after that destroys the socket); what already was goes out now,
    // ahead of our FIN, as a flush that writes one piece at a time would not manage.
    socket.on("end", () => this.closeClient(c, "peer", true, PEER_ENDED));
    socket.on("drain", () => {
      // A flush hands Node one piece at a time (connection.ts); the rest goes now.
      if (c.queue.length > 0) this.stats.bytesSent += c.flush();
      this.gate.check();
    });
    this.logger.debug({ conidx: slot, peer: `${c.srcaddr}:${c.srcport}` }, "evapi client connected");
    const r = this.hooks.runEvent("evapi:connection-new", new EvapiEvent("evapi:connection-new", c, null));
    const read = (): void => this.startReading(c);
    if (r instanceof Promise) r.then(read, read);
    else read();
  }

  // Reading starts after connection-new, as Kamailio creates the read watcher after that route.
  private startReading(c: EvapiConnection): void {
    if (!c.connected) return;
    this.hooks.ready?.(c);
    const p = this.params;
    const reader = createReader({
      netstringFormat: p.netstringFormat,
      rawDelimiter: p.rawDelimiter,
      maxMessageSize: p.maxMessageSize,
      onMessage: (payload) => this.onMessage(c, payload),
      onEmpty: () => this.stats.emptyMessages++,
    });
    c.reader = reader;
    c.lastRx = Date.now();
    if (p.idleTimeout > 0) watchIdle(c, p.idleTimeout, (x) => this.onIdle(x));
    c.socket.on("data", (chunk: Buffer) => {
      c.lastRx = Date.now();
      this.stats.bytesReceived += chunk.length;
      const r = reader.push(chunk);
      if (!r.ok && c.connected) this.protocolError(c, r.code, r.detail);
    });
    c.socket.resume(); // an authenticated socket was paused at the gate; a plain one flows already
  }

  private onIdle(c: EvapiConnection): void {
    const code: ErrorCode = "ERR_EVAPI_IDLE_TIMEOUT";
    bump(this.stats.errors, code);
    this.logger.warn(
      { code, conidx: c.conidx, peer: `${c.srcaddr}:${c.srcport}`, idleTimeout: this.params.idleTimeout },
      "evapi client idle, closed",
    );
    this.closeClient(c, code, true);
  }

  private onMessage(c: EvapiConnection, payload: Buffer): void {
    if (!c.connected) return;
    this.stats.messagesReceived++;
    const msg = payload.toString("utf8");
    if (this.hooks.control?.(c, msg) || this.hooks.intercept?.(msg)) return;
    this.pool.enqueue(c, msg);
  }

  private protocolError(c: EvapiConnection, code: ErrorCode, detail: string, farewell?: Buffer): void {
    bump(this.stats.errors, code);
    this.logger.warn(
      { code, conidx: c.conidx, peer: `${c.srcaddr}:${c.srcport}`, detail },
      "evapi protocol error, client closed",
    );
    this.closeClient(c, code, true, farewell);
  }

  private overflow(c: EvapiConnection, frameBytes: number): void {
    const code: ErrorCode = "ERR_EVAPI_SLOW_CLIENT";
    if (this.params.slowClient === "drop") {
      bump(this.stats.drops, "slow-client");
      if (c.dropStreak++ === 0) {
        this.logger.warn(
          { code, conidx: c.conidx, queued: c.pendingBytes, frameBytes },
          "evapi client queue full, dropping events",
        );
      }
      return;
    }
    if (!isStalled(c, Date.now(), this.params.slowClientGrace)) {
      // Turns must pass for a hung client to be found out even when nothing else is queued, and a
      // producer's next drain() must wait for this client once it reads again.
      turnPassed();
      this.gate.markFull();
      this.burstDrop(c, frameBytes);
      return;
    }
    bump(this.stats.errors, code);
    this.logger.warn({ code, conidx: c.conidx, queued: c.pendingBytes, frameBytes }, "evapi client queue full, client closed");
    this.closeClient(c, code, true);
  }

  // The queue is full but the client's kernel took bytes within the grace: a burst outran a reading
  // client (README.md "Producer backpressure"), or one that stopped reading is not found out yet. The
  // event is dropped for this client, which stays connected until the grace decides.
  private burstDrop(c: EvapiConnection, frameBytes: number): void {
    const code: ErrorCode = "ERR_EVAPI_PRODUCER_BURST";
    bump(this.stats.drops, "producer-burst");
    if (c.dropStreak++ > 0) return;
    bump(this.stats.errors, code);
    this.log.warn(
      code,
      "evapi client queue full within slowClientGrace of its last progress: dropping events for it (a burst outran it: await ctx.evapi.drain(); or it stopped reading: closed once the grace runs out)",
      {
        conidx: c.conidx,
        queued: c.pendingBytes,
        frameBytes,
        sinceProgressMs: Date.now() - c.progressAt,
      },
    );
  }

  /**
   * Every close goes through here once; later calls (e.g. the socket's 'close') are no-ops. With a
   * farewell (a coded notice, PEER_ENDED when the peer sent its FIN, STOPPING) what is queued is delivered
   * first; without one the socket is destroyed and the queue counted as dropped.
   */
  private closeClient(
    c: EvapiConnection,
    reason: CloseReason,
    runRoute: boolean,
    farewell?: Buffer | typeof PEER_ENDED | typeof STOPPING,
  ): void {
    if (!c.connected) return;
    c.connected = false;
    this.hooks.closed?.(c);
    unwatchIdle(c);
    bump(this.stats.closes, reason);
    if (c.reader?.partial && reason === "peer") this.stats.truncatedOnClose++;
    c.reader?.destroy();
    if (farewell) {
      // Read again (a full inbox may have paused the socket): the client's FIN or reset must be
      // seen, or the close waits out its linger, and at a stop nothing else keeps the process up.
      c.socket.resume();
      // A farewell goes out after what was already queued, so nothing before it is lost.
      this.stats.bytesSent += writeAll(c.socket, c.queue);
    }
    const dropped = c.queue.length;
    if (dropped > 0) bump(this.stats.drops, "closed", dropped);
    c.queue.clear();
    this.dirty.delete(c);
    if (farewell === undefined) c.socket.destroy();
    else {
      const linger = farewell === PEER_ENDED ? HALF_CLOSED_LINGER_MS : NOTICE_LINGER_MS;
      endAndLinger(c.socket, linger, farewell instanceof Buffer ? farewell : undefined, this.cutAfterClose(c));
    }
    this.gate.check(); // a producer waiting for this client waits no more
    this.logger.info({ conidx: c.conidx, peer: `${c.srcaddr}:${c.srcport}`, reason, unsent: dropped }, "evapi client closed");
    // Deferred so that a route never runs inside another route's relay() call.
    if (runRoute) queueMicrotask(() => this.pool.enqueue(c, null));
    else {
      this.stats.discardedMessages += messagesQueued(c);
      this.pool.discard(c);
      this.hooks.gone?.(c);
      this.table.release(c);
    }
  }

  /** A closed client left bytes unread until its linger ran out: counted and logged, not lost silently. */
  private cutAfterClose(c: EvapiConnection): (unsent: number, by: CutBy) => void {
    return (unsent, by) => {
      this.stats.cutOnClose++;
      this.stats.cutBytes += unsent;
      this.logger.warn(
        { code: "ERR_EVAPI_SLOW_CLIENT", conidx: c.conidx, peer: `${c.srcaddr}:${c.srcport}`, unsent, by },
        by === "reset"
          ? "evapi client reset the connection before reading what was queued for it"
          : "evapi client closed without reading what was queued for it: socket destroyed",
      );
    };
  }

  /**
   * Runs `then` once the messages `c` sent before now have been handled (at once when none wait):
   * an answer it sent just before turning listen-only still counts as its answer.
   */
  afterQueued(c: EvapiConnection, then: () => void): void {
    if (!c.running && queued(c) === 0) then();
    else this.pool.enqueue(c, then);
  }

  private handleItem(c: EvapiConnection, item: InboxItem): unknown {
    if (typeof item === "function") return item();
    if (item !== null) return this.hooks.runEvent("evapi:message-received", new EvapiEvent("evapi:message-received", c, item));
    this.hooks.gone?.(c); // its messages, answers included, ran before this
    const r = this.hooks.runEvent("evapi:connection-closed", new EvapiEvent("evapi:connection-closed", c, null));
    if (r instanceof Promise) return r.finally(() => this.table.release(c));
    this.table.release(c);
    return r;
  }

  private markDirty(c: EvapiConnection): void {
    this.dirty.add(c);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    atTurnEnd(this.flushAll);
  }

  // One corked write batch per client per loop turn, however many events were queued in it.
  private readonly flushAll = (): void => {
    this.flushScheduled = false;
    turnPassed();
    for (const c of this.dirty) this.stats.bytesSent += c.flush();
    this.dirty.clear();
    this.hooks.flushed?.();
    this.gate.check();
  };
}

/** closeClient's farewell for a peer that sent its FIN: deliver the queue, add no frame. */
const PEER_ENDED = Symbol("peer ended");

/** closeClient's farewell when the module stops: deliver the queue, add no frame. */
const STOPPING = Symbol("stopping");

/** How long a peer that half-closed gets to read what was queued for it. */
const HALF_CLOSED_LINGER_MS = 10_000;

/** The messages still queued for `c`, not counting work queued behind them (afterQueued). */
function messagesQueued(c: EvapiConnection): number {
  let n = 0;
  for (let i = c.inboxHead; i < c.inbox.length; i++) if (typeof c.inbox[i] !== "function") n++;
  return n;
}
