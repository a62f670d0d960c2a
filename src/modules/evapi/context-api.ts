// ctx.evapi for one route run: the evapi_* functions of Kamailio on top of the module instance.
// Async variants check for recipients first (no client → not suspended, 0 returned), then suspend,
// then build the data from the transaction id (Kamailio's "suspend, then evaluate data" order).
import { EvapiError, TransactionError } from "../../errors.js";
import type { RouteContext } from "../../core/context.js";
import type { TransactionApi, TransactionId } from "../../core/transaction-user.js";
import type { EvapiApi, EvapiAsyncData, EvapiData, EvapiRequestOptions, EvapiSendOptions } from "./api-types.js";
import type { EvapiClientInfo } from "./connection.js";
import { evapiEventOf } from "./event-data.js";
import { mayUseTag } from "./auth/grants.js";
import type { EvapiModule } from "./module-instance.js";
import { isEventName } from "./subscriptions/event-patterns.js";
import { applyOwn, decide, type DecideOptions, type DecisionResult } from "./decisions/decide.js";
import type { ApplyOptions } from "./decisions/apply-decision.js";
import type { Decision } from "./decisions/decision.js";

/** Kamailio's EVAPI_TAG_SIZE is 64 including the NUL: at most 63 bytes. */
export const MAX_TAG_BYTES = 63;

export class EvapiContextApi implements EvapiApi {
  private readonly mod: EvapiModule;
  private readonly ctx: RouteContext;

  constructor(mod: EvapiModule, ctx: RouteContext) {
    this.mod = mod;
    this.ctx = ctx;
  }

  get conidx(): number {
    return evapiEventOf(this.ctx.eventData)?.conidx ?? -1;
  }
  get srcaddr(): string {
    return evapiEventOf(this.ctx.eventData)?.srcaddr ?? "";
  }
  get srcport(): number {
    return evapiEventOf(this.ctx.eventData)?.srcport ?? 0;
  }
  get msg(): string {
    return evapiEventOf(this.ctx.eventData)?.msg ?? "";
  }

  relay(data: EvapiData, opts?: EvapiSendOptions): number {
    return this.mod.send(data, undefined, false, false, this.nameOf(data, opts));
  }
  multicast(data: EvapiData, tag: string, opts?: EvapiSendOptions): number {
    return this.mod.send(data, checkTag(tag), false, false, this.nameOf(data, opts));
  }
  unicast(data: EvapiData, tag: string, opts?: EvapiSendOptions): number {
    return this.mod.send(data, checkTag(tag), true, false, this.nameOf(data, opts));
  }
  asyncRelay(data: EvapiAsyncData, opts?: EvapiSendOptions): number {
    return this.asyncSend(data, undefined, false, opts);
  }
  asyncMulticast(data: EvapiAsyncData, tag: string, opts?: EvapiSendOptions): number {
    return this.asyncSend(data, checkTag(tag), false, opts);
  }
  asyncUnicast(data: EvapiAsyncData, tag: string, opts?: EvapiSendOptions): number {
    return this.asyncSend(data, checkTag(tag), true, opts);
  }

  async request<T>(data: object | ((t: TransactionId) => EvapiData), opts: EvapiRequestOptions = {}): Promise<T> {
    const tm = this.requestRouteTm("request");
    const tag = opts.tag === undefined ? undefined : checkTag(opts.tag);
    const stats = this.mod.service.stats;
    // Data built by a function is named once built (the option names it before).
    const later = typeof data === "function" && opts.event === undefined;
    const name = this.nameOf(typeof data === "function" ? undefined : data, opts);
    if (this.mod.service.table.answerers(tag, tag !== undefined, name, later) === 0 && !this.mod.holdsWithoutClient) {
      stats.requestsFailed++;
      stats.eventsNoClient++;
      throw new EvapiError(
        "ERR_EVAPI_NO_CLIENT",
        tag === undefined ? "no evapi client connected" : `no evapi client tagged ${tag}`,
      );
    }
    const fields = { index: opts.indexField ?? "tindex", label: opts.labelField ?? "tlabel" };
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const reply = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // The module's HeldEvents is told when the hold ends, however it ends (the route may answer the
    // call itself while this awaits), to let go of the event it keeps.
    const held = tm.hold(this.ctx, reply, { timeout: opts.timeout, watcher: this.mod.held });
    const id = tm.id(this.ctx);
    let key: string | undefined;
    // A hold that did not take (the call was cancelled or answered while the route awaited
    // something else) rejects on its own: no event goes out for an answer nobody can use.
    if (id !== undefined && tm.held(this.ctx)) {
      try {
        key = this.mod.pending.add(id, fields, resolve);
        const payload = typeof data === "function" ? data(id) : { ...data, [fields.index]: id.index, [fields.label]: id.label };
        if (this.mod.sendHeld(id, payload, tag, tag !== undefined, later ? this.nameOf(payload, opts) : name, opts.event) === 0)
          throw new EvapiError("ERR_EVAPI_NO_CLIENT", "no evapi client took the request");
        stats.requestsSent++;
      } catch (err) {
        reject(err);
      }
    }
    try {
      const value = (await held) as T;
      stats.requestsAnswered++;
      return value;
    } catch (err) {
      stats.requestsFailed++;
      if (err instanceof TransactionError && err.code === "ERR_TM_TIMEOUT") {
        throw new EvapiError("ERR_EVAPI_TIMEOUT", `no evapi reply for transaction ${id?.index}:${id?.label}`, { cause: err });
      }
      throw err;
    } finally {
      if (key !== undefined) this.mod.pending.remove(key);
    }
  }

