// A record-routing stateful proxy with dialog tracking, for the dialog tests: every initial INVITE
// is managed and relayed to `upstream`, in-dialog requests follow their Route set, and each
// dialog:* event is pushed to a queue with the values the route saw ($dlg, $dlg_var).
import type { AppDefinition } from "../../../src/app.js";
import { defineApp } from "../../../src/app.js";
import type { DialogParams, DialogModuleInstance } from "../../../src/modules/dialog/index.js";
import type { EventContext, RequestContext } from "../../../src/route-contexts.js";
import { AsyncQueue } from "../../support/async-queue.js";
import { startRouter, type RunningRouter } from "../../support/router.js";

export interface Seen {
  readonly event: string;
  readonly reason: string | undefined;
  readonly status: number | undefined;
  readonly state: unknown;
  readonly callid: unknown;
  readonly toTag: unknown;
  readonly startTs: unknown;
  readonly ref: unknown;
  readonly vars: Record<string, unknown>;
}

export interface DialogRig {
  readonly router: RunningRouter;
  readonly events: AsyncQueue<Seen>;
  /** What request routes saw: method → $dlg(state) and $dlg_var(caller). */
  readonly requests: Array<{ method: string; state: unknown; caller: unknown }>;
  /** What the reply route saw of the INVITE's responses: status → $dlg(state). */
  readonly replies: Array<{ status: number; state: unknown }>;
  readonly module: DialogModuleInstance;
  stop(): Promise<void>;
}

/** The modules of the rig's app, so its contexts type ctx.dialog as present. */
export type DialogModules = { dialog: Partial<DialogParams> };

export interface RigOptions {
  readonly upstream: string;
  readonly dialog?: Partial<DialogParams>;
  readonly tm?: AppDefinition["tm"];
  /** Extra work in the request route of an initial INVITE, after manage(). */
  readonly onInvite?: (ctx: RequestContext<DialogModules>) => void;
  /** Replaces the recording dialog:start route. */
  readonly onStart?: (ctx: EventContext<DialogModules>) => void;
  readonly listen?: string[];
}

function seen(event: string, ctx: EventContext<DialogModules>): Seen {
  return {
    event,
    reason: ctx.dialog.event?.reason,
    status: ctx.dialog.event?.status,
    state: ctx.pv("$dlg(state)"),
    callid: ctx.pv("$dlg(callid)"),
    toTag: ctx.pv("$dlg(to_tag)"),
    startTs: ctx.pv("$dlg(start_ts)"),
    ref: ctx.pv("$dlg(ref)"),
    vars: { caller: ctx.pv("$dlg_var(caller)") },
  };
}

export async function startDialogRig(o: RigOptions): Promise<DialogRig> {
  const events = new AsyncQueue<Seen>();
  const requests: DialogRig["requests"] = [];
  const replies: DialogRig["replies"] = [];
  const app = defineApp({
    tm: o.tm ?? {},
    metrics: { bindAddr: "127.0.0.1:0" },
    reply(ctx) {
      if (ctx.msg.method === "INVITE") replies.push({ status: ctx.msg.status, state: ctx.pv("$dlg(state)") });
    },
    modules: { dialog: o.dialog ?? {} },
    request(ctx) {
      if (ctx.hasToTag()) {
        requests.push({ method: ctx.msg.method, state: ctx.pv("$dlg(state)"), caller: ctx.pv("$dlg_var(caller)") });
        if (ctx.rr.looseRoute()) ctx.tm.relay();
        return ctx.exit();
      }
      if (ctx.isMethod("INVITE")) {
        ctx.dialog.manage();
        ctx.setPv("$dlg_var(caller)", ctx.pv("$fU"));
        o.onInvite?.(ctx);
      }
      ctx.rr.recordRoute();
      ctx.tm.relay(o.upstream);
    },
    events: {
      "dialog:start"(ctx) {
        if (o.onStart) o.onStart(ctx);
        else events.push(seen("dialog:start", ctx));
      },
      "dialog:end"(ctx) {
        events.push(seen("dialog:end", ctx));
      },
      "dialog:failed"(ctx) {
        events.push(seen("dialog:failed", ctx));
      },
    },
  });
  const router = await startRouter(app, o.listen ?? ["udp:127.0.0.1:0"]);
  const module = router.internals.modules.get("dialog") as DialogModuleInstance;
  return { router, events, requests, replies, module, stop: () => router.stop() };
}
