// The jsonrpcc client: priority groups of servers (higher number first), round robin among the
// connected servers of a group, failover to the next group; a table of requests in flight with
// Kamailio's ids (first 2, wrap after 1000001) and one timer each; the requests of a dropped
// connection go to another connected server (retryOnLoss), or fail at once. Outcomes are delivered by callback so the module can run routes without promises.
// Rejections (no server, maxPending) and unknown ids are logged at warn, one line per code per 10 s.
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { RateLimitedLog } from "../../common/rate-limited-log.js";
import type { ErrorCode } from "../../errors.js";
import { ServerLink, type LinkOptions } from "./server-link.js";
import { groupServers, type ServerSpec } from "./servers-param.js";
import { classifyResponse, encodeNotification, encodeRequest } from "./wire.js";
import { SteadyMap } from "../../common/steady-map.js";

/** How a request ended. `failure` means it could not be sent or its connection dropped. */
export type Outcome =
  | { readonly kind: "result"; readonly value: unknown }
  | { readonly kind: "error"; readonly error: unknown }
  | { readonly kind: "timeout" }
  | { readonly kind: "failure"; readonly code: ErrorCode };
/** A request that could not be sent: no usable server, or too many in flight. */
export type Refusal = Extract<Outcome, { kind: "failure" }>;

export interface JsonRpcClientOptions extends Omit<LinkOptions, "logger"> {
  readonly servers: readonly ServerSpec[];
  readonly maxPending: number;
  readonly logger: Logger;
  /** Requests of a dropped connection go to another connected server (default false here; the module's param is true). */
  readonly retryOnLoss?: boolean;
}

interface Pending {
  readonly id: number;
  /** The server it was last sent to: the only one whose answer is taken. */
  link: ServerLink;
  /** Its bytes, kept to send again when that server's connection drops (retryOnLoss). */
  readonly frame: Buffer;
  /** Sent again once already: a second loss fails it (a request that kills servers stops there). */
  moved: boolean;
  /** May go to another server if its connection drops (retryOnLoss, per request). */
  readonly retry: boolean;
  readonly done: (o: Outcome) => void;
  timer: NodeJS.Timeout | undefined;
}

const MAX_ID = 1_000_000;

interface Group {
  readonly priority: number;
  readonly links: ServerLink[];
  next: number;
}

export class JsonRpcClient {
  /** Emits "up" and "down" (link), and "dropped" (link, code) for each incoming message it drops. */
  readonly events = new EventEmitter();
  readonly groups: readonly Group[];
  readonly links: readonly ServerLink[];
  readonly stats = { noServer: 0, maxPendingRejected: 0, notifications: 0, retriedOnLoss: 0 };
  // A SteadyMap: requests churn at the call rate (see common/steady-map.ts).
  private readonly pending = new SteadyMap<number, Pending>();
  private nextId = 1;
  private stopping = false;
  private readonly opts: JsonRpcClientOptions;
  /** Warn lines, one per code per interval (exposed for its suppressed count). */
  readonly warnLog: RateLimitedLog;

  constructor(opts: JsonRpcClientOptions) {
    this.opts = opts;
    this.warnLog = new RateLimitedLog(opts.logger, { lines: 1 });
    const handlers = {
      onFrame: (link: ServerLink, payload: Buffer) => this.onFrame(link, payload),
      onUp: (link: ServerLink) => this.events.emit("up", link),
      onDown: (link: ServerLink) => this.onDown(link),
    };
    this.groups = groupServers(opts.servers).map((g) => ({
      priority: g.priority,
      links: g.servers.map((s) => new ServerLink(s, opts, handlers)),
      next: 0,
    }));
    this.links = this.groups.flatMap((g) => g.links);
  }

  /** Requests in flight. */
  get pendingCount(): number {
    return this.pending.size;
  }

  start(): void {
    this.stopping = false;
    for (const l of this.links) l.start();
  }

  /** Closes every connection; requests in flight fail with "failure" (none is sent again). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.links.map((l) => l.stop()));
  }

  /** The server the next message goes to: round robin in the first group with a connected server. */
  pick(): ServerLink | undefined {
    for (const g of this.groups) {
      const n = g.links.length;
      for (let k = 0; k < n; k++) {
        const idx = (g.next + k) % n;
        const link = g.links[idx] as ServerLink;
        if (link.isUp) {
          g.next = (idx + 1) % n;
          return link;
        }
      }
    }
    return undefined;
  }

  /** Sends a notification; false when no server is connected. */
  notify(method: string, params: unknown): boolean {
    const link = this.pick();
    if (!link) {
      this.noServer(method);
      return false;
    }
    this.stats.notifications++;
    return link.write(encodeNotification(method, params));
  }

  /**
   * Sends a request. Returns a failure outcome at once (and never calls `done`) when it cannot be
   * sent; otherwise `done` is called exactly once, later.
   */
  request(method: string, params: unknown, timeout: number, done: (o: Outcome) => void, retry?: boolean): Outcome | undefined {
    const link = this.linkFor(method);
    if (!(link instanceof ServerLink)) return link;
    this.send(link, method, params, timeout, done, retry);
    return undefined;
  }

