// ctx.evapi.decide() and ctx.evapi.applyDecision(): a decision message checked, authorised (the
// grants hook), and applied to its transaction in one call. decide() continues the suspended
// transaction the message names (t_continue with a route function); applyDecision() acts on the
// request route's own transaction. A refused decision is counted, logged (rate-limited), returned
// with its code, and, when it came from a client, answered to that client with a coded notice
// echoing tindex/tlabel, so the application learns its answer did nothing.
import type { ErrorCode } from "../../../errors.js";
import type { RouteContext } from "../../../core/context.js";
import type { EvapiConnection } from "../connection.js";
import { evapiEventOf } from "../event-data.js";
import type { EvapiModule } from "../module-instance.js";
import { bump } from "../stats.js";
import { applyDecision, hasDlgVar, type ApplyOptions } from "./apply-decision.js";
import { parseDecision, type DecisionAction, type ParsedDecision } from "./decision.js";

/** What decide() and applyDecision() did. */
export type DecisionResult =
  | { readonly ok: true; readonly action: DecisionAction }
  | { readonly ok: false; readonly code: ErrorCode; readonly detail: string };

/** Options of ctx.evapi.decide(). */
export interface DecideOptions extends ApplyOptions {
  /** The decision: JSON text or an object. Default: the received message (`ctx.evapi.msg`). */
  readonly msg?: string | object;
}

/** Applies the decision in `opts.msg` (default: the event's message) to the transaction it names. */
export function decide(mod: EvapiModule, ctx: RouteContext, opts: DecideOptions | undefined): DecisionResult {
  const ev = evapiEventOf(ctx.eventData);
  const client = ev?.client;
  const source = opts?.msg ?? ev?.msg;
  let value: unknown = source;
  if (typeof source === "string") {
    try {
      value = JSON.parse(source);
    } catch {
      return refuse(mod, client, undefined, "ERR_EVAPI_BAD_DECISION", "the decision is not JSON");
    }
  }
  if (client && mod.subscriptions.grantsOf(client).mayDecide === false) {
    return refuse(mod, client, value, "ERR_EVAPI_DECIDE_FORBIDDEN", "this connection may not send decisions");
  }
  const d = parseDecision(value, true);
  if ("ok" in d) return refuse(mod, client, value, d.code, d.detail);
  if (d.dlgVars.length > 0 && !hasDlgVar(ctx)) {
    return refuse(mod, client, value, "ERR_EVAPI_BAD_DECISION", "dlgVars needs the dialog module");
  }
  const tm = mod.tm;
  const found = tm.continue(d.index as number | string, d.label as number | string, (c) => applyDecision(c, d, tm, opts));
  if (!found) {
    return refuse(
      mod,
      client,
      value,
      "ERR_EVAPI_UNKNOWN_TRANSACTION",
      `no suspended transaction ${String(d.index)}:${String(d.label)} (unknown, finished, timed out or already continued)`,
    );
  }
  return applied(mod, d);
}

/** Applies `decision` to the request route's own transaction (after `await ctx.evapi.request()`). */
export function applyOwn(mod: EvapiModule, ctx: RouteContext, decision: unknown, opts: ApplyOptions | undefined): DecisionResult {
  const d = parseDecision(decision, false);
  if ("ok" in d) return refuse(mod, undefined, decision, d.code, d.detail);
  if (d.dlgVars.length > 0 && !hasDlgVar(ctx))
    return refuse(mod, undefined, decision, "ERR_EVAPI_BAD_DECISION", "dlgVars needs the dialog module");
  const r = applyDecision(ctx, d, mod.tm, opts);
  if (r instanceof Promise)
    r.catch((err: unknown) => ctx.log.error({ err, code: "ERR_ROUTE_THREW" }, "evapi decision allow route failed"));
  return applied(mod, d);
}

function applied(mod: EvapiModule, d: ParsedDecision): DecisionResult {
  mod.service.stats.decisionsApplied++;
  return { ok: true, action: d.action };
}

function refuse(
  mod: EvapiModule,
  c: EvapiConnection | undefined,
  value: unknown,
  code: ErrorCode,
  detail: string,
): DecisionResult {
  bump(mod.service.stats.errors, code);
  const ids = idsOf(value);
  mod.log.warn(code, "evapi decision refused", { conidx: c?.conidx, detail, ...ids });
  if (c?.connected) mod.service.push(c, mod.encode(JSON.stringify({ evsip: "error", code, detail, ...ids })));
  return { ok: false, code, detail };
}

/** tindex/tlabel of a refused decision, echoed when they are plain values. */
function idsOf(v: unknown): { tindex?: unknown; tlabel?: unknown } {
  if (typeof v !== "object" || v === null) return {};
  const { tindex, tlabel } = v as Record<string, unknown>;
  const plain = (x: unknown): boolean => typeof x === "number" || (typeof x === "string" && x.length <= 20);
  return { ...(plain(tindex) ? { tindex } : {}), ...(plain(tlabel) ? { tlabel } : {}) };
}
