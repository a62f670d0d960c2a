// The dialog module wired to the router: a transaction observer drives the dialogs (requests within
// a dialog, responses to the INVITE, finals sent upstream, transactions ending), ctx.dialog and the
// $dlg / $dlg_var pseudo-variables read the dialog of the current route run, and the dialog:* event
// routes run with theirs. Which dialog a route run belongs to is decided once per context.
import { ownCopy } from "../../common/own-copy.js";
import { EvsipError } from "../../errors.js";
import type { ModuleHost, ModuleInstance } from "../../core/module.js";
import type { RouteContext } from "../../core/context.js";
import type { TransactionObserver } from "../../core/transaction-user.js";
import type { PvValue } from "../../core/pv-registry.js";
import type { DialogApi, DialogParams, DialogRecord } from "./api-types.js";
import { ContextDialogApi, type DialogCore } from "./context-api.js";
import { DialogEvent, Dialogs } from "./dialogs.js";
import { DialogStore } from "./dialog-store.js";

type Tx = Parameters<NonNullable<TransactionObserver["ended"]>>[0];

/** An INVITE transaction's way to its dialog; `dialog` is cut when the dialog ends. */
interface TxLink {
  dialog: DialogRecord | undefined;
  /** INVITE transactions of the dialog alive now (a spiral has two). */
  live: number;
}
type Msg = RouteContext["msg"];

/** A running dialog module; `dialogs` is exposed for stats and tests. */
export interface DialogModuleInstance extends ModuleInstance<DialogApi> {
  readonly dialogs: Dialogs;
}

/** The dialog of an initial INVITE (no To-tag), by Call-ID, From-tag and CSeq. */
function inviteDialog(dialogs: Dialogs, msg: Msg): DialogRecord | undefined {
  if (msg.to.tag !== undefined) return undefined;
  const d = dialogs.table.byCaller(msg.callId, msg.from.tag);
  return d && d.inviteCseq === msg.cseq.seq ? d : undefined;
}

function varBytes(vars: Record<string, string>): number {
  let n = 0;
  for (const k in vars) n += Buffer.byteLength(k) + Buffer.byteLength(vars[k] ?? "");
  return n;
}