  /**
   * The link a request would leave on now, or the failure outcome (counted and logged) when it
   * cannot be sent: for a caller that must do something between the check and the send.
   */
  linkFor(method: string): ServerLink | Refusal {
    if (this.pending.size >= this.opts.maxPending) {
      this.stats.maxPendingRejected++;
      this.warnLog.warn("ERR_JSONRPC_MAX_PENDING", "jsonrpcc: too many requests in flight, request failed", {
        method,
        maxPending: this.opts.maxPending,
      });
      return { kind: "failure", code: "ERR_JSONRPC_MAX_PENDING" };
    }
    const link = this.pick();
    if (!link) {
      this.noServer(method);
      return { kind: "failure", code: "ERR_JSONRPC_NO_SERVER" };
    }
    return link;
  }

  /** Sends a request on `link`, from linkFor() in the same turn; `done` is called exactly once, later. */
  send(
    link: ServerLink,
    method: string,
    params: unknown,
    timeout: number,
    done: (o: Outcome) => void,
    retry = this.opts.retryOnLoss === true,
  ): void {
    const id = this.allocateId();
    const frame = encodeRequest(id, method, params);
    link.write(frame);
    const p: Pending = { id, link, frame, moved: false, retry, done, timer: undefined };
    p.timer = setTimeout(() => this.onTimeout(p), timeout);
    this.pending.set(id, p);
    this.attach(p, link);
  }

  /** `p` is in flight on `link`: the only server whose answer to it is taken. */
  private attach(p: Pending, link: ServerLink): void {
    p.link = link;
    link.inFlight.add(p.id);
    link.stats.pending++;
  }

  /** `p` is no longer in flight on its server (answered, failed, or moved to another). */
  private detach(p: Pending): void {
    p.link.inFlight.delete(p.id);
    p.link.stats.pending--;
  }

  /** Promise form of {@link request}: resolves with the outcome. */
  requestAsync(method: string, params: unknown, timeout: number, retry?: boolean): Promise<Outcome> {
    return new Promise((resolve) => {
      const now = this.request(method, params, timeout, resolve, retry);
      if (now) resolve(now);
    });
  }

  private noServer(method: string): void {
    this.stats.noServer++;
    const state = this.links
      .map((l) => `${l.address} ${l.state}${l.state === "connected" ? " (write buffer full)" : ""}`)
      .join(", ");
    this.warnLog.warn("ERR_JSONRPC_NO_SERVER", "jsonrpcc: no usable server, message not sent", { method, servers: state });
  }

  private allocateId(): number {
    do {
      this.nextId = this.nextId > MAX_ID ? 1 : this.nextId + 1;
    } while (this.pending.has(this.nextId));
    return this.nextId;
  }

  private finish(p: Pending, o: Outcome): void {
    if (p.timer) clearTimeout(p.timer);
    this.pending.delete(p.id);
    this.detach(p);
    p.done(o);
  }

  private onTimeout(p: Pending): void {
    p.timer = undefined;
    p.link.stats.timeouts++;
    this.finish(p, { kind: "timeout" });
  }

  private onFrame(link: ServerLink, payload: Buffer): void {
    link.stats.received++;
    const r = classifyResponse(payload);
    if (r.kind === "bad") {
      link.countBad("ERR_JSONRPC_BAD_RESPONSE");
      this.opts.logger.warn(
        { server: link.address, code: "ERR_JSONRPC_BAD_RESPONSE", sample: payload.subarray(0, 120).toString("utf8") },
        `jsonrpcc: dropped a message that is not a JSON-RPC response: ${r.detail}`,
      );
      this.events.emit("dropped", link, "ERR_JSONRPC_BAD_RESPONSE");
      return;
    }
    // Only the server a request went to may answer it: ids are small sequential numbers.
    const p = link.inFlight.has(r.id) ? this.pending.get(r.id) : undefined;
    if (!p) {
      link.stats.unknownIds++;
      this.warnLog.warn("ERR_JSONRPC_UNKNOWN_ID", "jsonrpcc: response with an unknown or late id dropped", {
        server: link.address,
        id: r.id,
      });
      this.events.emit("dropped", link, "ERR_JSONRPC_UNKNOWN_ID");
      return;
    }
    this.finish(p, r.kind === "result" ? { kind: "result", value: r.value } : { kind: "error", error: r.error });
  }

  private onDown(link: ServerLink): void {
    let retried = 0;
    let failed = 0;
    for (const id of [...link.inFlight]) {
      const p = this.pending.get(id);
      if (!p) continue;
      // The server may have died before answering: another one answers instead, within the
      // request's own timeout (its timer runs on). pick() skips this link, which is down.
      const next = p.retry && !this.stopping && !p.moved ? this.pick() : undefined;
      if (next !== undefined && next !== link && next.write(p.frame)) {
        this.detach(p);
        this.attach(p, next);
        p.moved = true;
        retried++;
        continue;
      }
      failed++;
      this.finish(p, { kind: "failure", code: "ERR_JSONRPC_CONNECTION_LOST" });
    }
    this.stats.retriedOnLoss += retried;
    if (retried + failed > 0) this.logLoss(link, retried, failed);
    this.events.emit("down", link);
  }

  /** Requests in flight on a dropped connection: moved, or failed (a stop's are not the server's loss). */
  private logLoss(link: ServerLink, retried: number, failed: number): void {
    if (!this.stopping) link.stats.failedOnLoss += failed;
    let what = "were sent to another server";
    if (failed > 0) what = this.stopping ? "failed as the module stopped" : "failed: no other server took them";
    this.opts.logger.warn(
      { code: "ERR_JSONRPC_CONNECTION_LOST", server: link.address, retried, failed },
      `jsonrpcc: requests in flight on a lost connection ${what}`,
    );
  }
}