  decide(opts?: DecideOptions): DecisionResult {
    return decide(this.mod, this.ctx, opts);
  }

  applyDecision(decision: Decision, opts?: ApplyOptions): DecisionResult {
    this.requestRouteTm("applyDecision");
    return applyOwn(this.mod, this.ctx, decision, opts);
  }

  drain(): Promise<void> {
    return this.mod.service.gate.wait();
  }

  close(conidx?: number): boolean {
    if (conidx !== undefined) return this.mod.service.closeByScript(conidx);
    const ev = evapiEventOf(this.ctx.eventData);
    return ev ? this.mod.service.closeClientByScript(ev.client) : false;
  }

  setTag(name: string): boolean {
    const ev = evapiEventOf(this.ctx.eventData);
    if (!ev || !ev.client.connected || typeof name !== "string") return false;
    if (Buffer.byteLength(name, "utf8") > MAX_TAG_BYTES) {
      this.ctx.log.debug(
        { code: "ERR_EVAPI_TAG_TOO_LONG", conidx: ev.conidx },
        `evapi tag longer than ${MAX_TAG_BYTES} bytes refused`,
      );
      return false;
    }
    if (!mayUseTag(ev.client.grants, name)) {
      this.ctx.log.debug({ code: "ERR_EVAPI_NOT_ALLOWED", conidx: ev.conidx, tag: name }, "evapi tag not allowed by the token");
      return false;
    }
    ev.client.tag = name;
    this.mod.held.offer(); // a waiting event may be for this tag
    return true;
  }

  clients(): EvapiClientInfo[] {
    return this.mod.service.clients();
  }

  private asyncSend(data: EvapiAsyncData, tag: string | undefined, unicast: boolean, opts: EvapiSendOptions | undefined): number {
    const tm = this.requestRouteTm("async relay");
    if (data === "") throw new EvapiError("ERR_EVAPI_EMPTY_DATA", "evapi: empty event data");
    // Data built by a function is named once built, after suspending: until then any client counts,
    // and when none of them selects the built event it is not sent and the suspension ends (0).
    const later = typeof data === "function" && opts?.event === undefined;
    const name = this.nameOf(typeof data === "function" ? undefined : data, opts);
    if (this.mod.service.table.answerers(tag, unicast, name, later) === 0 && !this.mod.holdsWithoutClient) {
      this.mod.service.stats.eventsNoClient++;
      return 0;
    }
    // The module's HeldEvents is told when the suspension ends, to let go of the event it keeps.
    const id = tm.suspend(this.ctx, this.mod.held);
    if (!id) return 0; // cancelled or already answered: nothing waits for an answer
    // If the event cannot go out after all (data() threw, too large, the only client is slow; with
    // no client at all it waits, under holdWithoutClient), nothing will ever continue this
    // transaction: end the suspension so the route can answer.
    let sent = 0;
    try {
      const payload = typeof data === "function" ? data(id) : data;
      sent = this.mod.sendHeld(id, payload, tag, unicast, later ? this.nameOf(payload, opts) : name, opts?.event);
    } finally {
      if (sent === 0) tm.unsuspend(this.ctx);
    }
    if (sent > 0) this.mod.service.stats.suspended++;
    return sent;
  }

  /** The event's name for subscribed clients; throws for an explicit name that is not one. */
  private nameOf(data: unknown, opts: EvapiSendOptions | undefined): string | undefined {
    const explicit = opts?.event;
    if (explicit !== undefined && !isEventName(explicit)) {
      throw new EvapiError("ERR_EVAPI_BAD_PATTERN", `evapi: invalid event name ${JSON.stringify(explicit)?.slice(0, 80)}`);
    }
    return this.mod.eventName(data, explicit);
  }

  /** The transactions, for a function that suspends the request of this route run. */
  private requestRouteTm(what: string): TransactionApi {
    if (this.ctx.kind !== "request") {
      throw new EvapiError("ERR_EVAPI_NOT_REQUEST_ROUTE", `evapi ${what} is for request routes, not ${this.ctx.kind} routes`);
    }
    return this.mod.tm;
  }
}

function checkTag(tag: string): string {
  if (typeof tag !== "string" || tag === "") throw new EvapiError("ERR_EVAPI_EMPTY_TAG", "evapi: empty tag");
  return tag;
}
