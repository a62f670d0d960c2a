// The routing engine: every message the transport parses lands here. Requests are validated, offered
// to the transaction layer (retransmissions never re-run the script), then run through the request
// route; responses go to tm or, unmatched, statelessly back by Via. Route runs are sync when the
// route is sync: promises are only handled when a route returns one.
import type { Logger } from "pino";
import { EvsipError } from "../errors.js";
import type { ErrorCode } from "../errors.js";
import { parseMessage, salvageRequestHead, SALVAGEABLE } from "../sip/index.js";
import { answerBadRequest } from "./bad-request.js";
import type { SipMessageLike } from "../sip/types.js";
import type { Source } from "../transport/types.js";
import type { TransportLayer } from "../transport/transport-layer.js";
import { RouteContext } from "./context.js";
import type { RouteKind } from "./context-types.js";
import { Forwarder } from "./forwarder.js";
import { Formatter } from "./fmt.js";
import { LockTable, type LockParams } from "./locks.js";
import { PvRegistry, type PvValue } from "./pv-registry.js";
import { registerCorePvs } from "./core-pvs.js";
import { isRouteExit } from "./route-exit.js";
import { StatelessReplier } from "./sl.js";
import type { Target } from "./target.js";
import type { TransactionUser } from "./transaction-user.js";
import { Admission, type AdmissionParams } from "./admission.js";
import { recordRouteLines } from "./rr.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RouteFn = (ctx: any) => void | Promise<void>;

export interface EngineRoutes {
  readonly request?: RouteFn;
  readonly reply?: RouteFn;
  readonly routes?: Readonly<Record<string, RouteFn>>;
  readonly events?: Readonly<Record<string, RouteFn>>;
}

/** What an engine is built from. */
export interface EngineOptions {
  readonly logger: Logger;
  readonly app: EngineRoutes;
  /** Where requests and responses leave; its listeners are opened by the server. */
  readonly transport: TransportLayer;
  /** When new work is refused, and how. */
  readonly admission: AdmissionParams;
  /** How long, and how many, route runs may wait for a ctx.lock name. */
  readonly locks: LockParams;
  /** Builds the engine's transaction user (it needs the engine to run routes). */
  readonly transactionUser: (engine: Engine) => TransactionUser;
}

/** Kamailio's faked message for routes that run without SIP traffic (event routes). */
const FAKED = Buffer.from(
  "OPTIONS sip:you@evsip.invalid SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKevsip.faked\r\n" +
    "From: <sip:you@evsip.invalid>;tag=faked\r\nTo: <sip:you@evsip.invalid>\r\nCall-ID: evsip-faked\r\n" +
    "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
);
const FAKED_SRC: Source = { proto: "udp", remoteAddr: "0.0.0.0", remotePort: 0, localAddr: "0.0.0.0", localPort: 0, connId: 0 };

/**
 * The context class of every engine in the process, module APIs as getters on its prototype. A
 * class per engine gave each engine hidden classes of its own: the throwaway server of the start's
 * call warm-up (src/warm-up-pipeline.ts) trained the route path on contexts that the real server's
 * never matched, and its first real calls deoptimised that code again (`--trace-deopt`: the
 * context's constructor, isMethod, pv, the engine's onRequest) just when a cold start is short of
 * time.
 */
class EngineContext extends RouteContext {}

/** Each API name's slot in a context's `apis`, the same in every engine: one getter per name. */
const API_SLOTS = new Map<string, number>();

/** Defines EngineContext's getter for `name` once; its slot. */
function apiSlot(name: string): number {
  const known = API_SLOTS.get(name);
  if (known !== undefined) return known;
  const slot = API_SLOTS.size;
  API_SLOTS.set(name, slot);
  // An indexed load, where a record keyed by name made every `ctx.evapi` a keyed lookup by string
  // (~3 µs per async call, profiled). An engine without the module answers undefined (so `name in
  // ctx` is true once any engine in the process has loaded the module; its value is what counts).
  Object.defineProperty(EngineContext.prototype, name, {
    configurable: true,
    get(this: RouteContext) {
      const api = this.apis?.[slot];
      if (api !== undefined) return api;
      const make = this.engine.contextApiMakers[slot];
      return make === undefined ? undefined : ((this.apis ??= [])[slot] = make(this));
    },
  });
  return slot;
}

export class Engine {
  readonly pvs = new PvRegistry<RouteContext>();
  readonly formatter = new Formatter<RouteContext>(this.pvs);
  readonly locks: LockTable;
  /**
   * What builds each module API of this engine's contexts, by slot (defineContextApi).
   * @internal
   */
  readonly contextApiMakers: Array<((ctx: RouteContext) => unknown) | undefined> = [];
  readonly shv = new Map<string, PvValue>();
  readonly sl = new StatelessReplier(this);
  readonly forwarder = new Forwarder(this);
  /** New work is refused (503 + Retry-After) while draining. */
  readonly admission: Admission;
  readonly stats = {
    requests: 0,
    responses: 0,
    invalid: new Map<ErrorCode, number>(),
    routeErrors: new Map<string, number>(),
    eventsRun: 0,
    /** Transactions a graceful stop answered 503 because they did not finish in time. */
    drainAnswered: 0,
    /** Malformed requests answered with a stateless 400, by code. */
    badRequestAnswered: new Map<ErrorCode, number>(),
  };
  private readonly fakedMsg: SipMessageLike;
  /** Modules' checks for a request that is theirs to drop before the route (see addRequestAbsorber). */
  private readonly absorbers: Array<(msg: SipMessageLike) => boolean> = [];
  /** Stateful processing: every valid message is offered to it first. */
  readonly tu: TransactionUser;

