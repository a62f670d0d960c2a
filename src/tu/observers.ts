// The observers modules register through ModuleHost.tm.observe(): called in order, each isolated
// from the others (one that throws is counted, logged with its code and the rest still run), and free when
// none is registered, which is the common case on the per-message path.
import type { SipMessageLike } from "../sip/types.js";
import type { ServerTransaction } from "../tm/index.js";
import type { RouteContext } from "../core/context.js";
import type { TransactionObserver } from "../core/transaction-user.js";

export class Observers {
  private readonly list: TransactionObserver[] = [];
  /** Where an observer that threw is counted and logged (tm's hook failures, ERR_TM_OBSERVER_THREW). */
  private readonly failed: (err: unknown, what: string) => void;

  constructor(failed: (err: unknown, what: string) => void) {
    this.failed = failed;
  }

  add(o: TransactionObserver): void {
    this.list.push(o);
  }

  request(ctx: RouteContext): void {
    for (const o of this.list) if (o.request) this.call(() => o.request?.(ctx), "request");
  }

  response(st: ServerTransaction, res: SipMessageLike): void {
    for (const o of this.list) if (o.response) this.call(() => o.response?.(st, res), "response");
  }

  strayResponse(res: SipMessageLike): void {
    for (const o of this.list) if (o.strayResponse) this.call(() => o.strayResponse?.(res), "strayResponse");
  }

  sent(st: ServerTransaction, status: number): void {
    for (const o of this.list) if (o.sent) this.call(() => o.sent?.(st, status), "sent");
  }

  ended(st: ServerTransaction): void {
    for (const o of this.list) if (o.ended) this.call(() => o.ended?.(st), "ended");
  }

  private call(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.failed(err, what);
    }
  }
}
