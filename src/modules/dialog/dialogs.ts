// The life of tracked dialogs: created by dlg_manage, early on a provisional with a To-tag,
// confirmed by a 2xx (dialog:start), ended by a BYE, a timeout, failed keepalives or dlg_bye
// (dialog:end), or failed by a negative final before confirmation (dialog:failed). Timers are
// derived from the record (expiresAt, nextKaAt), so restore() rearms a record kept elsewhere.
import { ownCopy } from "../../common/own-copy.js";
import type { Logger } from "pino";
import type { Engine } from "../../core/engine.js";
import type { TransactionApi } from "../../core/transaction-user.js";
import type { DialogEndReason, DialogEventInfo, DialogParams, DialogRecord, DialogSide } from "./api-types.js";
import { STATE_NAMES } from "./api-types.js";
import { DialogTable, type Direction } from "./dialog-table.js";
import { Profiles, profileNames } from "./profiles.js";
import { Keepalives } from "./keepalive.js";
import { requestTowards } from "./requests.js";

/** What a dialog:* route gets as ctx.eventData. */
export class DialogEvent implements DialogEventInfo {
  readonly dialog: DialogRecord;
  readonly reason: DialogEndReason | undefined;
  readonly status: number | undefined;
  constructor(dialog: DialogRecord, reason?: DialogEndReason, status?: number) {
    this.dialog = dialog;
    this.reason = reason;
    this.status = status;
  }
}

/** What the INVITE tells a new dialog. */
export interface InviteInfo {
  readonly callId: string;
  readonly fromUri: string;
  readonly toUri: string;
  readonly fromTag: string;
  readonly fromHeader: string;
  readonly toHeader: string;
  readonly cseq: number;
  readonly contact: string;
}

/** What the 2xx tells the dialog. */
export interface AnswerInfo {
  readonly toTag: string;
  readonly toHeader: string;
  readonly contact: string | undefined;
  readonly recordRoute: readonly string[];
}

function newSide(contact: string, cseq: number): DialogSide {
  return { contact, cseq, routeSet: [], keepalive: false, kaFailures: 0 };
}

export class Dialogs {
  readonly table = new DialogTable();
  readonly profiles: Profiles;
  readonly counters = {
    created: 0,
    started: 0,
    failed: 0,
    refused: 0,
    spirals: 0,
    invitesAbsorbed: 0,
    /** Initial INVITEs of a dialog not yet confirmed, let through while new calls were refused. */
    earlyInvitesAdmitted: 0,
    unknownInDialog: 0,
    varRefused: 0,
    kaSent: 0,
    kaFailures: 0,
    byesSent: 0,
    /** BYEs the router sent (dlg_bye, a timeout, failed keepalives) that were not sent, timed out or were refused. */
    byesFailed: 0,
    /** Initial INVITEs carrying a confirmed dialog's Call-ID and From-tag: not tracked (ERR_DIALOG_IDS_IN_USE). */
    idsInUse: 0,
  };
  readonly endedBy = new Map<DialogEndReason, number>();
  private readonly timers = new Map<DialogRecord, NodeJS.Timeout>();
  /** Timeouts that fired before start() (restored dialogs whose time passed while evsip was down): run by start(). */
  private held: DialogRecord[] | undefined = [];
  private readonly keepalives: Keepalives;
  /** Told of every change that matters after a restart (the dialogDir store), an end included. */
  store: { changed(d: DialogRecord): void } | undefined;
  /** Called when a dialog leaves the table (ended or failed), before its event route runs. */
  onRemove: ((d: DialogRecord) => void) | undefined;
  private readonly params: DialogParams;
  private readonly engine: Engine;
  private readonly tm: TransactionApi;
  private readonly logger: Logger;

  constructor(engine: Engine, tm: TransactionApi, logger: Logger, params: DialogParams) {
    this.engine = engine;
    this.tm = tm;
    this.logger = logger;
    this.params = params;
    this.keepalives = new Keepalives(this, tm, logger, params);
    this.profiles = new Profiles(profileNames(params.profilesNoValue), profileNames(params.profilesWithValue));
  }