  readonly logger: Logger;
  readonly app: EngineRoutes;
  readonly transport: TransportLayer;

  constructor(opts: EngineOptions) {
    this.logger = opts.logger;
    this.app = opts.app;
    this.transport = opts.transport;
    this.locks = new LockTable(opts.locks);
    this.admission = new Admission(this.sl, opts.admission, this.transport, this.transport.log);
    registerCorePvs(this.pvs, this.shv);
    const faked = parseMessage(FAKED);
    if (!faked.ok) throw new EvsipError("ERR_SIP_BAD_START_LINE", "faked message does not parse");
    this.fakedMsg = faked.msg;
    this.tu = opts.transactionUser(this);
  }

  /** Record-Route lines for a request leaving towards `t` (empty unless ctx.rr.recordRoute() ran). */
  recordRouteLines(ctx: RouteContext, t: Target): string[] {
    return recordRouteLines(this, ctx, t);
  }

  /**
   * Lets a module drop a request before the request route runs, after tm found no transaction for
   * it: `absorbs` returns true for a request whose answer has already been given and that the
   * route must not see again (the dialog module: an initial INVITE re-sent after its dialog was
   * confirmed, whose transaction a restart lost). The module counts and logs what it absorbs.
   */
  addRequestAbsorber(absorbs: (msg: SipMessageLike) => boolean): void {
    this.absorbers.push(absorbs);
  }

  /**
   * Adds `ctx[name]` to every context of this engine, built once per context by `make`. Contexts
   * of an engine that did not define `name` answer undefined for it.
   */
  defineContextApi(name: string, make: (ctx: RouteContext) => unknown): void {
    this.contextApiMakers[apiSlot(name)] = make;
  }

  newContext(kind: RouteKind, msg: SipMessageLike | undefined, src: Source | undefined): RouteContext {
    return new EngineContext(this, kind, msg ?? this.fakedMsg, src ?? FAKED_SRC);
  }

  /**
   * A message the transport could not parse: event_route[core:receive-parse-error], then, for a
   * datagram whose only fault is its framing, the 400 its request head can still be answered with.
   * Over TCP the connection is closed instead (its framing is lost).
   */
  onParseError(code: ErrorCode, detail: string, src: Source, raw: Buffer): void {
    void this.runEvent("core:receive-parse-error", { code, detail }, undefined, src);
    if (src.proto !== "udp" || !SALVAGEABLE.has(code)) return;
    const head = salvageRequestHead(raw, this.transport.limits);
    if (head) this.answerBadRequest(head, src, code);
  }

  private answerBadRequest(req: SipMessageLike, src: Source, code: ErrorCode): void {
    if (!answerBadRequest(this.sl, this.stats.badRequestAnswered, req, src, code)) return;
    this.transport.log.log("info", code, "malformed request answered 400", {
      src: `${src.proto}:${src.remoteAddr}:${src.remotePort}`,
    });
  }

  /**
   * Entry point from the transport. A route's error is handled here (runTop); what still throws is
   * a bug of evsip's own, which the transport counts and logs (ERR_TRANSPORT_INTERNAL).
   */
  onMessage(msg: SipMessageLike, src: Source): void {
    if (msg.isRequest) this.onRequest(msg, src);
    else this.onResponse(msg, src);
  }

  private onRequest(msg: SipMessageLike, src: Source): void {
    const v = msg.validate();
    if (!v.ok) {
      this.stats.invalid.set(v.code, (this.stats.invalid.get(v.code) ?? 0) + 1);
      this.transport.log.warn(v.code, "invalid request dropped", {
        detail: v.detail,
        src: `${src.proto}:${src.remoteAddr}:${src.remotePort}`,
      });
      void this.runEvent("core:receive-parse-error", { code: v.code, detail: v.detail }, msg, src);
      this.answerBadRequest(msg, src, v.code);
      return;
    }
    this.stats.requests++;
    if (this.sl.isOwnAck(msg)) {
      this.sl.stats.acksAbsorbed++;
      return;
    }
    const tu = this.tu;
    if (tu.receiveRequest(msg, src) === "absorbed") return;
    for (const absorbs of this.absorbers) if (absorbs(msg)) return;
    if (this.admission.refuse(msg, src)) return;
    if (!this.app.request) return;
    const ctx = this.newContext("request", msg, src);
    tu.beginRequest(ctx);
    const r = this.runTop(this.app.request, ctx, "request");
    // An async route still awaiting holds its request in a transaction (docs/tm.md: retransmissions are
    // absorbed while an async route is awaiting), unless it already answered or forwarded.
    if (r instanceof Promise && !ctx.t && !ctx.replied && msg.method !== "ACK") {
      tu.adopt(ctx);
      // A route that ends with drop/exit or nothing answered leaves nothing behind (no late 408).
      r.then(() => tu.release(ctx)).catch((err: unknown) => this.internalError(err, "release"));
    }
  }

