// The router's side of one evapi connection (the SDK's EvapiClient is the peer's side): its slot
// (conidx), peer address, tag, bounded send queue and ordered inbox. Writes happen once per
// event-loop turn (the service flushes dirty connections from one setImmediate) and on `drain`,
// corked when there is more than one, whole frames only, in pieces of at most 64 KB held by Node
// (common/pieced-write.ts); the queue bound counts what Node still holds.
import type { Socket } from "node:net";
import { SendQueue } from "../../common/send-queue.js";
import { writePieces } from "../../common/pieced-write.js";
import type { MessageReader } from "./message-reader.js";
import type { InboxOwner } from "../../common/worker-pool.js";
import type { EventFilter } from "./subscriptions/event-patterns.js";
import { currentTurn, noteProgress } from "./producer-backpressure.js";
import type { EvapiGrants } from "./auth/grants.js";

/**
 * An inbox item: a received message, null for "the connection closed" (runs connection-closed), or
 * work that must wait for the messages before it (EvapiService.afterQueued).
 */
export type InboxItem = string | null | (() => void);

/** A snapshot row of clients(). */
export interface EvapiClientInfo {
  readonly conidx: number;
  readonly srcaddr: string;
  readonly srcport: number;
  readonly tag: string;
  readonly queuedBytes: number;
}

/** One accepted evapi connection in its slot (a "client" in Kamailio's terms, hence `clients()`). */
export class EvapiConnection implements InboxOwner<InboxItem> {
  readonly conidx: number;
  readonly socket: Socket;
  readonly srcaddr: string;
  readonly srcport: number;
  /** "" when untagged. */
  tag = "";
  /** The events this client subscribed to; undefined (never subscribed) = every event, as Kamailio. */
  events: EventFilter | undefined = undefined;
  /** True while events may be sent and messages read; false once closing. */
  connected = true;
  readonly queue = new SendQueue();
  readonly inbox: InboxItem[] = [];
  inboxHead = 0;
  inboxHigh = false;
  running = false;
  waitingForWorker = false;
  /** Set once reading starts (after connection-new). */
  reader: MessageReader | undefined = undefined;
  /** Events dropped for this client since its last successful queueing (slowClient "drop"). */
  dropStreak = 0;
  /** Date.now() when the kernel last took bytes Node held for this client (producer-backpressure.ts). */
  progressAt = Date.now();
  /** The loop turn of that progress (producer-backpressure.ts). */
  progressTurn = currentTurn();
  /** socket.writableLength when last looked at. */
  lastHeld = 0;
  /** Date.now() of the last bytes read from the client (idleTimeout). */
  lastRx = 0;
  /** The idleTimeout timer, while one runs. */
  idleTimer: NodeJS.Timeout | undefined = undefined;
  /**
   * Set by `{"evsip":"listen"}`: the client watches and never answers (evsip tap). It still receives
   * every event it selects, but does not count as someone who could answer an async relay or a
   * request(), which then fail fast when only listeners are connected.
   */
  listenOnly = false;
  /** What its token allows (auth/grants.ts); undefined on a socket without tokens: everything. */
  grants: EvapiGrants | undefined = undefined;
  private pausedByInbox = false;

  constructor(conidx: number, socket: Socket) {
    this.conidx = conidx;
    this.socket = socket;
    this.srcaddr = stripMappedV4(socket.remoteAddress ?? "");
    this.srcport = socket.remotePort ?? 0;
  }

  /** Bytes waiting in evsip for this client: our queue plus what Node holds for the socket. */
  get pendingBytes(): number {
    return this.queue.bytes + this.socket.writableLength;
  }

  /**
   * Hands queued frames to the socket, one batch (one write or writev) at a time, while Node holds
   * less than a piece for it. What does not fit stays queued and goes when the socket drains (the
   * service flushes again on `drain`). pendingBytes counts both, so the bound still holds.
   * Returns the bytes written.
   */
  flush(): number {
    const s = this.socket;
    if (!this.connected || s.destroyed || s.writableEnded || this.queue.length === 0) return 0;
    noteProgress(this, Date.now());
    const written = writePieces(s, this.queue);
    this.lastHeld = s.writableLength;
    return written;
  }

  onInboxPressure(high: boolean): void {
    // A closed client is not paused: its socket must keep reading for its FIN or reset to be seen.
    if (high && !this.pausedByInbox && this.connected) {
      this.pausedByInbox = true;
      this.socket.pause();
    } else if (!high && this.pausedByInbox) {
      this.pausedByInbox = false;
      if (this.connected) this.socket.resume();
    }
  }

  info(): EvapiClientInfo {
    return { conidx: this.conidx, srcaddr: this.srcaddr, srcport: this.srcport, tag: this.tag, queuedBytes: this.pendingBytes };
  }
}

/** "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) → "127.0.0.1", as Kamailio prints it. */
function stripMappedV4(addr: string): string {
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}
