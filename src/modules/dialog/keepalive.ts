// Keepalives (Kamailio's ka_timer, ka_interval, ka_failed_limit): one interval for all dialogs
// sends an in-dialog OPTIONS to each side whose keepalive is on, once per kaInterval per dialog.
// A 408 (a timeout too), a 481 or a request that could not be sent is a failure, any other answer
// proves the side alive; kaFailedLimit failures in a row end the dialog (reason keepalive) and
// BYEs go to both sides, so a vanished phone stops being billed within a bounded time.
import type { Logger } from "pino";
import type { TransactionApi } from "../../core/transaction-user.js";
import type { DialogParams, DialogRecord } from "./api-types.js";
import type { Direction } from "./dialog-table.js";
import type { Dialogs } from "./dialogs.js";
import { requestTowards } from "./requests.js";

export class Keepalives {
  private timer: NodeJS.Timeout | undefined;
  private readonly dialogs: Dialogs;
  private readonly tm: TransactionApi;
  private readonly logger: Logger;
  private readonly params: DialogParams;

  constructor(dialogs: Dialogs, tm: TransactionApi, logger: Logger, params: DialogParams) {
    this.dialogs = dialogs;
    this.tm = tm;
    this.logger = logger;
    this.params = params;
  }

  /** ms between the keepalives of one dialog. */
  private get every(): number {
    return (this.params.kaInterval > 0 ? this.params.kaInterval : this.params.kaTimer) * 1000;
  }

  /** Schedules a confirmed dialog's first keepalive, when it has a side to ping and none is due. */
  arm(d: DialogRecord): void {
    if (this.params.kaTimer <= 0 || d.nextKaAt > 0) return;
    if (d.caller.keepalive || d.callee.keepalive) d.nextKaAt = Date.now() + this.every;
  }

  /** Starts the rounds (kaTimer > 0). */
  start(): void {
    if (this.params.kaTimer <= 0) return;
    this.timer = setInterval(() => this.round(), this.params.kaTimer * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private round(): void {
    const now = Date.now();
    for (const d of this.dialogs.table.values()) {
      if (d.nextKaAt === 0 || d.nextKaAt > now || d.state < 3) continue;
      d.nextKaAt = now + this.every;
      this.dialogs.changed(d);
      if (d.caller.keepalive) this.send(d, "caller");
      if (d.callee.keepalive) this.send(d, "callee");
    }
  }

  private send(d: DialogRecord, to: Direction): void {
    const side = to === "caller" ? d.caller : d.callee;
    const counters = this.dialogs.counters;
    const outcome = (status: number): void => {
      if (d.state === 5) return;
      if (status !== 408 && status !== 481 && status !== 0) {
        if (side.kaFailures === 0) return;
        side.kaFailures = 0;
        this.dialogs.changed(d); // journaled, so a restart does not count old failures
        return;
      }
      side.kaFailures++;
      counters.kaFailures++;
      this.dialogs.changed(d);
      if (side.kaFailures < this.params.kaFailedLimit) return;
      this.logger.info({ callId: d.callId, to, failures: side.kaFailures }, "dialog: keepalives failed, ending");
      this.dialogs.end(d, "keepalive");
      this.dialogs.bye(d, "all");
    };
    counters.kaSent++;
    if (!this.tm.requestWithin(requestTowards(d, to, "OPTIONS"), (o) => outcome(o.status))) outcome(0);
  }
}