export function createDialogModule(host: ModuleHost, params: DialogParams): DialogModuleInstance {
  const dialogs = new Dialogs(host.engine, host.tm, host.logger, params);
  /** Route runs already matched to their dialog (null: none). */
  const ofCtx = new WeakMap<RouteContext, DialogRecord | null>();
  /** INVITE transactions matched to their dialog (null: none), through the dialog's link. */
  const ofTx = new WeakMap<Tx, TxLink | null>();
  const links = new Map<DialogRecord, TxLink>();
  const linkOf = (d: DialogRecord): TxLink => {
    let l = links.get(d);
    if (!l) links.set(d, (l = { dialog: d, live: 0 }));
    return l;
  };
  // An INVITE transaction outlives its dialog by up to 64·T1 (Timer L): cutting the link when the
  // dialog ends keeps ended dialogs from piling up in memory meanwhile.
  dialogs.onRemove = (d) => {
    const l = links.get(d);
    if (l) l.dialog = undefined;
    links.delete(d);
  };

  function dialogOf(ctx: RouteContext): DialogRecord | undefined {
    if (ctx.eventData instanceof DialogEvent) return ctx.eventData.dialog;
    const known = ofCtx.get(ctx);
    if (known !== undefined) return known ?? undefined;
    let d: DialogRecord | undefined;
    if (ctx.kind !== "event") {
      try {
        d = dialogs.table.within({ callId: ctx.msg.callId, fromTag: ctx.msg.from.tag, toTag: ctx.msg.to.tag })?.dialog;
        // A reply route of the INVITE before a To-tag was kept, a failure or continue route.
        if (!d && ctx.msg.method === "INVITE") {
          const c = dialogs.table.byCaller(ctx.msg.callId, ctx.msg.from.tag);
          d = c && c.inviteCseq === ctx.msg.cseq.seq ? c : undefined;
        }
      } catch {
        d = undefined; // a malformed header: no dialog
      }
    }
    ofCtx.set(ctx, d ?? null);
    return d;
  }

  /** Counts `st` among `d`'s INVITE transactions in this process. */
  function linkTx(st: Tx, d: DialogRecord): void {
    const l = linkOf(d);
    l.live++;
    ofTx.set(st, l);
  }

  /** Whether an INVITE transaction of `d` lives in this process (none after a restart lost it). */
  const hasLiveTx = (d: DialogRecord): boolean => (links.get(d)?.live ?? 0) > 0;

  function txDialog(st: Tx): DialogRecord | undefined {
    const l = ofTx.get(st);
    if (l !== undefined) return l?.dialog;
    const d = st.method === "INVITE" ? inviteDialog(dialogs, st.msg) : undefined;
    if (d) linkTx(st, d);
    else ofTx.set(st, null);
    return d;
  }

  /** A provisional with a To-tag or a 2xx of the dialog's INVITE. */
  function answered(d: DialogRecord, res: Msg): void {
    const toTag = res.to.tag;
    if (d.state > 2 || toTag === undefined) return;
    if (res.status < 200) {
      if (d.state === 1) dialogs.early(d, toTag, res.header("to") ?? "");
      return;
    }
    // Contact and Record-Route are read from the 2xx only, as received: once per call.
    dialogs.confirm(d, {
      toTag,
      toHeader: res.header("to") ?? "",
      contact: res.header("contact"),
      recordRoute: res.headerValues("record-route"),
    });
  }

  const observer: TransactionObserver = {
    request(ctx) {
      const msg = ctx.msg;
      if (msg.to.tag === undefined) {
        // A spiral: the tracked INVITE came back; its route run shares the dialog.
        if (msg.method === "INVITE") {
          const d = inviteDialog(dialogs, msg);
          if (d && d.state <= 2) ofCtx.set(ctx, d);
        }
        return;
      }
      const m = dialogs.table.within({ callId: msg.callId, fromTag: msg.from.tag, toTag: msg.to.tag });
      if (!m) {
        dialogs.counters.unknownInDialog++; // not tracked, or already ended (a late or spiralled BYE)
        return;
      }
      ofCtx.set(ctx, m.dialog);
      dialogs.inDialog(m.dialog, m.from, msg.method, msg.cseq.seq);
    },
    response(st, res) {
      if (st.method !== "INVITE" || res.status <= 100 || res.status >= 300) return;
      const d = txDialog(st);
      if (d) answered(d, res);
    },
    strayResponse(res) {
      // A dialog restored before its 2xx (its INVITE transaction died with the old process) is
      // confirmed by the callee's retransmitted 2xx.
      if (res.cseq.method !== "INVITE" || res.status <= 100) return;
      const d = dialogs.table.byCaller(res.callId, res.from.tag);
      if (!d || d.inviteCseq !== res.cseq.seq || hasLiveTx(d)) return;
      // A stray negative final is left alone: after a parallel fork it may be one branch's answer
      // while another's 200 is still to come; earlyTimeout fails the dialog if none does.
      if (res.status < 300) answered(d, res);
    },
    sent(st, status) {
      if (st.method !== "INVITE") return;
      const d = txDialog(st);
      if (d && status >= 300 && d.state <= 2) dialogs.fail(d, status);
    },
    ended(st) {
      const l = ofTx.get(st);
      if (!l) return;
      l.live--;
      const d = l.dialog;
      if (d && d.state <= 2) dialogs.fail(d, 408); // the INVITE ended without a final we saw
    },
  };
  host.tm.observe(observer);
  // An initial INVITE re-sent once its dialog is confirmed: tm absorbs it while the INVITE's
  // transaction lives (RFC 6026), but a restart loses the transaction and the journal keeps the
  // dialog. The route would take it for a new call, and answer or relay it again.
  host.engine.addRequestAbsorber((msg) => {
    if (msg.method !== "INVITE") return false;
    const d = inviteDialog(dialogs, msg);
    if (d === undefined || d.state < 3) return false;
    dialogs.counters.invitesAbsorbed++;
    host.logger.debug({ callId: msg.callId }, "dialog: initial INVITE re-sent after its dialog was confirmed, absorbed");
    return true;
  });

  // The same INVITE re-sent before its dialog was confirmed: the old process relayed it, and the
  // callee may be answering. Refused with a 503 under overload or a drain, its caller would give up
  // while the callee's 200 still confirms (and bills) the dialog; it is not new work, so admission
  // lets it through, and the route relays it again (the same branch: the callee sees a re-send).
  // Only while no transaction of the dialog lives in this process: a copy with another branch while
  // one does (a spiral, or a forged copy) is shed like any new work.
  host.engine.admission.addAcceptedWork((msg) => {
    if (msg.method !== "INVITE") return false;
    const d = inviteDialog(dialogs, msg);
    if (d === undefined || d.state > 2 || hasLiveTx(d)) return false;
    dialogs.counters.earlyInvitesAdmitted++;
    return true;
  });

  function manage(ctx: RouteContext): boolean {
    const msg = ctx.msg;
    if (ctx.kind !== "request" || msg.method !== "INVITE" || msg.to.tag !== undefined) {
      host.logger.debug({ method: msg.method }, "dlg_manage: not an initial INVITE in the request route");
      return false;
    }
    const known = ofCtx.get(ctx);
    if (known) {
      if (hasLiveTx(known)) {
        dialogs.counters.spirals++; // its INVITE came back through us: the first transaction lives
        return true;
      }
      // The INVITE re-sent after a restart, its transaction lost with the old process: it gets one
      // here, linked as a new dialog's is, so that the route's answer, a refusal included, reaches
      // the dialog (a refusal fails it, and a stray 200 later cannot start it).
      if (!host.tm.newTran(ctx)) return false;
      if (ctx.t) linkTx(ctx.t, known);
      return true;
    }
    // Kamailio's dialog lives on tm: the transaction exists from here on, so every final response
    // (sl.sendReply included, which then goes statefully) and the transaction's end reach the observer.
    if (!host.tm.newTran(ctx)) return false;
    const d = dialogs.create({
      callId: msg.callId,
      fromUri: msg.from.uri.raw,
      toUri: msg.to.uri.raw,
      fromTag: msg.from.tag ?? "",
      fromHeader: msg.header("from") ?? "",
      toHeader: msg.header("to") ?? "",
      cseq: msg.cseq.seq,
      contact: msg.header("contact") ?? msg.from.uri.raw,
    });
    if (!d) return false;
    ofCtx.set(ctx, d);
    if (ctx.t) linkTx(ctx.t, d);
    return true;
  }

  function setVar(d: DialogRecord | undefined, name: string, value: string | null): boolean {
    if (!d) return false;
    if (value === null) {
      delete d.vars[name];
      dialogs.changed(d);
      return true;
    }
    const old = d.vars[name];
    const bytes = varBytes(d.vars) - (old === undefined ? 0 : Buffer.byteLength(name) + Buffer.byteLength(old));
    if (bytes + Buffer.byteLength(name) + Buffer.byteLength(value) > params.maxVarBytes) {
      dialogs.counters.varRefused++;
      host.logger.warn(
        {
          code: "ERR_DIALOG_VAR_TOO_LARGE",
          callId: d.callId,
          name,
          bytes: Buffer.byteLength(value),
          maxVarBytes: params.maxVarBytes,
        },
        "dialog: $dlg_var not set, the dialog's variables would pass maxVarBytes",
      );
      return false;
    }
    // Own copies: maxVarBytes bounds what a dialog holds, and a slice of a header would hold its head.
    d.vars[ownCopy(name)] = ownCopy(value);
    dialogs.changed(d);
    return true;
  }

  const attrs: Record<string, (d: DialogRecord) => PvValue> = {
    h_id: (d) => d.hId,
    h_entry: (d) => d.hEntry,
    callid: (d) => d.callId,
    from_uri: (d) => d.fromUri,
    to_uri: (d) => d.toUri,
    from_tag: (d) => d.fromTag,
    to_tag: (d) => d.toTag || null,
    state: (d) => d.state,
    start_ts: (d) => d.startTs,
    ref: (d) => (d.state < 5 ? 1 + (links.get(d)?.live ?? 0) : 0),
    timeout: (d) => d.timeout,
  };
  host.registerPv("dlg", {
    get: (ctx, arg) => {
      const read = arg === undefined ? undefined : attrs[arg];
      if (!read) throw new EvsipError("ERR_PV_UNKNOWN", `$dlg(${String(arg)}): unknown attribute`);
      const d = dialogOf(ctx);
      return d ? read(d) : null;
    },
  });
  host.registerPv("dlg_var", {
    get: (ctx, arg) => dialogOf(ctx)?.vars[arg ?? ""] ?? null,
    set: (ctx, arg, v) => {
      setVar(dialogOf(ctx), arg ?? "", v === null ? null : String(v));
    },
  });

  const core: DialogCore = { dialogs, dialogOf, manage, setVar };
  const store = params.dialogDir ? new DialogStore(params.dialogDir, host.logger, () => dialogs.table.values()) : undefined;
  let restored = 0;

  /**
   * Takes back the journal's live dialogs. One not yet confirmed lost its INVITE transaction with
   * the process; it waits, up to its early timeout, for the callee's 2xx, which now comes as a
   * stray response (strayResponse above), so a call answered across the restart is still tracked.
   */
  function recover(s: DialogStore): void {
    const records = s.recover();
    for (const d of records) if (dialogs.restore(d)) restored++;
    s.open(params.dialogSyncInterval);
    dialogs.store = s;
    host.engine.transport.beforeSend(() => s.flush());
    host.logger.info(
      {
        dir: params.dialogDir,
        restored,
        dropped: records.length - restored,
        profiles: Object.fromEntries(dialogs.profiles.sizes()),
      },
      "dialog store: live dialogs restored",
    );
  }

  return {
    dialogs,
    init() {
      if (store) recover(store);
    },
    started() {
      dialogs.start();
    },
    api: (ctx) => new ContextDialogApi(core, ctx),
    stop() {
      dialogs.stop();
      store?.close();
    },
    stats() {
      const c = dialogs.counters;
      return {
        activeByState: dialogs.byState(),
        created: c.created,
        started: c.started,
        failed: c.failed,
        endedByReason: new Map(dialogs.endedBy),
        refused: c.refused,
        spirals: c.spirals,
        invitesAbsorbed: c.invitesAbsorbed,
        earlyInvitesAdmitted: c.earlyInvitesAdmitted,
        unknownInDialog: c.unknownInDialog,
        varRefused: c.varRefused,
        keepalivesSent: c.kaSent,
        keepaliveFailures: c.kaFailures,
        byesSent: c.byesSent,
        byesFailed: c.byesFailed,
        idsInUse: c.idsInUse,
        restored,
        storeWriteFailures: store?.counters.storeWriteFailures ?? 0,
        storeDamaged: store?.counters.storeDamaged ?? 0,
        profileSizeByProfile: dialogs.profiles.sizes(),
      };
    },
  };
}