  /** dlg_manage for a new INVITE; undefined past maxDialogs (logged and counted) or for a confirmed dialog's ids. */
  create(inv: InviteInfo): DialogRecord | undefined {
    const stale = this.table.byCaller(inv.callId, inv.fromTag);
    if (stale && stale.state >= 3) {
      // The router's one rate-limited log, as for malformed input: a peer can send these at will.
      const what = "dialog: an initial INVITE with a confirmed dialog's Call-ID and From-tag, not tracked";
      this.counters.idsInUse++;
      this.engine.transport.log.warn("ERR_DIALOG_IDS_IN_USE", what, { callId: inv.callId });
      return undefined;
    }
    if (stale) this.fail(stale, undefined); // a new attempt (after a 401, say) replaces the old one
    if (this.table.size >= this.params.maxDialogs) {
      this.counters.refused++;
      // Rate-limited: while the table is full, every new call is refused.
      this.engine.transport.log.warn("ERR_DIALOG_LIMIT", "dialog: table full, not tracked", {
        maxDialogs: this.params.maxDialogs,
        callId: inv.callId,
      });
      return undefined;
    }
    const ids = this.table.nextIds(inv.callId);
    const toUri = ownCopy(inv.toUri);
    const d: DialogRecord = {
      hEntry: ids.hEntry,
      hId: ids.hId,
      // Copies: the INVITE's values are slices of its head, which the dialog would keep alive.
      callId: ownCopy(inv.callId),
      fromUri: ownCopy(inv.fromUri),
      toUri,
      fromTag: ownCopy(inv.fromTag),
      toTag: "",
      fromHeader: ownCopy(inv.fromHeader),
      toHeader: ownCopy(inv.toHeader),
      inviteCseq: inv.cseq,
      state: 1,
      createdAt: Date.now(),
      startTs: 0,
      timeout: this.params.defaultTimeout,
      expiresAt: 0,
      nextKaAt: 0,
      caller: newSide(ownCopy(inv.contact), inv.cseq),
      callee: newSide(toUri, 0),
      vars: {},
      profiles: [],
    };
    this.table.add(d);
    this.counters.created++;
    this.expireIn(d, this.params.earlyTimeout * 1000);
    return d;
  }

  /**
   * Takes back a record kept elsewhere (a store, after a restart): into the table and its profiles,
   * the lifetime rearmed from expiresAt (one already past ends at once, as a timeout) and keepalives
   * from nextKaAt. False for an ended record or ids already taken. maxDialogs does not apply: these
   * calls are up already, and dropping one would lose its end (it only keeps new calls out).
   */
  restore(d: DialogRecord): boolean {
    if (d.state === 5 || this.table.byCaller(d.callId, d.fromTag)) return false;
    if (this.table.size === this.params.maxDialogs) {
      this.logger.warn(
        { code: "ERR_DIALOG_LIMIT", maxDialogs: this.params.maxDialogs },
        "dialog: the journal holds more live dialogs than maxDialogs: all are restored, new calls are refused until enough end",
      );
    }
    this.table.add(d);
    this.table.reserve(d.hEntry, d.hId);
    this.profiles.refile(d);
    this.expireIn(d, Math.max(0, d.expiresAt - Date.now()));
    return true;
  }

  /** A provisional with a To-tag: early. */
  early(d: DialogRecord, toTag: string, toHeader: string): void {
    if (d.state !== 1) return;
    d.state = 2;
    d.toTag = ownCopy(toTag);
    d.toHeader = ownCopy(toHeader);
    this.changed(d);
  }

  /** The 2xx: confirmed, the lifetime starts, dialog:start runs. Later 2xx (forking) are ignored. */
  confirm(d: DialogRecord, a: AnswerInfo): void {
    if (d.state > 2) return;
    d.state = 3;
    d.toTag = ownCopy(a.toTag);
    d.toHeader = ownCopy(a.toHeader);
    d.callee.contact = a.contact === undefined ? d.toUri : ownCopy(a.contact);
    // RFC 3261 §12.1: the caller's route set is the Record-Route reversed, the callee's as received.
    const routes = a.recordRoute.map(ownCopy);
    d.callee.routeSet = [...routes].reverse();
    d.caller.routeSet = routes;
    d.startTs = Math.floor(Date.now() / 1000);
    this.expireIn(d, d.timeout * 1000);
    this.keepalives.arm(d);
    this.counters.started++;
    this.run("dialog:start", new DialogEvent(d));
  }

  /** The ACK of the 2xx. */
  acked(d: DialogRecord): void {
    if (d.state !== 3) return;
    d.state = 4;
    this.changed(d);
  }

  /** A request within the dialog: its sender's CSeq is noted and the lifetime restarts (as Kamailio). */
  inDialog(d: DialogRecord, from: Direction, method: string, cseq: number): void {
    if (method === "ACK") {
      if (cseq === d.inviteCseq) this.acked(d);
      return;
    }
    const side = from === "caller" ? d.caller : d.callee;
    if (cseq > side.cseq) side.cseq = cseq;
    if (method === "BYE") this.end(d, "bye");
    else if (d.state >= 3 && d.state < 5) this.expireIn(d, d.timeout * 1000);
    else this.changed(d);
  }

