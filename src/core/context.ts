// The one run-time context object handed to every route. Its shape is fixed when the server starts
// (module APIs are getters on the prototype of one subclass shared by every engine, engine.ts), so the per-message cost is one
// allocation. Route-kind interfaces in context-types.ts narrow what users see.
import type { Logger } from "pino";
import type { SipMessageLike } from "../sip/types.js";
import type { ServerTransaction } from "../tm/index.js";
import type { Source } from "../transport/types.js";
import type { Engine } from "./engine.js";
import type { PvValue } from "./pv-registry.js";
import type { RouteKind } from "./context-types.js";
import { dropRoute, exitRoute } from "./route-exit.js";
import type { AvpStore } from "./avp-store.js";
import { hasBit, isFlag, withBit, type FlagState } from "./msg-flags.js";
import { headerLines, isHeaderName, type HeaderEdits } from "./header-edits.js";
import { rawLines } from "../sip/index.js";

const XLOG_LEVEL: Record<string, "fatal" | "error" | "warn" | "info" | "debug"> = {
  L_ALERT: "fatal",
  L_BUG: "fatal",
  L_CRIT: "fatal",
  L_ERR: "error",
  L_WARN: "warn",
  L_NOTICE: "info",
  L_INFO: "info",
  L_DBG: "debug",
};

export class RouteContext {
  /** $var(...) values of this script run. */
  vars: Map<string, PvValue> | undefined;
  /** New Request-URI set by the script ($ru, $rU, $rd, $rp), if any. */
  newUri: string | undefined;
  /** Destination URI ($du), if set. */
  dstUri: string | undefined;
  /** Max-Forwards to add when the request has none (ctx.maxfwd.process(limit)); RFC 3261 says 70. */
  maxfwdLimit = 70;
  /** True once the script sent or forwarded something for this request. */
  replied = false;
  /**
   * Header lines (`Name: value`) appended to what this route run relays or replies statefully;
   * set by an evapi decision (its `headers`, a redirect's Contact).
   */
  extraHeaders: readonly string[] | undefined;
  /** append_hf/remove_hf edits of the message this run passes on (request relayed, reply let through). */
  headerEdits: HeaderEdits | undefined;
  /** append_to_reply lines: on the replies evsip sends for this request (sl and tm). */
  replyHeaders: string[] | undefined;
  /** The server transaction, once one exists (the transaction user creates and reads it). */
  t: ServerTransaction | undefined;
  /** The response that triggered a reply/failure route. */
  reply: SipMessageLike | undefined;
  /** Data of the event that started an event route (module-owned). */
  eventData: unknown;
  /** $avp/$xavp values: the transaction's once it has one (the transaction user shares them). */
  avps: AvpStore | undefined;
  /**
   * Message and branch flags: this run's own until the request has a transaction, then the
   * transaction's (the transaction user shares them, src/tu/script-state.ts). Made on first use.
   */
  flagState: FlagState | undefined;
  /**
   * $rc: what the last module function or route() a cfg route called returned (0 at the start of
   * a route run, as Kamailio's). The cfg loader sets it; a TypeScript app has return values.
   */
  retcode = 0;
  /** When a time pseudo-variable first asked ($Ts, $TV(s)): µs since the epoch, kept for this run. */
  msgTimeUs: number | undefined;
  /** Module API objects built on first access, by slot (Engine.defineContextApi). */
  apis: unknown[] | undefined;
  /** Lock names this run was refused and has not unlocked since (see unlock). */
  private refusedLocks: Set<string> | undefined;

  readonly engine: Engine;
  readonly kind: RouteKind;
  readonly msg: SipMessageLike;
  readonly src: Source;

  constructor(engine: Engine, kind: RouteKind, msg: SipMessageLike, src: Source) {
    this.engine = engine;
    this.kind = kind;
    this.msg = msg;
    this.src = src;
  }

  get log(): Logger {
    return this.engine.logger;
  }

  pv(name: string): PvValue {
    return this.engine.pvs.compile(name).get(this);
  }

  setPv(name: string, value: PvValue): void {
    this.engine.pvs.compile(name).set(this, value);
  }

  fmt(template: string): string {
    return this.engine.formatter.format(this, template);
  }

  xlog(levelOrText: string, text?: string): void {
    const level = text === undefined ? "info" : (XLOG_LEVEL[levelOrText] ?? "info");
    const line = text === undefined ? levelOrText : text;
    this.engine.logger[level]({ route: this.kind }, this.fmt(line));
  }

  route(name: string): void | Promise<void> {
    return this.engine.callRoute(name, this);
  }

  exit(): never {
    return exitRoute();
  }

  drop(): never {
    return dropRoute();
  }

  lock(name: string): Promise<void> {
    this.refusedLocks?.delete(name);
    return this.engine.locks.lock(name).catch((err: unknown) => {
      (this.refusedLocks ??= new Set()).add(name);
      throw err;
    });
  }

  // Anyone may release a name, as in Kamailio (a continued route unlocks what the request route
  // locked). But a run whose lock was refused does not hold it: its `finally { unlock }` must not
  // hand another run's lock on, so the first unlock after a refusal is a no-op.
  unlock(name: string): void {
    if (this.refusedLocks?.delete(name)) return;
    this.engine.locks.unlock(name);
  }

  withLock<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    return this.engine.locks.withLock(name, fn);
  }

  hasToTag(): boolean {
    return this.msg.to.tag !== undefined && this.msg.to.tag !== "";
  }

  isMethod(...methods: string[]): boolean {
    return methods.includes(this.msg.method);
  }

  appendHeader(text: string): boolean {
    const lines = headerLines(text);
    if (!lines) return false;
    (this.headerEdits ??= { append: [], remove: [] }).append.push(...lines);
    return true;
  }

  removeHeader(name: string): number {
    if (!isHeaderName(name)) return 0;
    const n = rawLines(this.msg, name).length;
    if (n > 0) (this.headerEdits ??= { append: [], remove: [] }).remove.push(name);
    return n;
  }

  appendToReply(text: string): boolean {
    const lines = headerLines(text);
    if (!lines) return false;
    (this.replyHeaders ??= []).push(...lines);
    return true;
  }

  setFlag(n: number): boolean {
    return this.changeFlag("msg", n, true);
  }

  resetFlag(n: number): boolean {
    return this.changeFlag("msg", n, false);
  }

  isFlagSet(n: number): boolean {
    return isFlag(n) && this.flagState !== undefined && hasBit(this.flagState.msg, n);
  }

  setBranchFlag(n: number): boolean {
    return this.changeFlag("branch", n, true);
  }

  resetBranchFlag(n: number): boolean {
    return this.changeFlag("branch", n, false);
  }

  isBranchFlagSet(n: number): boolean {
    return isFlag(n) && this.flagState !== undefined && hasBit(this.flagState.branch, n);
  }

  private changeFlag(word: keyof FlagState, n: number, on: boolean): boolean {
    if (!isFlag(n)) return false;
    const f = (this.flagState ??= { msg: 0, branch: 0 });
    f[word] = withBit(f[word], n, on);
    return true;
  }

  /** The Request-URI in force: the one the script set, else the message's. */
  get ruri(): string {
    return this.newUri ?? this.msg.requestUri;
  }

  /**
   * Forwards the request statelessly to `target` (a SIP URI), else $du, else the Request-URI.
   * Responses come back through evsip by its Via. Returns false when there is no usable target.
   */
  forward(target?: string): boolean {
    return this.engine.forwarder.forwardRequest(this, target);
  }
}