  private onResponse(msg: SipMessageLike, src: Source): void {
    const v = msg.validate();
    if (!v.ok) {
      this.stats.invalid.set(v.code, (this.stats.invalid.get(v.code) ?? 0) + 1);
      this.transport.log.warn(v.code, "invalid response dropped", {
        detail: v.detail,
        src: `${src.proto}:${src.remoteAddr}:${src.remotePort}`,
      });
      return;
    }
    this.stats.responses++;
    if (this.tu.receiveResponse(msg, src) === "absorbed") return;
    if (this.app.reply) {
      const ctx = this.newContext("reply", msg, src);
      ctx.reply = msg;
      const r = this.runTop(this.app.reply, ctx, "reply");
      if (r instanceof Promise) {
        r.then((dropped) => {
          if (!dropped) this.forwarder.forwardResponse(msg, src, ctx.headerEdits);
        }).catch((err: unknown) => this.internalError(err, "forward response"));
        return;
      }
      if (r) return;
      this.forwarder.forwardResponse(msg, src, ctx.headerEdits);
      return;
    }
    this.forwarder.forwardResponse(msg, src);
  }

  /**
   * Runs a top-level route. Returns true when the script called drop(), as a promise when the route
   * was async. Errors are logged, counted, and a request gets 500 (statefully when it has a
   * transaction) — user code never takes the process down.
   */
  runTop(fn: RouteFn, ctx: RouteContext, name: string): boolean | Promise<boolean> {
    let r: void | Promise<void>;
    try {
      r = fn(ctx);
    } catch (err) {
      return this.routeFailed(err, ctx, name);
    }
    if (r instanceof Promise) {
      return r.then(
        () => false,
        (err: unknown) => this.routeFailed(err, ctx, name),
      );
    }
    return false;
  }

  private routeFailed(err: unknown, ctx: RouteContext, name: string): boolean {
    if (isRouteExit(err)) return err.drop;
    this.stats.routeErrors.set(name, (this.stats.routeErrors.get(name) ?? 0) + 1);
    // Rate-limited per route and cause: a route that throws for every call (its consumer down,
    // say) must not add a log line with a stack to each of thousands of calls a second.
    const cause = err instanceof EvsipError ? err.code : "other";
    this.transport.log.log("error", "ERR_ROUTE_THREW", `route ${name} threw`, { route: name, err }, `${name} ${cause}`);
    if (ctx.kind === "request" || ctx.kind === "failure" || ctx.kind === "branch") {
      if (this.tu.failRoute(ctx)) return false;
      if (ctx.kind === "request" && !ctx.replied && ctx.msg.method !== "ACK")
        this.sl.sendReply(ctx, 500, "Server Internal Error");
    }
    return false;
  }

  /**
   * A bug of evsip's own on an async path: counted and logged with its place as the transport's are
   * (rate-limited per place), never an unhandled rejection.
   */
  internalError(err: unknown, where: string): void {
    this.transport.internalError(`internal error in ${where}`, { where, err }, `internal ${where}`);
  }

  /** ctx.route(name): runs a named route inside the current script run (errors propagate). */
  callRoute(name: string, ctx: RouteContext): void | Promise<void> {
    const fn = this.app.routes?.[name];
    if (!fn) throw new EvsipError("ERR_ROUTE_NOT_FOUND", `route ${name} is not defined`);
    return fn(ctx);
  }

  hasRoute(name: string): boolean {
    return this.app.routes?.[name] !== undefined;
  }

  hasEvent(name: string): boolean {
    return this.app.events?.[name] !== undefined;
  }

  /**
   * Runs event_route[name] if the app defines it (a missing route is a silent no-op, as Kamailio).
   * Resolves true when a route ran; `fallback` runs instead when there is no route (evapi's
   * eventCallback). The context carries `data` as ctx.eventData.
   */
  runEvent(name: string, data?: unknown, msg?: SipMessageLike, src?: Source, fallback?: RouteFn): boolean | Promise<boolean> {
    const fn = this.app.events?.[name] ?? fallback;
    if (!fn) return false;
    this.stats.eventsRun++;
    const ctx = this.newContext("event", msg, src);
    ctx.eventData = data;
    const r = this.runTop(fn, ctx, name);
    return r instanceof Promise ? r.then(() => true) : true;
  }

  /**
   * mf_process_maxfwd_header: false when Max-Forwards is 0; when the header is absent, forward and
   * relay will add it with `limit`.
   */
  maxfwdProcess(ctx: RouteContext, limit: number): boolean {
    const mf = ctx.msg.maxForwards;
    if (mf === undefined) ctx.maxfwdLimit = limit;
    return mf === undefined || mf > 0;
  }
}