  /** dlg_set_timeout: from now when confirmed, else from the 2xx. */
  setTimeout(d: DialogRecord, seconds: number): void {
    d.timeout = seconds;
    if (d.state >= 3 && d.state < 5) this.expireIn(d, seconds * 1000);
    else this.changed(d);
  }

  /** dlg_set_property ka-src / ka-dst. */
  keepalive(d: DialogRecord, side: Direction): void {
    (side === "caller" ? d.caller : d.callee).keepalive = true;
    if (d.state >= 3 && d.state < 5) this.keepalives.arm(d);
    this.changed(d);
  }

  /** A confirmed dialog ends: out of the table and the profiles, dialog:end runs. */
  end(d: DialogRecord, reason: DialogEndReason): void {
    if (!this.remove(d)) return;
    this.endedBy.set(reason, (this.endedBy.get(reason) ?? 0) + 1);
    this.run("dialog:end", new DialogEvent(d, reason));
  }

  /** An unconfirmed or early dialog fails (negative final, or no final in time): dialog:failed. */
  fail(d: DialogRecord, status: number | undefined, reason: DialogEndReason = "failed"): void {
    if (!this.remove(d)) return;
    this.counters.failed++;
    this.run("dialog:failed", new DialogEvent(d, reason, status));
  }

  /** dlg_bye: BYE to one side or both of a confirmed dialog. */
  bye(d: DialogRecord, side: "caller" | "callee" | "all"): void {
    for (const to of side === "all" ? (["caller", "callee"] as const) : [side]) {
      const sent = this.tm.requestWithin(requestTowards(d, to, "BYE"), (o) => {
        if (o.status === 0 || o.status >= 300) this.byeFailed(d, to, o.status, o.reason);
      });
      if (sent) this.counters.byesSent++;
      else this.byeFailed(d, to, 0, "no target");
    }
  }

  /** The dialog has ended here, but that side may not know: its call leg can stay up. */
  private byeFailed(d: DialogRecord, to: "caller" | "callee", status: number, reason: string): void {
    this.counters.byesFailed++;
    // Rate-limited: a peer that is down fails every BYE sent to it.
    this.engine.transport.log.warn("ERR_DIALOG_BYE_FAILED", "dialog: BYE not sent, or not answered 2xx", {
      callId: d.callId,
      to,
      status,
      reason,
    });
  }

  /** Dialogs by state name, for metrics. */
  byState(): Map<string, number> {
    const m = new Map<string, number>([
      ["unconfirmed", 0],
      ["early", 0],
      ["confirmed", 0],
    ]);
    for (const d of this.table.values()) {
      const n = STATE_NAMES[d.state];
      m.set(n, (m.get(n) ?? 0) + 1);
    }
    return m;
  }

  /** Once the listeners are open: the held timeouts run (their BYEs can be sent), keepalive rounds start (kaTimer > 0). */
  start(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const d of held) this.expired(d);
    this.keepalives.start();
  }

  stop(): void {
    this.keepalives.stop();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private remove(d: DialogRecord): boolean {
    if (d.state === 5) return false;
    d.state = 5;
    d.expiresAt = 0;
    d.nextKaAt = 0;
    const t = this.timers.get(d);
    if (t) clearTimeout(t);
    this.timers.delete(d);
    this.table.remove(d);
    this.profiles.removeAll(d);
    this.changed(d);
    this.onRemove?.(d);
    return true;
  }

  private expireIn(d: DialogRecord, ms: number): void {
    const old = this.timers.get(d);
    if (old) clearTimeout(old);
    d.expiresAt = Date.now() + ms;
    const t = setTimeout(() => this.expired(d), ms);
    t.unref();
    this.timers.set(d, t);
    this.changed(d);
  }

  /** A change of `d` that matters after a restart (vars, profiles, state, timers): to the store, if any. */
  changed(d: DialogRecord): void {
    this.store?.changed(d);
  }

  private expired(d: DialogRecord): void {
    this.timers.delete(d);
    if (this.held) {
      this.held.push(d);
      return;
    }
    if (d.state <= 2) {
      this.fail(d, 408, "early-timeout");
      return;
    }
    this.end(d, "timeout");
    if (this.params.sendBye) this.bye(d, "all");
  }

  private run(event: string, data: DialogEvent): void {
    const r = this.engine.runEvent(event, data);
    if (r instanceof Promise) r.catch((err: unknown) => this.engine.internalError(err, event));
  }
}
